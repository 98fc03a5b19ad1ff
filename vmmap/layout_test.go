package vmmap

import (
	"testing"
	"time"
)

// TestLayoutFromText: where PROCMAP_QUERY does not answer (files that are
// not a live maps, kernels before 6.11), Proc.Layout reads the text of
// maps: the regions of the full snapshot, without its counters.
func TestLayoutFromText(t *testing.T) {
	for _, name := range []string{"go", "anon"} {
		t.Run(name, func(t *testing.T) {
			full := fixtureSnapshot(t, name)
			p := NewProc("testdata/" + name + "/proc")
			p.Now, p.Layout = func() time.Time { return full.Taken }, true
			lay, err := p.Snapshot(fixtures(t)[name])
			if err != nil {
				t.Fatal(err)
			}
			if len(lay.Regions) != len(full.Regions) {
				t.Fatalf("%d regions, the full snapshot %d", len(lay.Regions), len(full.Regions))
			}
			for i, r := range lay.Regions {
				f := full.Regions[i]
				if r.Start != f.Start || r.End != f.End || r.Path != f.Path || r.Type != f.Type || r.RSS != 0 {
					t.Fatalf("region %d: %+v, full %+v", i, r, f)
				}
			}
		})
	}
}
