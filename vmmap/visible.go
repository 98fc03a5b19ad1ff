package vmmap

import "github.com/zebra-heap/zebra/internal/visible"

// Visible returns s as a person may be shown it: its Source, Command and
// every region's Path and Owner with control characters, invisible code
// points and invalid UTF-8 escaped (\x1b, \u202e; see internal/visible),
// because a process chooses its own name and the names of the files it
// maps, and those bytes would otherwise reach the viewer's terminal or page
// raw. It returns s itself when nothing needs escaping, else a copy; s is
// never modified. The terminal views, Change.String and the pictures use
// it; WriteJSON and WriteCSV keep the raw bytes.
func Visible(s *Snapshot) *Snapshot {
	if s == nil {
		return nil
	}
	var c *Snapshot
	own := func() {
		if c == nil {
			cp := *s
			cp.Regions = append([]Region(nil), s.Regions...)
			c = &cp
		}
	}
	if v := visible.String(s.Source); v != s.Source {
		own()
		c.Source = v
	}
	if v := visible.String(s.Command); v != s.Command {
		own()
		c.Command = v
	}
	for i, r := range s.Regions {
		p, o := visible.String(r.Path), visible.String(r.Owner)
		if p != r.Path || o != r.Owner {
			own()
			c.Regions[i].Path, c.Regions[i].Owner = p, o
		}
	}
	if c == nil {
		return s
	}
	return c
}
