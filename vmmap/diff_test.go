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
