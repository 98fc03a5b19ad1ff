package vmmap

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLayout: a layout snapshot has the regions of a full one, types and
// owners included, without the smaps counters.
func TestLayout(t *testing.T) {
	cmd, stop := startChild(t)
	defer stop()
	full, err := Process(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	lay, err := Layout(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := lay.Validate(); err != nil {
		t.Fatal(err)
	}
	strip := func(s *Snapshot) []Region {
		var out []Region
		for _, r := range s.Regions {
			out = append(out, Region{Start: r.Start, End: r.End, Type: r.Type, State: r.State, Perms: r.Perms, Path: r.Path, Owner: r.Owner})
		}
		return out
	}
	if diff := cmp.Diff(strip(full), strip(lay)); diff != "" {
		t.Errorf("layout and full snapshot differ (-full +layout):\n%s", diff)
	}
	for _, r := range lay.Regions {
		if r.RSS != 0 || r.PSS != 0 || r.Flags != nil {
			t.Fatalf("a layout has counters: %+v", r)
		}
	}
}
