package heap

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// Growth past the reserve, per Policy. See heap.go for the overview.

// errFixed is the cause when a fixed heap (Options.Maximum) is full.
var errFixed = errors.New("the heap has a fixed maximum size")

// grow adds at least need bytes of free pages to the heap.
func (h *Heap) grow(need uintptr) error {
	if h.cfg.fixed {
		return errFixed
	}
	g := h.cfg.caps.Granularity
	need = (need + g - 1) &^ (g - 1)
	switch h.cfg.policy {
	case NT:
		size := max(h.nextSeg, need+h.cfg.page)
		if err := h.newSegment(size); err != nil {
			return err
		}
		h.nextSeg = min(2*h.nextSeg, h.cfg.segCap)
		return nil
	case Fixed:
		return h.newSegment(max(h.cfg.segReserve, need))
	}
	return h.growDefault(need)
}

// growDefault extends the newest reservation in place by as much as the
// heap already holds (capped by SegmentCap and stepCap, at least need), else
// reserves a new range of that size, halving it down to need when the space
// refuses.
func (h *Heap) growDefault(need uintptr) error {
	var total uintptr
	for _, r := range h.res {
		total += r.Size()
	}
	// maxSize: on 32-bit hosts a heap past 2 GiB (in a 4 GiB window) must
	// not ask for more than any reservation can be.
	size := max(min(total, h.cfg.segCap, maxSize, stepCap(h.cfg.caps, h.others())), need)
	r := h.res[len(h.res)-1]
	dirs := [2]vmem.Direction{vmem.Above, vmem.Below}
	if h.cfg.caps.TopDown {
		dirs = [2]vmem.Direction{vmem.Below, vmem.Above}
	}
	for _, dir := range dirs {
		if err := h.extend(r, dir, size); err == nil {
			return nil
		}
	}
	var err error
	for {
		if err = h.newSegment(size); err == nil || size == need || !errors.Is(err, vmem.ErrNoMemory) {
			return err
		}
		size = max(size/2&^(h.cfg.caps.Granularity-1), need)
	}
}

// stepCap bounds one Default growth step to 1/16 of the address space (128
// MiB in a 2 GiB window, 8 TiB on 64-bit Linux) divided among the other
// heaps that live in it: with k others, 1/(16k). What a heap reserves past
// what it uses is room the other heaps need. Doubling without a cap lets a
// heap of 512 MiB reserve another 512 MiB that it may never fill, and in a
// 32-bit space several heaps growing together then run out long before NT
// heaps, whose segments stop at 8 MiB; a cap of 1/16 each still lost with
// many heaps (48 heaps of 16 MiB in a 2 GiB window failed where NT fit).
// With the share, what all the heaps of a space reserve past what they use
// stays below 1/8 of it, yet one or two heaps keep steps of 1/16, and steps
// in a 64-bit space stay large enough that growth is a handful of
// extensions.
func stepCap(c vmem.Caps, others int) uintptr {
	if c.MaxAddress == 0 {
		return maxSize
	}
	return max(c.MaxAddress/16/uintptr(max(others, 1))&^(c.Granularity-1), c.Granularity)
}

// others counts the heaps not destroyed, h aside, that live in h's space,
// where address space is scarce (smallSpace); in larger spaces it returns
// 0: there 1/16 of the space is more than heaps reserve.
func (h *Heap) others() int {
	if !smallSpace(h.cfg.caps) || !reflect.TypeOf(h.cfg.space).Comparable() {
		return 0
	}
	live.mu.Lock()
	defer live.mu.Unlock()
	n := 0
	for _, x := range live.heaps {
		if x != h && x.cfg.space == h.cfg.space {
			n++
		}
	}
	return n
}

// extend grows r in place and adds the new range to the heap: above, to the
// last segment when it holds the last page numbers; else as a new segment,
// marked below when it lies below r's old base.
//
// An extension cannot be undone, so the page table makes room for it first
// (Extend rounds size up to at most a huge page, or the granularity): once
// r has grown, adding its pages to the heap cannot fail.
func (h *Heap) extend(r *vmem.Reservation, dir vmem.Direction, size uintptr) error {
	unit := max(h.cfg.caps.Granularity, r.Unit())
	if size > maxSize-unit {
		return fmt.Errorf("%w: %s", ErrTooLarge, sizeText(uint64(size)))
	}
	if err := h.roomFor((size + unit - 1) &^ (unit - 1) / h.cfg.page); err != nil {
		return err
	}
	oldBase, oldEnd := r.Base(), r.Base()+r.Size()
	if err := r.Extend(dir, size); err != nil {
		return err
	}
	added := r.Size() - (oldEnd - oldBase)
	if dir == vmem.Below {
		return h.addSegment(r, r.Pointer(), added, true)
	}
	last := h.byGP[len(h.byGP)-1]
	if last.res == r && last.addr()+last.size == oldEnd {
		return h.growSegment(last, added)
	}
	return h.addSegment(r, unsafe.Add(r.Pointer(), oldEnd-r.Base()), added, false)
}

// newSegment reserves a new range of size bytes as a new segment.
func (h *Heap) newSegment(size uintptr) error {
	if size > maxSize {
		return fmt.Errorf("%w: %s", ErrTooLarge, sizeText(uint64(size)))
	}
	r, err := h.reserve(size)
	if err != nil {
		return err
	}
	if err := h.addSegment(r, r.Pointer(), r.Size(), false); err != nil {
		h.res = h.res[:len(h.res)-1]
		r.Release()
		return err
	}
	return nil
}
