package vmmap

import (
	"testing"

	"github.com/zebra-heap/zebra/vmem"
)

// TestFromWindow grows two heaps alternately in a Win32 window with a
// typical process's layout, destroys one and checks the map: stripes,
// alternation, and a largest free block bounded by the holes.
func TestFromWindow(t *testing.T) {
	w, err := vmem.NewWindow(vmem.Win32().WithTypicalProcess())
	if err != nil {
		t.Skipf("no room for a 2 GiB window: %v", err)
	}
	defer w.Close()
	var heapA []*vmem.Reservation
	for _, mib := range []uintptr{1, 2, 4, 8, 8, 8} {
		a, err := w.Reserve(mib<<20, vmem.Options{Owner: "heap A"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := w.Reserve(mib<<20, vmem.Options{Owner: "heap B"})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(b.Base(), 64<<10); err != nil {
			t.Fatal(err)
		}
		heapA = append(heapA, a)
	}

	s := FromWindow(w)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Span != (AddrRange{0x10000, 0x7FFF0000}) || s.Granularity != 64<<10 || s.Source != "window win32" {
		t.Errorf("span %v granularity %d source %q", s.Span, s.Granularity, s.Source)
	}
	byOwner := map[string]OwnerStats{}
	for _, o := range Owners(s) {
		byOwner[o.Owner] = o
	}
	for _, name := range []string{"heap A", "heap B"} {
		o := byOwner[name]
		if o.Stripes != 6 || o.Alternation != 5 || o.Bytes != 31<<20 || o.Type != Heap {
			t.Errorf("%s: %d stripes, alternation %d, %d bytes, %v; want 6, 5, 31 MiB, Heap", name, o.Stripes, o.Alternation, o.Bytes, o.Type)
		}
	}
	if got := byOwner["heap B"].Committed; got != 6*64<<10 {
		t.Errorf("heap B committed %d, want %d", got, 6*64<<10)
	}
	if o := byOwner["default process heap"]; o.Stripes != 1 || o.Type != Heap {
		t.Errorf("default process heap %+v", o)
	}
	sum := Summarize(s)
	// Each reservation is one block; its committed and reserved parts
	// are tied by Base.
	if h := sum.Row(Heap); h.Blocks != 12+1 {
		t.Errorf("Heap row %+v: want 13 blocks (12 segments, the default heap)", h)
	}
	for typ, want := range map[Type]int{Image: 6, MappedFile: 6, Stack: 1} {
		if got := sum.Row(typ).Blocks; got != want {
			t.Errorf("%v: %d blocks, want %d", typ, got, want)
		}
	}
	freeBefore := sum.Row(Free).Largest

	for _, r := range heapA {
		if err := r.Release(); err != nil {
			t.Fatal(err)
		}
	}
	after := FromWindow(w)
	if err := after.Validate(); err != nil {
		t.Fatal(err)
	}
	free := FreeBlocks(after)
	if free[0].Size() != freeBefore {
		t.Errorf("largest free block %d, want unchanged %d: A's holes are smaller", free[0].Size(), freeBefore)
	}
	// A's six holes are free blocks of 1, 2, 4, 8, 8, 8 MiB.
	holes := map[uint64]int{}
	for _, f := range free {
		holes[f.Size()]++
	}
	if holes[8<<20] < 3 || holes[4<<20] < 1 || holes[2<<20] < 1 {
		t.Errorf("free blocks by size %v", holes)
	}
	var vanished int
	for _, c := range Diff(s, after) {
		if c.Kind == Vanished && c.Before.Owner == "heap A" {
			vanished++
		} else {
			t.Errorf("unexpected change %v", c)
		}
	}
	if vanished != 6 {
		t.Errorf("%d of heap A's blocks vanished, want 6", vanished)
	}
}

// TestFromClosedWindow: a closed window has given everything back; its
// map is one free block.
func TestFromClosedWindow(t *testing.T) {
	w, err := vmem.NewWindow(vmem.WindowConfig{Name: "small", Low: 0x10000, High: 0x1010000, Granularity: 64 << 10})
	if err != nil {
		t.Skip(err)
	}
	if _, err := w.Reserve(1<<20, vmem.Options{Owner: "x"}); err != nil {
		t.Fatal(err)
	}
	if s := FromWindow(w); len(s.Regions) != 2 || s.Regions[0].Owner != "x" || s.Regions[0].Type != Heap {
		t.Fatalf("open window: %+v", s.Regions)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s := FromWindow(w)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(s.Regions) != 1 || s.Regions[0].Type != Free || s.Regions[0].Size() != 16<<20 {
		t.Errorf("closed window: %+v", s.Regions)
	}
}
