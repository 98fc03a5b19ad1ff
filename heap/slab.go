package heap

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// Slabs: the layer between the page runs (pages.go) and the per-class
// central lists (central.go). See heap.go for the overview.
//
// A slab is slabBytes of pages, aligned to slabBytes, cut into blocks of
// one size class. Its record (slabRec, in the heap's slab table, out of
// band) holds two views of its blocks:
//
//   - the state bytes, one per block (busy or free, and a generation), which Alloc
//     and Free of a cached block read and write without any lock: a block
//     belongs to at most one goroutine between its Alloc and its Free, and
//     distinct bytes never tear;
//   - the avail bitmap, the blocks the slab itself holds (neither busy nor
//     in a per-P cache), read and written only under the class's lock.
//
// Both lie in the slab's side area, in the heap's metadata: state bytes
// rounded up to a word, then a bitmap word per 64 blocks; so a record is
// small and a slab costs its class's metadata, not the smallest class's.
//
// A block is busy (state busy), cached (state free, not avail) or avail
// (state free, bit set). Free checks the state byte, so a second Free of a
// block, cached or avail, is ErrDoubleFree, and the offset, so an interior
// pointer is ErrInvalidPointer, both before anything changes.

// numClasses is len(classes); a test checks it.
const numClasses = 64

// slabWords bounds the words of an avail bitmap: one bit per 16-byte block
// of a slab.
const slabWords = slabBytes / minAlign / 64

// A block's state byte: bit 0 says busy; the seven bits above it are the
// block's generation, which each Free advances, so that a Ref taken before
// a Free and a reuse of the block no longer matches it (ref.go).
const blockBusy = 1

func isBusy(st uint8) bool { return st&blockBusy != 0 }

// freed is the state of a block freed from state st: free, next
// generation.
func freed(st uint8) uint8 { return st&^blockBusy + 2 }

// generation is the generation in state st.
func generation(st uint8) uint8 { return st >> 1 }

// classInfo is per class: block size, blocks per slab and the magazine
// size of the per-P caches.
type classInfo struct {
	size  uintptr
	recip uint64 // ceil(2^32/size): off*recip>>32 is off/size for off < slabBytes
	pages uint32 // pages per slab
	nobj  uint16
	mag   uint16 // capacity of a per-P magazine of this class
	words uint16 // avail bitmap words
	// side is the bytes of a slab's side area: state bytes up to
	// availOff, then the bitmap, then with Options.Tags a tag byte per
	// block from tagOff.
	side, availOff, tagOff uintptr
}

func makeClasses(page uintptr, tags bool) (out [numClasses]classInfo) {
	for c, sz := range classes {
		s := uintptr(sz)
		out[c] = classInfo{
			size:  s,
			recip: (1<<32 + uint64(s) - 1) / uint64(s),
			pages: uint32(slabBytes / page),
			nobj:  uint16(slabBytes / s),
			// 32 KiB of blocks per class and P, between 8 and magMax
			// blocks: enough that refills and drains are rare, little
			// enough that the caches hold back little memory (at most
			// about 2.5 MiB per P with every class in use).
			mag: uint16(min(magMax, max(8, (32<<10)/s))),
		}
		ci := &out[c]
		ci.words = (ci.nobj + 63) / 64
		ci.availOff = (uintptr(ci.nobj) + 7) &^ 7
		ci.side = ci.availOff + uintptr(ci.words)*8
		if tags {
			ci.tagOff = ci.side
			ci.side += (uintptr(ci.nobj) + 7) &^ 7
		}
	}
	return out
}

// index returns the block of class ci holding slab offset off, and whether
// off is that block's start.
func (ci *classInfo) index(off uintptr) (uintptr, bool) {
	i := uintptr(uint64(off) * ci.recip >> 32)
	return i, i*ci.size == off && i < uintptr(ci.nobj)
}

// A slabRec describes one slab. The fields Free reads without a lock come
// first, sealed by chk; the rest are guarded as marked.
type slabRec struct {
	heap  uint32 // id of the owning heap
	class uint8
	_     [3]byte
	state unsafe.Pointer // the side area, in the heap's metadata
	// chk seals heap, class and state (seal): a record overwritten behind
	// the heap's back fails the check and its blocks take the locked
	// path, which reports ErrCorrupt instead of following a wild pointer.
	chk uint64

	// Under the class's lock.
	navail uint16 // set bits of avail
	listed bool   // in its class's partial list
	hint   uint8  // no avail bit below word hint
	next   uint32 // partial list (or free record list): id+1, 0 ends
	prev   uint32

	// Under the heap's lock.
	id     uint32 // the record's own number
	gp     uint32 // first page
	npages uint8  // 0 in a free record
	base   unsafe.Pointer
}

func (s *slabRec) seal() uint64 {
	return (uint64(s.heap)<<8|uint64(s.class))*0x9e3779b97f4a7c15 ^ uint64(uintptr(s.state))*0xc2b2ae3d27d4eb4f ^
		uint64(uintptr(s.base))*0x165667b19e3779f9
}

// sound reports whether record s, read from the slab table rather than
// reached through the page map, is one of the heap's slabs as it was made:
// sealed, of a class, mapped at its base. Every path that follows a
// record's state pointer or base checks it first, so that a record
// overwritten behind the heap's back yields ErrCorrupt, not a wild access.
func (h *Heap) sound(s *slabRec) bool {
	return s.npages != 0 && s.heap == h.id && s.chk == s.seal() && int(s.class) < numClasses &&
		uint32(s.npages) == h.classes[s.class].pages && uintptr(s.base)&(slabBytes-1) == 0 && slabOf(uintptr(s.base)) == s
}

// stateOf returns the state byte of block idx.
func (s *slabRec) stateOf(idx uintptr) *uint8 { return (*uint8)(unsafe.Add(s.state, idx)) }

// avail returns word w of the avail bitmap of s, a slab of class ci.
func (s *slabRec) avail(ci *classInfo, w uintptr) *uint64 {
	return (*uint64)(unsafe.Add(s.state, ci.availOff+w*8))
}

// isAvail reports whether block idx of s (class ci) is in its bitmap.
func (s *slabRec) isAvail(ci *classInfo, idx uintptr) bool {
	return *s.avail(ci, idx/64)&(1<<(idx%64)) != 0
}

// slabFor returns the slab record of the heap's small block p, its class
// and the block's index, from the page map alone: ok is false when p is not
// the start of a block in one of the heap's slabs, or the record is broken;
// the locked path (find) then says why.
func (h *Heap) slabFor(p unsafe.Pointer) (s *slabRec, ci *classInfo, idx uintptr, ok bool) {
	s = slabOf(uintptr(p))
	if s == nil || s.heap != h.id || uintptr(s.base) != uintptr(p)&^(slabBytes-1) || s.chk != s.seal() {
		return nil, nil, 0, false
	}
	ci = &h.classes[s.class&(numClasses-1)]
	idx, ok = ci.index(uintptr(p) & (slabBytes - 1))
	return s, ci, idx, ok
}

// newSlab carves a slab for class c from the back end and maps it. The
// caller holds the class's lock and the heap's.
func (h *Heap) newSlab(c int) (uint32, *slabRec, error) {
	ci := &h.classes[c]
	seg, gp, _, err := h.allocPages(ci.pages, ci.pages)
	if err != nil {
		return 0, nil, err
	}
	base := h.pageAddr(seg, gp)
	state, err := h.stateFor(c)
	if err != nil {
		h.freeRun(seg, gp, ci.pages, false)
		return 0, nil, err
	}
	id, s, err := h.st.get(&h.meta)
	if err != nil {
		h.spare[c] = append(h.spare[c], state)
		h.freeRun(seg, gp, ci.pages, false)
		return 0, nil, err
	}
	s.heap, s.class, s.state = h.id, uint8(c), state
	s.id, s.gp, s.npages, s.base = id, gp, uint8(ci.pages), base
	s.chk = s.seal()
	s.navail = ci.nobj
	for w := uintptr(0); w < uintptr(ci.words); w++ {
		*s.avail(ci, w) = ^uint64(0)
		if k := int(ci.nobj) - int(w)*64; k < 64 {
			*s.avail(ci, w) = 1<<k - 1
		}
	}
	if !mapSlab(uintptr(base), s) {
		*s = slabRec{}
		h.st.put(id)
		h.spare[c] = append(h.spare[c], state)
		h.freeRun(seg, gp, ci.pages, false)
		return 0, nil, fmt.Errorf("the page map cannot hold a slab at %p", base)
	}
	for k := uint32(0); k < ci.pages; k++ {
		d := h.pt.at(gp + k)
		d.kind, d.n, d.a = kindSlab, k, id
		d.flags &^= flagFreed | flagFreedSlab
	}
	h.central[c].slabs++
	return id, s, nil
}

// stateFor returns a side area for a new slab of class c, its state bytes
// zeroed: a spare area of a dropped slab of the class, else a new one cut
// from a metadata chunk. The caller holds the heap's lock.
func (h *Heap) stateFor(c int) (unsafe.Pointer, error) {
	if n := len(h.spare[c]); n > 0 {
		p := h.spare[c][n-1]
		h.spare[c] = h.spare[c][:n-1]
		return p, nil
	}
	size := (h.classes[c].side + 63) &^ 63
	if h.stateChunk == nil || h.stateOff+size > metaChunk {
		p, err := h.meta.chunk()
		if err != nil {
			return nil, err
		}
		h.stateChunk, h.stateOff = p, 0
	}
	p := unsafe.Add(h.stateChunk, h.stateOff)
	h.stateOff += size
	return p, nil
}

// dropSlab returns an empty slab to the back end. The caller holds the
// class's lock and the heap's.
func (h *Heap) dropSlab(id uint32, s *slabRec) {
	c := int(s.class)
	if s.listed {
		h.unlistSlab(c, id, s)
	}
	unmapSlab(uintptr(s.base), s)
	gp, n := s.gp, uint32(s.npages)
	for k := uint32(0); k < n; k++ {
		d := h.pt.at(gp + k)
		d.kind, d.n, d.a, d.gen = kindInner, 0, 0, uint16(c+1)
		d.flags |= flagFreedSlab
	}
	h.spare[c] = append(h.spare[c], s.state)
	h.central[c].slabs--
	h.st.put(id)
	h.freeRun(h.segOfPage(gp), gp, n, false)
}

// takeAvail takes block idx out of slab s's avail bitmap and returns it
// with its state byte: it checks that the block is free, so that a bitmap overwritten behind the heap's back
// cannot hand out a busy block. The caller holds the class's lock.
func (h *Heap) takeAvail(s *slabRec, w, i int) (unsafe.Pointer, *uint8, error) {
	idx := uintptr(w*64 + i)
	ci := &h.classes[s.class&(numClasses-1)]
	if idx >= uintptr(ci.nobj) || isBusy(*s.stateOf(idx)) {
		h.state.CompareAndSwap(stateOK, stateCorrupt)
		return nil, nil, fmt.Errorf("%w: slab at %p of class %d lists block %d as available, but it is busy or past the slab",
			ErrCorrupt, s.base, ci.size, idx)
	}
	*s.avail(ci, uintptr(w)) &^= 1 << i
	s.navail--
	return unsafe.Add(s.base, idx*ci.size), s.stateOf(idx), nil
}

// putAvail gives block idx back to slab s of class ci. The caller holds
// the class's lock.
func putAvail(s *slabRec, ci *classInfo, idx uintptr) {
	*s.avail(ci, idx/64) |= 1 << (idx % 64)
	s.navail++
	if w := uint8(idx / 64); w < s.hint {
		s.hint = w
	}
}

// firstAvail returns the word and bit of the first avail block of slab s
// of class ci, or ok false.
func firstAvail(s *slabRec, ci *classInfo) (w, i int, ok bool) {
	for w = int(s.hint); w < int(ci.words); w++ {
		if x := *s.avail(ci, uintptr(w)); x != 0 {
			s.hint = uint8(w)
			return w, bits.TrailingZeros64(x), true
		}
	}
	return 0, 0, false
}

// validateSlab checks the slab whose first page is gp in segment s (which
// ends at page end), described by d: its record, its pages, the page map's
// entry, and each block's state against the bitmap. The caches must be
// empty (the gate closed). It returns the record and the busy and
// available blocks.
func (h *Heap) validateSlab(s *segment, gp, end uint32, d *pageDesc) (sl *slabRec, busy, avail int, err error) {
	if d.a >= h.st.n {
		return nil, 0, 0, fmt.Errorf("page %d: slab id %d out of %d", gp, d.a, h.st.n)
	}
	sl = h.st.at(d.a)
	if sl.npages == 0 || sl.gp != gp || int(sl.class) >= numClasses {
		return nil, 0, 0, fmt.Errorf("page %d: slab %d is free or starts at page %d", gp, d.a, sl.gp)
	}
	ci := &h.classes[sl.class]
	if uint32(sl.npages) != ci.pages || gp+ci.pages > end || sl.id != d.a {
		return nil, 0, 0, fmt.Errorf("slab %d (record %d): %d pages, class %d wants %d", d.a, sl.id, sl.npages, ci.size, ci.pages)
	}
	if sl.heap != h.id || sl.chk != sl.seal() {
		return nil, 0, 0, fmt.Errorf("slab %d: record of heap %d (want %d), seal %#x (want %#x)", d.a, sl.heap, h.id, sl.chk, sl.seal())
	}
	if sl.base != h.pageAddr(s, gp) || uintptr(sl.base)&(slabBytes-1) != 0 || slabOf(uintptr(sl.base)) != sl {
		return nil, 0, 0, fmt.Errorf("slab %d: base %p, want %p, aligned to %d and in the page map", d.a, sl.base, h.pageAddr(s, gp), slabBytes)
	}
	for k := uint32(0); k < ci.pages; k++ {
		e := h.pt.at(gp + k)
		if e.kind != kindSlab || e.a != d.a || e.n != k || e.flags&flagCommitted == 0 {
			return nil, 0, 0, fmt.Errorf("slab %d: page %d has kind %d id %d index %d flags %#x", d.a, gp+k, e.kind, e.a, e.n, e.flags)
		}
	}
	busy, avail = 0, 0
	for i := uintptr(0); i < uintptr(ci.words)*64; i++ {
		isAvail := sl.isAvail(ci, i)
		if i >= uintptr(ci.nobj) {
			if isAvail {
				return nil, 0, 0, fmt.Errorf("slab %d: bit %d past its %d blocks is set", d.a, i, ci.nobj)
			}
			continue
		}
		switch st := *sl.stateOf(i); {
		case isBusy(st) && isAvail:
			return nil, 0, 0, fmt.Errorf("slab %d: block %d is busy and available", d.a, i)
		case isBusy(st):
			busy++
		case !isAvail:
			return nil, 0, 0, fmt.Errorf("slab %d: block %d is free but neither available nor cached", d.a, i)
		default:
			avail++
		}
	}
	if avail != int(sl.navail) {
		return nil, 0, 0, fmt.Errorf("slab %d: %d blocks available, count says %d", d.a, avail, sl.navail)
	}
	if sl.listed != (avail > 0) {
		return nil, 0, 0, fmt.Errorf("slab %d: %d of %d blocks available, listed %v", d.a, avail, ci.nobj, sl.listed)
	}
	return sl, busy, avail, nil
}
