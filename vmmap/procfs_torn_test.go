package vmmap

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// changingFS serves torn smaps text for the first torn reads of 1/smaps,
// then a consistent one: a process mapping memory while it is read.
// (Not embedding MapFS: its ReadFile would bypass Open.)
type changingFS struct {
	files fstest.MapFS
	torn  int
	reads int
}

const (
	smapsGood = "00400000-00401000 r-xp 00000000 00:00 0 /bin/x\nSize: 4 kB\nRss: 4 kB\n" +
		"00500000-00502000 rw-p 00000000 00:00 0 \nSize: 8 kB\nRss: 4 kB\n"
	// The second read of the kernel's buffer started after a mapping
	// below appeared: the list goes back down.
	smapsTorn = "00500000-00502000 rw-p 00000000 00:00 0 \nSize: 8 kB\nRss: 4 kB\n" +
		"00400000-00401000 r-xp 00000000 00:00 0 /bin/x\nSize: 4 kB\nRss: 4 kB\n"
)

func (c *changingFS) Open(name string) (fs.File, error) {
	if name == "1/smaps" {
		c.reads++
		text := smapsGood
		if c.reads <= c.torn {
			text = smapsTorn
		}
		return fstest.MapFS{name: {Data: []byte(text)}}.Open(name)
	}
	return c.files.Open(name)
}

func procWith(torn int, smaps string) *changingFS {
	c := &changingFS{torn: torn, files: fstest.MapFS{
		"1/stat": {Data: []byte("1 (x) S 0 1 1")},
	}}
	if smaps != "" {
		c.files["2/smaps"] = &fstest.MapFile{Data: []byte(smaps)}
		c.files["2/stat"] = &fstest.MapFile{Data: []byte("2 (y) S 0 1 1")}
	}
	return c
}

// TestSnapshotRereadsTornMaps: issue 13, defect 9 — a busy process's map
// failed with "overlaps or precedes"; it is read again until consistent,
// and a map that stays torn is an error, never a snapshot.
func TestSnapshotRereadsTornMaps(t *testing.T) {
	for _, tt := range []struct {
		torn    int
		wantErr bool
	}{{0, false}, {1, false}, {tornRetries - 1, false}, {tornRetries, true}} {
		fsys := procWith(tt.torn, "")
		s, err := Proc{FS: fsys}.Snapshot("1")
		if (err != nil) != tt.wantErr {
			t.Errorf("%d torn reads: err %v, want error %v", tt.torn, err, tt.wantErr)
			continue
		}
		if err == nil && s.VMAs != 2 {
			t.Errorf("%d torn reads: %d mappings, want 2", tt.torn, s.VMAs)
		}
		if err != nil && !errors.Is(err, ErrParse) {
			t.Errorf("%d torn reads: %v is not ErrParse", tt.torn, err)
		}
	}
}

// TestSnapshotRejectsImpossibleCounters: issue 13, defect 10 — counters
// larger than their mapping and a stat file of another pid are errors.
func TestSnapshotRejectsImpossibleCounters(t *testing.T) {
	for _, tt := range []struct {
		name, smaps, pid, want string
	}{
		{"rss larger than the mapping", "00400000-00401000 rw-p 00000000 00:00 0 \nSize: 4 kB\nRss: 18014398509481983 kB\n", "2", "has Rss of"},
		{"swap larger than the mapping", "00400000-00401000 rw-p 00000000 00:00 0 \nSwap: 8 kB\n", "2", "has Swap of"},
		{"stat of another pid", smapsGood, "3", "names pid 2"},
	} {
		fsys := procWith(0, tt.smaps)
		if tt.pid == "3" {
			fsys.files["3/stat"] = fsys.files["2/stat"]
			fsys.files["3/smaps"] = fsys.files["2/smaps"]
		}
		_, err := Proc{FS: fsys}.Snapshot(tt.pid)
		if err == nil || !errors.Is(err, ErrParse) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want ErrParse with %q", tt.name, err, tt.want)
		}
	}
}
