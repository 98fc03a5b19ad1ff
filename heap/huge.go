package heap

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// Huge blocks: with the NT policy (or an explicit HugeBlock), a block larger
// than HugeBlock gets a reservation of its own, as Windows serves blocks
// above VirtualMemoryThreshold with VirtualAlloc. They are few and large, so
// a Go map from base address to record is cheap. See heap.go for the
// overview.

// releasedHugeMax bounds how many released huge blocks a heap remembers:
// each costs about 50 bytes (a map entry and a queue slot), so a heap that
// released thousands of huge blocks keeps at most ~200 KiB of them, and a
// heap that released none keeps nothing. Past the bound the oldest are
// forgotten and their second free reads as ErrInvalidPointer.
const releasedHugeMax = 4096

// releasedHuge remembers the bases of released huge blocks for as long as
// their address range is not handed out again, so that a second Free of
// one is exactly an ErrDoubleFree. A range is handed out again either by
// the heap itself (forget is called for each of its new reservations) or
// by anyone else in the same space, which has checks in vmem's registry
// when asked: a stale pointer into another reservation is not this heap's
// double free. See heap.go for the overview.
type releasedHuge struct {
	size  map[uintptr]uintptr // base → size of a released huge block
	queue []uintptr           // bases in release order, for the bound
}

// add remembers a released huge block.
func (r *releasedHuge) add(base, size uintptr) {
	if r.size == nil {
		r.size = make(map[uintptr]uintptr)
	}
	if _, ok := r.size[base]; !ok {
		r.queue = append(r.queue, base)
	}
	r.size[base] = size
	for len(r.size) > releasedHugeMax {
		delete(r.size, r.queue[0])
		r.queue = r.queue[1:]
	}
	if len(r.queue) > 2*len(r.size)+16 { // forget left holes: compact
		q := r.queue[:0]
		for _, b := range r.queue {
			if _, ok := r.size[b]; ok {
				q = append(q, b)
			}
		}
		r.queue = slices.Clip(q)
	}
}

// forget drops the released blocks that overlap a range being handed out
// again.
func (r *releasedHuge) forget(rg vmem.Range) {
	for b, n := range r.size {
		if overlaps(rg, vmem.Range{Base: b, Size: n}) {
			delete(r.size, b)
		}
	}
}

// overlaps reports whether two ranges share an address.
func overlaps(a, b vmem.Range) bool { return a.Base < b.End() && b.Base < a.End() }

// has reports whether addr is the base of a released huge block whose
// range no live reservation of space covers but the address-space
// quarantine's (which holds freed blocks, this one perhaps). It reads
// vmem's registry, so only error paths call it.
func (r *releasedHuge) has(addr uintptr, space vmem.Space) bool {
	n, ok := r.size[addr]
	if !ok {
		return false
	}
	rg := vmem.Range{Base: addr, Size: n}
	reused := vmem.Select(func(owner, sp string, in vmem.Range) bool {
		return sp == space.Name() && owner != vmem.OwnerQuarantine && overlaps(in, rg)
	})
	if len(reused) > 0 {
		r.forget(rg)
		return false
	}
	return true
}

type hugeBlock struct {
	res *vmem.Reservation
	gen uint16 // the block's generation (ref.go)
}

func (h *Heap) allocHuge(op string, n, align uintptr) (unsafe.Pointer, error) {
	o := vmem.Options{Owner: h.cfg.owner, HugePages: h.cfg.hugePages}
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
	if err := h.admit(r.Size()); err != nil {
		r.Release()
		return nil, h.wrap(op, n, err)
	}
	if err := r.Commit(r.Base(), r.Size()); err != nil {
		r.Release()
		return nil, h.wrap(op, n, err)
	}
	if h.huge == nil {
		h.huge = make(map[uintptr]*hugeBlock)
	}
	h.hugeFreed.forget(r.Range())
	h.huge[r.Base()] = &hugeBlock{res: r, gen: h.nextGen()}
	h.inUse += r.Size()
	h.blocks++
	h.big.alloc(r.Size())
	// Freshly committed memory reads as zero.
	return r.Pointer(), nil
}

func (h *Heap) freeHuge(b *hugeBlock) error {
	base, size := b.res.Base(), b.res.Size()
	if err := retire(b.res, h.cfg.space); err != nil {
		return fmt.Errorf("heap %q: free huge block %#x (%s): %w", h.cfg.name, base, sizeText(uint64(size)), err)
	}
	delete(h.huge, base)
	h.hugeFreed.add(base, size)
	h.inUse -= size
	h.blocks--
	h.big.free(size)
	return nil
}
