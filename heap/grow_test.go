package heap

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// topDownWindow is a 1 GiB window that places reservations the way Linux
// does, top-down, on every host, so growth in place is deterministic.
func topDownWindow(t *testing.T) *vmem.Window {
	t.Helper()
	if is32bit {
		t.Skip("a 1 GiB window rarely fits a 32-bit host")
	}
	w, err := vmem.NewWindow(vmem.WindowConfig{Name: "top-down", Low: 1 << 20, High: 1 << 30,
		Granularity: 64 << 10, Placement: vmem.TopDown})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestExtendBelowCommitsWhatIsUsed fills a 64 MiB reserve and allocates 4
// MiB more: the heap extends its reservation downward. The new pages must
// be carved from the top of the new segment, next to the committed
// interval above it; carved from the bottom, the reservation's one
// committed interval spanned the whole 128 MiB for 68 MiB in use.
func TestExtendBelowCommitsWhatIsUsed(t *testing.T) {
	w := topDownWindow(t)
	tests := []struct {
		name  string
		align int // 0: Alloc
	}{
		{"alloc", 0},
		{"aligned to 1 MiB", 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, Options{Name: "below", Space: w, Reserve: 64 << 20})
			for i := 0; i < 64; i++ {
				if _, err := h.Alloc(1 << 20); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if tt.align == 0 {
				_, err = h.Alloc(4 << 20)
			} else {
				_, err = h.AllocAligned(4<<20, tt.align)
			}
			if err != nil {
				t.Fatal(err)
			}
			mustValidate(t, h)
			st := h.Stats()
			t.Logf("%+v", st)
			if st.Segments != 2 || st.Ranges != 1 {
				t.Fatalf("%d segments in %d ranges, want 2 in 1: the reservation should have grown below", st.Segments, st.Ranges)
			}
			slack := uint64(h.commitStep()) + uint64(tt.align) // what the heap commits ahead
			if st.Committed > st.InUse+slack {
				t.Errorf("committed %d MiB for %d MiB in use, want at most %d KiB more",
					st.Committed>>20, st.InUse>>20, slack>>10)
			}
			// Small blocks after the extension come from the same
			// place: the top of what is left below.
			for i := 0; i < 1000; i++ {
				if _, err := h.Alloc(1000); err != nil {
					t.Fatal(err)
				}
			}
			st = h.Stats()
			if st.Committed > st.InUse+st.Free-st.Largest+slack {
				t.Errorf("after small blocks: committed %d KiB, in use %d KiB, free %d KiB of which %d KiB in the largest run",
					st.Committed>>10, st.InUse>>10, st.Free>>10, st.Largest>>10)
			}
			mustValidate(t, h)
		})
	}
}

// TestMetadataStaysOutOfTheWay grows a Default heap from 1 MiB to 256 MiB
// in a top-down space. Its metadata is reserved once, for the whole space,
// above the heap, so the heap extends in place all the way: one range of
// heap, one of metadata. Metadata reservations made as the heap grew used
// to land right below the heap, where the next extension had to go.
func TestMetadataStaysOutOfTheWay(t *testing.T) {
	w := topDownWindow(t)
	h := mustNew(t, Options{Name: "grown", Space: w})
	var blocks []unsafe.Pointer
	for total := 0; total < 256<<20; total += 4 << 20 {
		p, err := h.Alloc(4 << 20)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, p)
	}
	// Slabs need slab records: the second table in the arena.
	for i := 0; i < 10000; i++ {
		if _, err := h.Alloc(48); err != nil {
			t.Fatal(err)
		}
	}
	mustValidate(t, h)
	st := h.Stats()
	var meta []vmem.Range
	for _, r := range w.Regions() {
		if r.Owner == "grown (metadata)" {
			meta = append(meta, r.Range)
		}
	}
	t.Logf("%+v; metadata %v, heap %v", st, meta, h.Ranges())
	if st.Ranges != 1 || len(h.meta.res) != 1 {
		t.Errorf("heap in %d ranges, metadata in %d reservations; want 1 and 1", st.Ranges, len(h.meta.res))
	}
	if hr := h.Ranges(); len(hr) == 1 && len(meta) > 0 {
		if e := w.Emulated(hr[0].End()); meta[0].Base < e {
			t.Errorf("metadata %v lies below the heap's end %#x", meta[0], e)
		}
	}
	// The plan is sized from the space: about 35 bytes per page of a
	// 1 GiB window, not a fixed amount, and a guard at each end.
	if want := metaBytes(1<<30, h.cfg.page) + 2*h.meta.guard; st.MetaReserved != uint64(want) {
		t.Errorf("metadata reserved %d KiB, want %d KiB", st.MetaReserved>>10, want>>10)
	}
	for _, p := range blocks {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMetadataPlan checks the sizes the arena plans for.
func TestMetadataPlan(t *testing.T) {
	tests := []struct {
		name  string
		c     config
		first uintptr
		heaps int
		want  uintptr
	}{
		{"fixed heap: its maximum", config{fixed: true, reserve: 8 << 20, max: maxSize}, 8 << 20, 1, 8 << 20},
		{"nt: four first segments", config{policy: NT, max: maxSize}, 1 << 20, 1, 4 << 20},
		{"fixed policy: four first segments", config{policy: Fixed, max: maxSize}, 1 << 20, 1, 4 << 20},
		{"default in a 2 GiB window: the window", config{caps: vmem.Caps{MaxAddress: 0x7FFF0000}, max: maxSize}, 1 << 20, 1, 0x7FFF0000},
		{"default, the second heap of a 2 GiB window: half", config{caps: vmem.Caps{MaxAddress: 0x7FFF0000}, max: maxSize}, 1 << 20, 2, 0x3FFF8000},
		{"default, the 48th heap of a 2 GiB window: 1/48", config{caps: vmem.Caps{MaxAddress: 0x7FFF0000}, max: maxSize}, 1 << 20, 48, 0x7FFF0000 / 48},
		{"default, a heap with a limit below its share", config{caps: vmem.Caps{MaxAddress: 0x7FFF0000}, max: 64 << 20}, 1 << 20, 2, 64 << 20},
		{"default, reserve larger than the plan", config{caps: vmem.Caps{MaxAddress: 16 << 20}, max: maxSize}, 32 << 20, 1, 32 << 20},
		{"default, unknown space size: the first segment", config{max: maxSize}, 1 << 20, 1, 1 << 20},
		{"default in a 64-bit space: the first segment", config{caps: vmem.Caps{MaxAddress: uintptr(bigSize(1 << 47))}, max: maxSize}, 1 << 20, 48, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.plan(tt.first, tt.heaps); got != tt.want {
				t.Errorf("plan(%d, %d heaps) = %d, want %d", tt.first, tt.heaps, got, tt.want)
			}
		})
	}
	if got := metaBytes(0, 4096); got != 2*metaChunk {
		t.Errorf("metaBytes(0) = %d, want two chunks", got)
	}
	if got := metaBytes(1<<30, 4096); got%metaChunk != 0 || got < (1<<18)*descSize {
		t.Errorf("metaBytes(1 GiB) = %d: not whole chunks, or too small for the page table", got)
	}
}

// metaStarved is a space whose metadata reservations after the first fail,
// and whose first one is only 256 KiB: the page table fills up while the
// heap still has room to extend.
type metaStarved struct {
	*vmem.Window
	metas int
}

func (s *metaStarved) Reserve(size uintptr, o vmem.Options) (*vmem.Reservation, error) {
	if o.Owner == "starved (metadata)" {
		s.metas++
		if s.metas > 1 {
			return nil, fmt.Errorf("metadata refused: %w", vmem.ErrNoMemory)
		}
		size = 256 << 10
	}
	return s.Window.Reserve(size, o)
}

// TestGrowthFailureStrandsNothing makes the page table unable to grow
// while the reservation can still extend: the heap must check for room
// before Extend, which cannot be undone, so no address space is left
// reserved that no segment uses.
func TestGrowthFailureStrandsNothing(t *testing.T) {
	s := &metaStarved{Window: topDownWindow(t)}
	h := mustNew(t, Options{Name: "starved", Space: s})
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		_, err = h.Alloc(1 << 20)
	}
	if !errors.Is(err, ErrNoMemory) || !errors.Is(err, vmem.ErrNoMemory) {
		t.Fatalf("Alloc = %v, want ErrNoMemory from the metadata", err)
	}
	mustValidate(t, h)
	var segs uint64
	for _, r := range h.Segments() {
		segs += uint64(r.Size)
	}
	if st := h.Stats(); st.Reserved != segs {
		t.Errorf("reserved %d KiB, segments %d KiB: %d KiB stranded", st.Reserved>>10, segs>>10, (st.Reserved-segs)>>10)
	}
}

// TestNTHugeBlockFollowsTheSpace: NT's default VirtualMemoryThreshold
// depends on the emulated process's word size, which Caps.MaxAddress tells.
func TestNTHugeBlockFollowsTheSpace(t *testing.T) {
	tests := []struct {
		name string
		caps vmem.Caps
		want uintptr
	}{
		{"win32 window", vmem.Caps{MaxAddress: 0x7FFF0000}, 508 << 10},
		{"wow64 window", vmem.Caps{MaxAddress: 0xFFFF0000}, 508 << 10},
		{"64-bit host", vmem.OS().Caps(), map[bool]uintptr{true: 508 << 10, false: 1016 << 10}[is32bit]},
		{"unknown: the host's word size", vmem.Caps{}, map[bool]uintptr{true: 508 << 10, false: 1016 << 10}[is32bit]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ntHugeBlock(tt.caps); got != tt.want {
				t.Errorf("ntHugeBlock(MaxAddress %#x) = %d, want %d", tt.caps.MaxAddress, got, tt.want)
			}
		})
	}
	if is32bit {
		return
	}
	w, err := vmem.NewWindow(vmem.Win32())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := mustNew(t, Options{Name: "win32-nt", Space: w, Policy: NT})
	if h.cfg.huge != 508<<10 {
		t.Errorf("NT heap in a Win32 window: HugeBlock %d, want 508 KiB", h.cfg.huge)
	}
	h.Destroy()
}
