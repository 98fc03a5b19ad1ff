package heap

import (
	"errors"
	"fmt"
	"unsafe"
)

// Pointer validation: every pointer given to Free, Realloc or Size is looked
// up in the out-of-band tables before anything is touched. See heap.go for
// the overview.

const (
	blockSmall = iota
	blockLarge
	blockHuge
)

// A block is a busy block found by find.
type block struct {
	kind uint8
	size uintptr        // usable size
	p    unsafe.Pointer // the block's start
	slab *slabRec       // small: its slab
	idx  uintptr        // small: its index in the slab
	seg  *segment
	gp   uint32    // large: head page
	d    *pageDesc // large: head descriptor
	hb   *hugeBlock
}

// errNoRun is the cause when growth succeeded but no run fits: it cannot
// happen unless the bookkeeping is broken, and Validate would say where.
var errNoRun = errors.New("no free run fits after growth")

// find returns the busy block that starts at p, or the reason there is
// none, through the page table: the locked path, for pointers the page map
// did not lead to a busy small block (large and huge blocks, and every bad
// pointer, whose error it words). The caller holds the heap's lock.
func (h *Heap) find(op string, p unsafe.Pointer) (block, error) {
	addr := uintptr(p)
	seg := h.segOf(addr)
	if seg == nil {
		if hb := h.huge[addr]; hb != nil {
			return block{kind: blockHuge, size: hb.res.Size(), p: p, hb: hb}, nil
		}
		for _, hb := range h.huge {
			if hb.res.Range().Contains(addr) {
				return block{}, h.bad(op, p, ErrInvalidPointer, "inside huge block %#x", hb.res.Base())
			}
		}
		if h.hugeFreed.has(addr, h.cfg.space) {
			return block{}, h.bad(op, p, ErrDoubleFree, "huge block already released")
		}
		return block{}, h.bad(op, p, ErrInvalidPointer, "not in the heap")
	}
	page := h.cfg.page
	off := addr - seg.addr()
	gp := seg.gp0 + uint32(off/page)
	d := h.pt.at(gp)
	switch d.kind {
	case kindSlab:
		head := h.pt.at(gp - d.n)
		if err := h.checkRun(seg, gp-d.n, head); err != nil {
			return block{}, fmt.Errorf("heap %q: %s %p: %w", h.cfg.name, op, p, err)
		}
		s := h.st.at(d.a)
		if head.a != d.a || d.n >= uint32(s.npages) || s.id != d.a || s.heap != h.id || s.chk != s.seal() ||
			s.base != h.pageAddr(seg, gp-d.n) || slabOf(uintptr(s.base)) != s {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return block{}, h.bad(op, p, ErrCorrupt, "page %d of slab %d says slab %d, index %d, and the slab's record or map entry disagrees", gp, head.a, d.a, d.n)
		}
		ci := &h.classes[s.class&(numClasses-1)]
		idx, ok := ci.index(addr - uintptr(s.base))
		if !ok {
			return block{}, h.bad(op, p, ErrInvalidPointer, "not the start of a %d-byte block", ci.size)
		}
		if !isBusy(*s.stateOf(idx)) {
			return block{}, h.bad(op, p, ErrDoubleFree, "%d-byte block is free", ci.size)
		}
		return block{kind: blockSmall, size: ci.size, p: p, slab: s, idx: idx}, nil
	case kindLarge:
		if err := h.checkRun(seg, gp, d); err != nil {
			return block{}, fmt.Errorf("heap %q: %s %p: %w", h.cfg.name, op, p, err)
		}
		if off%page != 0 {
			return block{}, h.bad(op, p, ErrInvalidPointer, "inside a block of %d pages", d.n)
		}
		return block{kind: blockLarge, size: uintptr(d.n) * page, p: p, seg: seg, gp: gp, d: d}, nil
	}
	if d.kind == kindCached {
		if off%page == 0 {
			return block{}, h.bad(op, p, ErrDoubleFree, "a freed block of pages")
		}
		return block{}, h.bad(op, p, ErrInvalidPointer, "in free space")
	}
	// A free page, or one inside a run: no block starts here. Only the head
	// page of a freed large block is a double free; nothing walks to the
	// run's head, so the answer costs the same in a heap of any size.
	if off%page == 0 && d.flags&flagFreed != 0 {
		return block{}, h.bad(op, p, ErrDoubleFree, "a freed block of pages")
	}
	if d.flags&flagFreedSlab != 0 && d.gen != 0 {
		ci := &h.classes[int(d.gen-1)&(numClasses-1)]
		if o := addr & (slabBytes - 1); o%ci.size == 0 && o/ci.size < uintptr(ci.nobj) {
			return block{}, h.bad(op, p, ErrDoubleFree, "a %d-byte block of a released slab", ci.size)
		}
	}
	if d.kind == kindFreeHead || d.kind == kindFreeTail {
		return block{}, h.bad(op, p, ErrInvalidPointer, "in free space")
	}
	return block{}, h.bad(op, p, ErrInvalidPointer, "inside a run of pages")
}

// checkCommitted returns ErrCorrupt unless every page of the n bytes at p
// lies in one segment and is marked committed: Realloc reads and writes
// whole blocks itself, and a block length read from corrupt metadata must
// not take it into pages that fault. It costs a descriptor per page, next
// to a copy of the page's bytes.
func (h *Heap) checkCommitted(op string, p unsafe.Pointer, n uintptr) error {
	if err := h.lock(op); err != nil {
		return err
	}
	defer h.unlockHeap()
	if _, ok := h.huge[uintptr(p)]; ok {
		return nil // a reservation of its own, committed whole
	}
	seg, gp := h.lookup(uintptr(p))
	if seg == nil || n == 0 {
		return nil
	}
	last := uintptr(p) + n - 1
	if last < uintptr(p) || last-seg.addr() >= seg.size {
		h.state.CompareAndSwap(stateOK, stateCorrupt)
		return h.bad(op, p, ErrCorrupt, "a block of %d bytes leaves its segment", n)
	}
	end := seg.gp0 + uint32((last-seg.addr())>>h.cfg.pageShift)
	for g := gp; g <= end; g++ {
		if !h.pt.has(g) || h.pt.at(g).flags&flagCommitted == 0 {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return h.bad(op, p, ErrCorrupt, "a block of %d bytes covers uncommitted page %d", n, g)
		}
	}
	return nil
}

func (h *Heap) bad(op string, p unsafe.Pointer, sentinel error, format string, args ...any) error {
	return fmt.Errorf("heap %q: %s %p: %w: %s", h.cfg.name, op, p, sentinel, fmt.Sprintf(format, args...))
}

// release frees a block found by find. Only a huge block can fail to be
// released, when the OS refuses; it then stays allocated.
func (h *Heap) release(b block) error {
	if h.bigTags != nil {
		h.untagBig(b.p)
	}
	switch b.kind {
	case blockLarge:
		n := b.d.n
		h.inUse -= uintptr(n) * h.cfg.page
		h.blocks--
		h.big.free(uintptr(n) * h.cfg.page)
		if h.cacheRun(b) {
			return nil
		}
		b.d.kind, b.d.n = kindInner, 0
		b.d.flags |= flagFreed
		h.freeRun(b.seg, b.gp, n, false)
	case blockHuge:
		return h.freeHuge(b.hb)
	}
	return nil
}
