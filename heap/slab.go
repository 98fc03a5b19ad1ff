package heap

import (
	"math/bits"
	"unsafe"
)

// The front end: small blocks in slabs of one size class, with busy bitmaps
// in out-of-band slab records. See heap.go for the overview.

// numClasses is len(classes); a test checks it.
const numClasses = 64

// classInfo is per class: block size, slab pages and blocks per slab, which
// depend on the space's page size and so are computed per heap.
type classInfo struct {
	size  uintptr
	pages uint32
	nobj  uint16
	shift uint8 // log2(size) when size is a power of two, else 0
	recip uint64
}

func makeClasses(page uintptr) []classInfo {
	out := make([]classInfo, numClasses)
	for c, sz := range classes {
		s := uintptr(sz)
		p := slabPages(s, page)
		ci := classInfo{size: s, pages: uint32(p), nobj: uint16(min(p*page/s, slabWords*64))}
		// Division by the class size, as a multiply: exact for the
		// offsets of a slab (below 2^24) with a 40-bit shift.
		ci.recip = (1<<40)/uint64(s) + 1
		if s&(s-1) == 0 {
			ci.shift = uint8(bits.TrailingZeros64(uint64(s)))
		}
		out[c] = ci
	}
	return out
}

// divClass returns off / size for an offset inside a slab.
func (ci *classInfo) div(off uintptr) uintptr {
	if ci.shift != 0 {
		return off >> ci.shift
	}
	return uintptr((uint64(off) * ci.recip) >> 40)
}

// allocSmall returns a block of class c.
func (h *Heap) allocSmall(c int) (unsafe.Pointer, error) {
	ci := &h.classes[c]
	id := h.cur[c]
	var s *slabRec
	if id != 0 {
		s = h.st.at(id - 1)
		if s.used == s.nobj {
			id = 0
		}
	}
	if id == 0 {
		var err error
		if id, s, err = h.nextSlab(c); err != nil {
			return nil, err
		}
	}
	// Find a clear bit from the hint.
	w := int(s.hint)
	for s.bits[w] == ^uint64(0) {
		w++
		if w == slabWords {
			w = 0
		}
	}
	i := bits.TrailingZeros64(^s.bits[w])
	idx := w*64 + i
	s.bits[w] |= 1 << i
	s.hint = uint8(w)
	s.used++
	h.inUse += ci.size
	h.slabFree -= ci.size
	h.blocks++
	return unsafe.Add(h.curBase[c], uintptr(idx)*ci.size), nil
}

// nextSlab makes a partially free or new slab the current one of class c.
func (h *Heap) nextSlab(c int) (uint32, *slabRec, error) {
	var id uint32
	var s *slabRec
	if p := h.partial[c]; p != 0 {
		id = p
		s = h.st.at(id - 1)
		h.unlistSlab(c, id-1, s)
	} else {
		var err error
		if id, s, err = h.newSlab(c); err != nil {
			return 0, nil, err
		}
	}
	h.cur[c] = id
	seg := h.segOfPage(s.gp)
	h.curBase[c] = h.pageAddr(seg, s.gp)
	return id, s, nil
}

// newSlab carves a slab for class c from the back end.
func (h *Heap) newSlab(c int) (uint32, *slabRec, error) {
	ci := &h.classes[c]
	seg, gp, _, err := h.allocPages(ci.pages, 1)
	if err != nil {
		return 0, nil, err
	}
	id, s, err := h.st.get(&h.meta)
	if err != nil {
		h.freeRun(seg, gp, ci.pages, false)
		return 0, nil, err
	}
	s.gp, s.nobj, s.class, s.npages = gp, ci.nobj, uint8(c), uint8(ci.pages)
	// Bits past the last block stay set, so the search never finds them.
	for i := int(ci.nobj); i < slabWords*64; i++ {
		s.bits[i/64] |= 1 << (i % 64)
	}
	for k := uint32(0); k < ci.pages; k++ {
		d := h.pt.at(gp + k)
		d.kind, d.n, d.a = kindSlab, k, id
	}
	h.slabFree += uintptr(ci.nobj) * ci.size
	return id + 1, s, nil
}

// freeSmall frees block idx of slab id (a record s of class c).
func (h *Heap) freeSmall(seg *segment, id uint32, s *slabRec, idx uintptr) {
	c := int(s.class)
	ci := &h.classes[c]
	wasFull := s.used == s.nobj
	s.bits[idx/64] &^= 1 << (idx % 64)
	s.used--
	h.inUse -= ci.size
	h.slabFree += ci.size
	h.blocks--
	if h.cur[c] == id+1 {
		if int(idx/64) < int(s.hint) {
			s.hint = uint8(idx / 64)
		}
		return
	}
	if s.used == 0 {
		if s.listed {
			h.unlistSlab(c, id, s)
		}
		h.dropSlab(seg, id, s)
		return
	}
	if wasFull {
		h.listSlab(c, id, s)
	}
	if int(idx/64) < int(s.hint) {
		s.hint = uint8(idx / 64)
	}
}

// dropSlab returns an empty slab's pages to the back end.
func (h *Heap) dropSlab(seg *segment, id uint32, s *slabRec) {
	ci := &h.classes[s.class]
	gp, n := s.gp, uint32(s.npages)
	for k := uint32(0); k < n; k++ {
		d := h.pt.at(gp + k)
		d.kind, d.n, d.a = kindInner, 0, 0
	}
	h.slabFree -= uintptr(s.nobj) * ci.size
	h.st.put(id)
	h.freeRun(seg, gp, n, false)
}

func (h *Heap) listSlab(c int, id uint32, s *slabRec) {
	s.prev = 0
	s.next = h.partial[c]
	if s.next != 0 {
		h.st.at(s.next - 1).prev = id + 1
	}
	h.partial[c] = id + 1
	s.listed = true
}

func (h *Heap) unlistSlab(c int, id uint32, s *slabRec) {
	if s.prev != 0 {
		h.st.at(s.prev - 1).next = s.next
	} else {
		h.partial[c] = s.next
	}
	if s.next != 0 {
		h.st.at(s.next - 1).prev = s.prev
	}
	s.next, s.prev, s.listed = 0, 0, false
}

// dropEmptyCurrent returns the current slabs that hold no block to the back
// end (Compact).
func (h *Heap) dropEmptyCurrent() {
	for c := range h.cur {
		if id := h.cur[c]; id != 0 {
			s := h.st.at(id - 1)
			if s.used == 0 {
				h.cur[c], h.curBase[c] = 0, nil
				h.dropSlab(h.segOfPage(s.gp), id-1, s)
			}
		}
	}
}
