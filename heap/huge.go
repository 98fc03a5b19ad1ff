package heap

import (
	"fmt"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// Huge blocks: with the NT policy (or an explicit HugeBlock), a block larger
// than HugeBlock gets a reservation of its own, as Windows serves blocks
// above VirtualMemoryThreshold with VirtualAlloc. They are few and large, so
// a Go map from base address to record is cheap. See heap.go for the
// overview.

// hugeFreedRing is how many released huge blocks the heap remembers, so
// that a second Free of one is reported as ErrDoubleFree rather than as a
// pointer the heap never returned.
const hugeFreedRing = 64

type hugeBlock struct {
	res *vmem.Reservation
}

func (h *Heap) allocHuge(op string, n, align uintptr) (unsafe.Pointer, error) {
	o := vmem.Options{Owner: h.cfg.name, HugePages: h.cfg.hugePages}
	if align > h.cfg.caps.MaxAlign {
		return nil, fmt.Errorf("heap %q: %s %s aligned to %s: %w: space %s aligns reservations to at most %s",
			h.cfg.name, op, sizeText(uint64(n)), sizeText(uint64(align)), ErrInvalidSize, h.cfg.space.Name(), sizeText(uint64(h.cfg.caps.MaxAlign)))
	}
	if align > h.cfg.caps.Granularity {
		o.Align = align
	}
	r, err := h.cfg.space.Reserve(max(n, 1), o)
	if err != nil {
		return nil, h.wrap(op, n, err)
	}
	if err := r.Commit(r.Base(), r.Size()); err != nil {
		r.Release()
		return nil, h.wrap(op, n, err)
	}
	if h.huge == nil {
		h.huge = make(map[uintptr]*hugeBlock)
	}
	h.huge[r.Base()] = &hugeBlock{res: r}
	h.inUse += r.Size()
	h.blocks++
	// Freshly committed memory reads as zero.
	return r.Pointer(), nil
}

func (h *Heap) freeHuge(b *hugeBlock) error {
	base, size := b.res.Base(), b.res.Size()
	if err := b.res.Release(); err != nil {
		return fmt.Errorf("heap %q: free huge block %#x (%s): %w", h.cfg.name, base, sizeText(uint64(size)), err)
	}
	delete(h.huge, base)
	h.hugeFreed[h.hugeNext%len(h.hugeFreed)] = base
	h.hugeNext++
	h.inUse -= size
	h.blocks--
	return nil
}
