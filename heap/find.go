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
	p    unsafe.Pointer
	size uintptr // usable size
	seg  *segment
	gp   uint32    // large: head page
	d    *pageDesc // large: head descriptor
	id   uint32    // small: slab id
	s    *slabRec  // small: slab record
	idx  uintptr   // small: index in the slab
	hb   *hugeBlock
}

// errNoRun is the cause when growth succeeded but no run fits: it cannot
// happen unless the bookkeeping is broken, and Validate would say where.
var errNoRun = errors.New("no free run fits after growth")

// find returns the busy block that starts at p, or the reason there is none.
func (h *Heap) find(op string, p unsafe.Pointer) (block, error) {
	addr := uintptr(p)
	seg := h.segOf(addr)
	if seg == nil {
		if hb := h.huge[addr]; hb != nil {
			return block{kind: blockHuge, p: p, size: hb.res.Size(), hb: hb}, nil
		}
		for _, hb := range h.huge {
			if hb.res.Range().Contains(addr) {
				return block{}, h.bad(op, p, ErrInvalidPointer, "inside huge block %#x", hb.res.Base())
			}
		}
		for _, b := range h.hugeFreed {
			if b == addr && addr != 0 {
				return block{}, h.bad(op, p, ErrDoubleFree, "huge block already released")
			}
		}
		return block{}, h.bad(op, p, ErrInvalidPointer, "not in the heap")
	}
	page := h.cfg.page
	off := addr - seg.addr()
	gp := seg.gp0 + uint32(off/page)
	d := h.pt.at(gp)
	switch d.kind {
	case kindSlab:
		id := d.a
		s := h.st.at(id)
		ci := &h.classes[s.class]
		o := addr - seg.addr() - uintptr(s.gp-seg.gp0)*page
		idx := ci.div(o)
		if idx*ci.size != o || idx >= uintptr(s.nobj) {
			return block{}, h.bad(op, p, ErrInvalidPointer, "not the start of a %d-byte block", ci.size)
		}
		if s.bits[idx/64]&(1<<(idx%64)) == 0 {
			return block{}, h.bad(op, p, ErrDoubleFree, "%d-byte block is free", ci.size)
		}
		return block{kind: blockSmall, p: p, size: ci.size, seg: seg, id: id, s: s, idx: idx}, nil
	case kindLarge:
		if off%page != 0 {
			return block{}, h.bad(op, p, ErrInvalidPointer, "inside a block of %d pages", d.n)
		}
		return block{kind: blockLarge, p: p, size: uintptr(d.n) * page, seg: seg, gp: gp, d: d}, nil
	case kindFreeHead, kindFreeTail:
		return block{}, h.freeSpace(op, p)
	}
	// An inner page: find the run it belongs to (slow, errors only).
	for g := gp; g > seg.gp0; g-- {
		switch k := h.pt.at(g - 1).kind; k {
		case kindFreeHead:
			return block{}, h.freeSpace(op, p)
		case kindLarge:
			return block{}, h.bad(op, p, ErrInvalidPointer, "inside a block of %d pages", h.pt.at(g-1).n)
		case kindFreeTail, kindSlab:
			return block{}, h.bad(op, p, ErrCorrupt, "inner page %d follows a page of kind %d", gp, k)
		}
	}
	return block{}, h.bad(op, p, ErrCorrupt, "inner page %d has no head", gp)
}

// freeSpace is the error for a pointer into a free run: a freed block if it
// is aligned like one, else just a pointer the heap did not return.
func (h *Heap) freeSpace(op string, p unsafe.Pointer) error {
	if uintptr(p)%minAlign != 0 {
		return h.bad(op, p, ErrInvalidPointer, "in free space")
	}
	return h.bad(op, p, ErrDoubleFree, "in free space")
}

func (h *Heap) bad(op string, p unsafe.Pointer, sentinel error, format string, args ...any) error {
	return fmt.Errorf("heap %q: %s %p: %w: %s", h.cfg.name, op, p, sentinel, fmt.Sprintf(format, args...))
}

// release frees a block found by find. Only a huge block can fail to be
// released, when the OS refuses; it then stays allocated.
func (h *Heap) release(b block) error {
	switch b.kind {
	case blockSmall:
		h.freeSmall(b.seg, b.id, b.s, b.idx)
	case blockLarge:
		n := b.d.n
		b.d.kind, b.d.n = kindInner, 0
		h.inUse -= uintptr(n) * h.cfg.page
		h.blocks--
		h.freeRun(b.seg, b.gp, n, false)
	case blockHuge:
		return h.freeHuge(b.hb)
	}
	return nil
}
