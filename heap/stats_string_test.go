package heap_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/heap"
)

func TestStatsString(t *testing.T) {
	tests := []struct {
		name string
		s    heap.Stats
		want string
	}{
		{"zero", heap.Stats{},
			"reserved 0 B, committed 0 B, resident 0 B, in use 0 B in 0 blocks (0 huge), free 0 B (largest 0 B), 0 segments in 0 ranges, metadata 0 B reserved, 0 B committed, 0 B resident"},
		{"one of each", heap.Stats{Reserved: 1 << 20, Committed: 64 << 10, Resident: 48 << 10, InUse: 100, Free: 60 << 10, Largest: 56 << 10,
			Blocks: 1, HugeBlocks: 0, Segments: 1, Ranges: 1, MetaReserved: 64 << 10, MetaCommitted: 4 << 10},
			"reserved 1 MiB, committed 64 KiB, resident 48 KiB, in use 100 B in 1 block (0 huge), free 60 KiB (largest 56 KiB), 1 segment in 1 range, metadata 64 KiB reserved, 4 KiB committed, 0 B resident"},
		{"large", heap.Stats{Reserved: 16 << 40, Committed: 1536 << 20, Blocks: 3, HugeBlocks: 2, Segments: 5, Ranges: 2},
			"reserved 16 TiB, committed 1.5 GiB, resident 0 B, in use 0 B in 3 blocks (2 huge), free 0 B (largest 0 B), 5 segments in 2 ranges, metadata 0 B reserved, 0 B committed, 0 B resident"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%s: String() =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// TestStatsStringLive checks a live heap's stats print on one line and
// count its block.
func TestStatsStringLive(t *testing.T) {
	h, err := heap.New(heap.Options{Name: "stats-string"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	if _, err := h.Alloc(100); err != nil {
		t.Fatal(err)
	}
	s := h.Stats().String()
	if strings.Contains(s, "\n") || !strings.Contains(s, " in 1 block (0 huge)") {
		t.Errorf("Stats().String() = %q, want one line with 1 block", s)
	}
}

// Stats print on one line in binary units, for logs.
func ExampleStats_String() {
	s := heap.Stats{Reserved: 1 << 20, Committed: 64 << 10, Resident: 64 << 10, InUse: 4 << 10, Free: 60 << 10, Largest: 60 << 10,
		Blocks: 2, Segments: 1, Ranges: 1, MetaReserved: 64 << 10, MetaCommitted: 4 << 10}
	fmt.Println(s)
	// Output: reserved 1 MiB, committed 64 KiB, resident 64 KiB, in use 4 KiB in 2 blocks (0 huge), free 60 KiB (largest 60 KiB), 1 segment in 1 range, metadata 64 KiB reserved, 4 KiB committed, 0 B resident
}
