package vmmap

import (
	"testing"

	"github.com/zebra-heap/zebra/vmem"
)

// TestAttribute: the kernel merged two heaps' adjacent reserved stripes
// into one mapping; the registry splits them again.
func TestAttribute(t *testing.T) {
	s := &Snapshot{Span: AddrRange{0x100000, 0x200000}}
	s.Regions = fillFree([]Region{
		{Start: 0x100000, End: 0x140000, Type: PrivateData, State: StateCommitted, Perms: "rw-p", RSS: 0x40000, Committed: 0x40000},
		{Start: 0x140000, End: 0x1c0000, Type: PrivateData, State: StateReserved, Perms: "---p"},
	}, s.Span)
	Attribute(s, []vmem.Info{
		{ID: 1, Owner: "heap A", Pieces: []vmem.Range{{Base: 0x100000, Size: 0x80000}}},
		{ID: 2, Owner: "", Pieces: []vmem.Range{{Base: 0x180000, Size: 0x20000}, {Base: 0x1a0000, Size: 0x10000}}},
	})
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		start, end uint64
		typ        Type
		owner      string
		base       uint64
	}{
		{0x100000, 0x140000, Heap, "heap A", 0x100000},
		{0x140000, 0x180000, Heap, "heap A", 0x100000},
		{0x180000, 0x1a0000, Heap, "vmem #2", 0x180000},
		{0x1a0000, 0x1b0000, Heap, "vmem #2", 0x1a0000},
		{0x1b0000, 0x1c0000, PrivateData, "", 0},
		{0x1c0000, 0x200000, Free, "", 0},
	}
	if len(s.Regions) != len(want) {
		t.Fatalf("%d regions, want %d: %+v", len(s.Regions), len(want), s.Regions)
	}
	for i, w := range want {
		r := s.Regions[i]
		if r.Start != w.start || r.End != w.end || r.Type != w.typ || r.Owner != w.owner || r.Base != w.base {
			t.Errorf("region %d: %#x-%#x %v %q base %#x, want %+v", i, r.Start, r.End, r.Type, r.Owner, r.Base, w)
		}
	}
	if o := Owners(s); len(o) != 2 || o[0].Stripes != 1 || o[1].Stripes != 1 {
		t.Errorf("owners %+v", o)
	}
}
