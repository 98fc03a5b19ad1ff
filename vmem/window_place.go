package vmem

import "fmt"

// Placement is the rule a window uses to choose the address of a new
// reservation among its free blocks. See window.go for the overview.
type Placement uint8

const (
	// BottomUp is Windows' VirtualAlloc with no address: the lowest
	// address, at a multiple of the allocation granularity (64 KiB), where
	// the whole request fits. It is first fit in address order, not best
	// fit: a 2 MiB request takes the lowest hole of 2 MiB or more even if a
	// hole of exactly 2 MiB exists higher up.
	//
	// Windows differs in one respect the window does not model:
	// VirtualAlloc with MEM_TOP_DOWN, which some loaders and runtimes ask
	// for, searches from the top instead.
	BottomUp Placement = iota

	// TopDown is Linux mmap with no address hint and no randomisation, as
	// kernels since 3.8 do it (the gap search of vm_unmapped_area, an
	// augmented tree since 3.8 and the maple tree since 6.1): the highest
	// address, aligned as asked, where the whole request fits below the
	// top of the window, which plays mmap_base. The search covers the whole
	// window, not only the space below the previous placement: a range
	// released above the last mapping is reused by the next request that
	// fits in it. While nothing is released, each reservation lands
	// directly below the previous one, which is why extending a
	// reservation downwards usually succeeds on Linux.
	//
	// Where the real kernel differs:
	//   - mmap_base is randomised (ASLR) and sits a gap below the stack;
	//     the window's top is fixed.
	//   - Since Linux 6.7 an anonymous mapping whose length is a multiple
	//     of 2 MiB is aligned to 2 MiB when transparent huge pages are
	//     compiled in (thp_get_unmapped_area), which can leave a hole of up
	//     to 2 MiB above it; the window aligns only as Options.Align asks.
	//   - Kernels before 3.8 searched from a cached address just below the
	//     previous mapping (free_area_cache) and fell back to a full search;
	//     that "below the previous mapping" rule is not this one.
	//   - The kernel keeps a guard gap next to stacks (stack_guard_gap) and
	//     respects mmap_min_addr; a window has neither, only its Low bound.
	//   - An aligned request is placed by the kernel (and by this package's
	//     own Linux Reserve) by mapping size+align and trimming, which can
	//     choose a lower address than the highest aligned fit the window
	//     takes.
	TopDown
)

func (p Placement) String() string {
	switch p {
	case BottomUp:
		return "bottom-up"
	case TopDown:
		return "top-down"
	}
	return fmt.Sprintf("Placement(%d)", uint8(p))
}

// place returns the address where a reservation of size bytes aligned to
// align (a power of two) goes under rule p, looking only at the free blocks
// of free. ok is false when no free block can hold it. It does not change
// the set.
func (p Placement) place(free *rangeSet, size, align uintptr) (addr uintptr, ok bool) {
	if p == TopDown {
		for i := len(free.rs) - 1; i >= 0; i-- {
			f := free.rs[i]
			if f.Size < size {
				continue
			}
			a := (f.End() - size) &^ (align - 1)
			if a >= f.Base {
				return a, true
			}
		}
		return 0, false
	}
	for _, f := range free.rs {
		a := (f.Base + align - 1) &^ (align - 1)
		if a < f.Base || a > f.End() { // overflow, or aligned past the block
			continue
		}
		if f.End()-a >= size {
			return a, true
		}
	}
	return 0, false
}
