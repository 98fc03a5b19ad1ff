package vmmap

import (
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	const unit = 0x10000
	tests := []struct {
		name   string
		before string
		after  string
		want   []string // kind and start offset in units
	}{
		{"no change", "AA.B", "AA.B", nil},
		{"heap A destroyed", "ABAB", ".B.B", []string{"vanished 0", "vanished 2"}},
		{"heap appears in a hole", "A..B", "AC.B", []string{"appeared 1"}},
		{"committed more", "Aa..", "AA..", []string{"changed 1"}},
		{"grew and shrank", "A.BB", "AABb", nil}, // per-region layout: each unit is its own block
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := layout(t, tt.before, 0, unit), layout(t, tt.after, 0, unit)
			if tt.name == "grew and shrank" {
				// Make blocks span several regions: A grows into the
				// hole, B's second region is given back.
				a.Regions = []Region{
					{Start: 0, End: unit, Type: Heap, State: StateCommitted, Owner: "heap A"},
					freeRegion(unit, 2*unit),
					{Start: 2 * unit, End: 4 * unit, Type: Heap, State: StateCommitted, Owner: "heap B"},
				}
				b.Regions = []Region{
					{Start: 0, End: 2 * unit, Type: Heap, State: StateCommitted, Owner: "heap A"},
					{Start: 2 * unit, End: 3 * unit, Type: Heap, State: StateCommitted, Owner: "heap B"},
					freeRegion(3*unit, 4*unit),
				}
				tt.want = []string{"grew 0", "shrank 2"}
			}
			var got []string
			for _, c := range Diff(a, b) {
				start := c.After.Start
				if c.Kind == Vanished {
					start = c.Before.Start
				}
				got = append(got, c.Kind.String()+" "+string(rune('0'+start/unit)))
				if !strings.HasPrefix(c.String(), c.Kind.String()) {
					t.Errorf("Change.String() = %q", c.String())
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBlocksMergeWatermark: a reservation whose committed part grew is one
// block before and after, with more committed bytes.
func TestBlocksMergeWatermark(t *testing.T) {
	mk := func(split uint64) *Snapshot {
		return &Snapshot{Regions: []Region{
			{Start: 0x10000, End: split, Type: Heap, State: StateCommitted, Committed: split - 0x10000, Owner: "h"},
			{Start: split, End: 0x50000, Type: Heap, State: StateReserved, Owner: "h", Base: 0x10000},
		}}
	}
	a, b := mk(0x20000), mk(0x30000)
	if n := len(Blocks(a)); n != 1 {
		t.Fatalf("%d blocks, want 1", n)
	}
	d := Diff(a, b)
	if len(d) != 1 || d[0].Kind != Changed || d[0].Before.Committed != 0x10000 || d[0].After.Committed != 0x20000 {
		t.Errorf("Diff = %+v", d)
	}
}

// TestDiffCommitted checks the thresholds for committed-only changes: RSS
// that drifts by a few pages is no change, a moved watermark is.
func TestDiffCommitted(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name          string
		before, after uint64 // committed bytes of the one block
		gran          uint64
		want          string // "" for no change
	}{
		{"equal", 5 * mib, 5 * mib, 4096, ""},
		{"RSS drift of 2%", 5836 << 10, 5734 << 10, 4096, ""},
		{"below one granule though over 10%", 0x1000, 0x1800, 4096, ""},
		{"over a granule, under 10%", 100 * mib, 95 * mib, 4096, ""},
		{"exactly 10% and a granule", 10 * 0x1000, 9 * 0x1000, 4096, "changed  0x10000-0x6410000 Heap h, committed 40 KiB -> 36 KiB"},
		{"watermark moved", 1 * mib, 3 * mib, 4096, "changed  0x10000-0x6410000 Heap h, committed 1 MiB -> 3 MiB"},
		{"all given back", 2 * mib, 0, 4096, "changed  0x10000-0x6410000 Heap h, committed 2 MiB -> 0 B"},
		{"Windows granule", 0, 0x8000, 0x10000, ""},
		{"unknown granule is 4 KiB", 0, 0x1000, 0, "changed  0x10000-0x6410000 Heap h, committed 0 B -> 4 KiB"},
	}
	mk := func(committed, gran uint64) *Snapshot {
		return &Snapshot{Granularity: gran, Regions: []Region{
			{Start: 0x10000, End: 0x10000 + 100*mib, Type: Heap, State: StateCommitted, Committed: committed, Owner: "h"},
		}}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(mk(tt.before, tt.gran), mk(tt.after, tt.gran))
			var got string
			if len(d) > 1 {
				t.Fatalf("Diff = %v", d)
			}
			if len(d) == 1 {
				got = d[0].String()
			}
			if got != tt.want {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDiffOwnerChanged: a block that changed hands says who held it.
func TestDiffOwnerChanged(t *testing.T) {
	mk := func(owner string) *Snapshot {
		return &Snapshot{Regions: []Region{{Start: 0x10000, End: 0x20000, Type: Heap, State: StateCommitted, Owner: owner}}}
	}
	d := Diff(mk("heap A"), mk("heap B"))
	want := "changed  0x10000-0x20000 Heap heap B (was Heap heap A), committed 0 B -> 0 B"
	if len(d) != 1 || d[0].String() != want {
		t.Errorf("Diff = %v, want %q", d, want)
	}
}
