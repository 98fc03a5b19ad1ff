package render

import (
	"slices"

	"github.com/zebra-heap/zebra/internal/visible"
	"github.com/zebra-heap/zebra/vmmap"
)

// Text in pictures and pages that a process chooses (its name, the paths
// it maps, heap and thread names) or that the caller built from it (a
// title "zebra map: " + Source) is shown through internal/visible before
// it is drawn or escaped for HTML and XML: a control byte would otherwise
// reach the page raw (XML forbids most of them) and an invalid byte would
// become U+FFFD, hiding what was there.

// visibleOptions returns o with its title and owners escaped, so that the
// owners still match the regions of vmmap.Visible's snapshots.
func visibleOptions(o Options) Options {
	o.Title = visible.String(o.Title)
	if o.Owners != nil {
		o.Owners = slices.Clone(o.Owners)
		for i, n := range o.Owners {
			o.Owners[i] = visible.String(n)
		}
	}
	return o
}

// visibleReport returns r with every text and snapshot escaped; r itself
// is not modified.
func visibleReport(r Report) Report {
	r.Title, r.Note = visible.String(r.Title), visible.String(r.Note)
	r.Options = visibleOptions(r.Options)
	secs := make([]Section, len(r.Sections))
	for i, s := range r.Sections {
		s.Caption, s.Note = visible.String(s.Caption), visible.String(s.Note)
		snaps := make([]Labelled, len(s.Snapshots))
		for j, l := range s.Snapshots {
			snaps[j] = Labelled{visible.String(l.Label), vmmap.Visible(l.Snapshot)}
		}
		s.Snapshots = snaps
		tables := make([]Table, len(s.Tables))
		for j, t := range s.Tables {
			t.Caption = visible.String(t.Caption)
			t.Header = visibleAll(t.Header)
			rows := make([][]string, len(t.Rows))
			for k, row := range t.Rows {
				rows[k] = visibleAll(row)
			}
			t.Rows = rows
			tables[j] = t
		}
		s.Tables = tables
		secs[i] = s
	}
	r.Sections = secs
	return r
}

func visibleAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = visible.String(s)
	}
	return out
}
