package heap

import (
	"fmt"
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

// allocSmall returns a block of class c from shard sh, whose lock the
// caller holds.
func (h *Heap) allocSmall(sh *shard, c int) (unsafe.Pointer, error) {
	ci := &h.classes[c]
	id := sh.cur[c]
	var s *slabRec
	if id != 0 {
		s = h.st.at(id - 1)
		if s.used == s.nobj {
			id = 0
		}
	}
	if id == 0 {
		var err error
		if id, s, err = h.nextSlab(sh, c); err != nil {
			return nil, err
		}
	}
	// Find a clear bit from the hint. used < nobj promises one; a slab
	// whose bits say otherwise is corrupt.
	w := int(s.hint) % slabWords
	for k := 0; s.bits[w] == ^uint64(0); k++ {
		if k == slabWords {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return nil, fmt.Errorf("heap %q: alloc: %w: slab %d of class %d counts %d of %d blocks used but has no free one",
				h.cfg.name, ErrCorrupt, id-1, ci.size, s.used, s.nobj)
		}
		w++
		if w == slabWords {
			w = 0
		}
	}
	i := bits.TrailingZeros64(^s.bits[w])
	s.bits[w] |= 1 << i
	s.sig ^= blockSig(uintptr(w*64 + i))
	s.hint = uint8(w)
	s.used++
	sh.inUse += ci.size
	sh.slabFree -= ci.size
	sh.blocks++
	return unsafe.Add(sh.curBase[c], uintptr(w*64+i)*ci.size), nil
}

// nextSlab makes a partially free or new slab the current one of class c
// in shard sh.
func (h *Heap) nextSlab(sh *shard, c int) (uint32, *slabRec, error) {
	var id uint32
	var s *slabRec
	if p := sh.partial[c]; p != 0 {
		id = p
		s = h.st.at(id - 1)
		// The blocks handed out are computed from the record: check it
		// against the page table before trusting it.
		h.lockHeap()
		bad := int(s.class) != c || s.nobj != h.classes[c].nobj || s.used >= s.nobj ||
			h.checkRun(h.segOfPage(s.gp), s.gp, h.pt.at(s.gp)) != nil || h.pt.at(s.gp).a != id-1 ||
			s.base != h.pageAddr(h.segOfPage(s.gp), s.gp)
		h.unlockHeap()
		if bad {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return 0, nil, fmt.Errorf("heap %q: alloc: %w: partial slab %d of class %d does not match the page table",
				h.cfg.name, ErrCorrupt, id-1, h.classes[c].size)
		}
		h.unlistSlab(sh, c, id-1, s)
	} else {
		h.lockHeap()
		var err error
		id, s, err = h.newSlab(sh, c)
		if e := h.checkTables("alloc"); e != nil {
			err = e
		}
		h.unlockHeap()
		if err != nil {
			return 0, nil, err
		}
	}
	sh.cur[c] = id
	sh.curBase[c] = s.base
	return id, s, nil
}

// newSlab carves a slab for class c of shard sh from the back end. The
// caller holds the heap's lock.
func (h *Heap) newSlab(sh *shard, c int) (uint32, *slabRec, error) {
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
	s.owner = uint8((uintptr(unsafe.Pointer(sh)) - uintptr(unsafe.Pointer(&h.shards[0]))) / unsafe.Sizeof(shard{}))
	s.base = h.pageAddr(seg, gp)
	// Bits past the last block stay set, so the search never finds them.
	for i := int(ci.nobj) / 64; i < slabWords; i++ {
		if k := int(ci.nobj) - i*64; k > 0 {
			s.bits[i] = ^uint64(0) << k
		} else {
			s.bits[i] = ^uint64(0)
		}
	}
	for k := uint32(0); k < ci.pages; k++ {
		d := h.pt.at(gp + k)
		d.kind, d.n, d.a = kindSlab, k, id
		d.flags &^= flagFreed
	}
	sh.slabFree += uintptr(ci.nobj) * ci.size
	return id + 1, s, nil
}

// freeHot frees block idx of slab id at p into the hot blocks of shard sh
// (whose lock the caller holds), or into the slab when they are full.
func (h *Heap) freeHot(sh *shard, id uint32, s *slabRec, idx uintptr, p unsafe.Pointer) error {
	c := int(s.class)
	st := sh.hot[c]
	if st == nil {
		st = new(hotStack)
		sh.hot[c] = st
	}
	if st.n == hotMax {
		return h.freeSmall(sh, id, s, idx)
	}
	st.p[st.n] = p
	st.n++
	size := h.classes[c].size
	sh.inUse -= size
	sh.slabFree += size
	sh.blocks--
	return nil
}

// freeSmall frees block idx of slab id (a record s of class c) of shard sh,
// whose lock the caller holds. It fails only on corrupt metadata met while
// returning an empty slab.
func (h *Heap) freeSmall(sh *shard, id uint32, s *slabRec, idx uintptr) error {
	c := int(s.class)
	ci := &h.classes[c]
	wasFull := s.used == s.nobj
	s.bits[idx/64] &^= 1 << (idx % 64)
	s.sig ^= blockSig(idx)
	s.used--
	sh.inUse -= ci.size
	sh.slabFree += ci.size
	sh.blocks--
	if sh.cur[c] == id+1 {
		if int(idx/64) < int(s.hint) {
			s.hint = uint8(idx / 64)
		}
		return nil
	}
	if s.used == 0 {
		if s.listed {
			h.unlistSlab(sh, c, id, s)
		}
		h.lockHeap()
		h.dropSlab(sh, id, s)
		err := h.checkTables("free")
		h.unlockHeap()
		return err
	}
	if wasFull {
		h.listSlab(sh, c, id, s)
	}
	if int(idx/64) < int(s.hint) {
		s.hint = uint8(idx / 64)
	}
	return nil
}

// dropSlab returns an empty slab of shard sh to the back end. The caller
// holds both locks.
func (h *Heap) dropSlab(sh *shard, id uint32, s *slabRec) {
	ci := &h.classes[s.class]
	gp, n := s.gp, uint32(s.npages)
	for k := uint32(0); k < n; k++ {
		d := h.pt.at(gp + k)
		d.kind, d.n, d.a = kindInner, 0, 0
	}
	sh.slabFree -= uintptr(s.nobj) * ci.size
	h.st.put(id)
	h.freeRun(h.segOfPage(gp), gp, n, false)
}

func (h *Heap) listSlab(sh *shard, c int, id uint32, s *slabRec) {
	s.prev = 0
	s.next = sh.partial[c]
	if s.next != 0 {
		h.st.at(s.next - 1).prev = id + 1
	}
	sh.partial[c] = id + 1
	s.listed = true
}

func (h *Heap) unlistSlab(sh *shard, c int, id uint32, s *slabRec) {
	if s.prev != 0 {
		h.st.at(s.prev - 1).next = s.next
	} else {
		sh.partial[c] = s.next
	}
	if s.next != 0 {
		h.st.at(s.next - 1).prev = s.prev
	}
	s.next, s.prev, s.listed = 0, 0, false
}

// dropEmptyCurrent returns the current slabs that hold no block to the back
// end (Compact). The caller holds every lock.
func (h *Heap) dropEmptyCurrent() {
	for i := range h.shards {
		sh := &h.shards[i]
		for c, id := range sh.cur {
			if id != 0 {
				s := h.st.at(id - 1)
				if s.used == 0 {
					sh.cur[c], sh.curBase[c] = 0, nil
					h.dropSlab(sh, id-1, s)
				}
			}
		}
	}
}
