package heap

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Central lists: per size class, the slabs with blocks available, under
// the class's lock. See heap.go for the overview.
//
// The per-P caches (pcache.go) come here in batches: a refill takes half a
// magazine of blocks from the class's slabs, a drain gives half a magazine
// back. Blocks also pass here one at a time when no cache can take them
// (the heap's gate is closed, or the P has no slot). A slab whose blocks
// are all back is returned to the back end, unless it is the class's only
// listed slab: one empty slab per class is kept, so that a program that
// frees and allocates around a slab boundary does not make and drop a slab
// per call. Compact drops that one too.

// A central is one class's lists and counters.
type central struct {
	mu      sync.Mutex
	partial uint32 // slabs with avail blocks: id+1
	slabs   int    // slabs of the class
	// allocs and frees count the blocks this layer handed to callers and
	// took back from them directly, not through a cache (and, in frees,
	// the blocks Reset freed). Written under the lock, read by Counters
	// without it.
	allocs, frees atomic.Uint64
	_             [24]byte // keep each class's lock on its own cache line
}

func (h *Heap) lockClass(c int) {
	if !h.cfg.noSerialize {
		h.central[c].mu.Lock()
	}
}

func (h *Heap) unlockClass(c int) {
	if !h.cfg.noSerialize {
		h.central[c].mu.Unlock()
	}
}

// takeBlocks fills out with up to len(out) avail blocks of class c, and
// sts with their state bytes, from its partial slabs or a new one, and
// returns how many it took (at least one, or an error). direct of them are counted as handed to a caller. The
// caller holds the class's lock.
func (h *Heap) takeBlocks(c int, out []unsafe.Pointer, sts []*uint8, direct int) (int, error) {
	cl := &h.central[c]
	n := 0
	for n < len(out) {
		id := cl.partial
		var s *slabRec
		if id == 0 {
			if n > 0 {
				break
			}
			h.lockHeap()
			nid, ns, err := h.newSlab(c)
			if e := h.checkTables("alloc"); e != nil {
				err = e
			}
			h.unlockHeap()
			if err != nil {
				return 0, err
			}
			h.listSlab(c, nid, ns)
			continue
		}
		if s = h.st.lookup(id - 1); s == nil || !s.listed || int(s.class) != c || s.navail == 0 || !h.sound(s) {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return 0, fmt.Errorf("%w: the partial list of class %d holds slab record %d, which is not a partial slab of the class",
				ErrCorrupt, h.classes[c].size, id-1)
		}
		for n < len(out) && s.navail > 0 {
			w, i, ok := firstAvail(s, &h.classes[c])
			if !ok {
				h.state.CompareAndSwap(stateOK, stateCorrupt)
				return 0, fmt.Errorf("%w: slab at %p counts %d available blocks but its bitmap has none", ErrCorrupt, s.base, s.navail)
			}
			p, st, err := h.takeAvail(s, w, i)
			if err != nil {
				return 0, err
			}
			out[n], sts[n] = p, st
			n++
		}
		if s.navail == 0 {
			h.unlistSlab(c, id-1, s)
		}
	}
	cl.allocs.Add(uint64(min(direct, n)))
	return n, nil
}

// putBlocks gives free blocks of class c back to their slabs and returns
// slabs that become empty to the back end (keeping one, see above).
// direct of them are counted as taken back from a caller. The caller holds
// the class's lock, and the heap's when heapLocked.
func (h *Heap) putBlocks(c int, ps []unsafe.Pointer, direct int, heapLocked bool) error {
	cl := &h.central[c]
	cl.frees.Add(uint64(direct))
	for _, p := range ps {
		s, ci, idx, ok := h.slabFor(p)
		if !ok || int(s.class) != c || isBusy(*s.stateOf(idx)) {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return fmt.Errorf("%w: a cached block %p of class %d is not a free block of a slab of the class", ErrCorrupt, p, h.classes[c].size)
		}
		if s.isAvail(ci, idx) {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return fmt.Errorf("%w: cached block %p is also available in its slab", ErrCorrupt, p)
		}
		putAvail(s, ci, idx)
		id := s.id
		if h.st.lookup(id) != s {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return fmt.Errorf("%w: slab at %p: its record is not record %d", ErrCorrupt, s.base, id)
		}
		switch {
		case s.navail == ci.nobj && (s.next != 0 || s.prev != 0 || !s.listed && cl.partial != 0):
			// Empty, and not the class's only listed slab.
			if !heapLocked {
				h.lockHeap()
			}
			h.dropSlab(id, s)
			err := h.checkTables("free")
			if !heapLocked {
				h.unlockHeap()
			}
			if err != nil {
				return err
			}
		case !s.listed:
			h.listSlab(c, id, s)
		}
	}
	return nil
}

func (h *Heap) listSlab(c int, id uint32, s *slabRec) {
	cl := &h.central[c]
	s.prev = 0
	s.next = cl.partial
	if s.next != 0 {
		h.st.at(s.next - 1).prev = id + 1
	}
	cl.partial = id + 1
	s.listed = true
}

func (h *Heap) unlistSlab(c int, id uint32, s *slabRec) {
	if s.prev != 0 {
		h.st.at(s.prev - 1).next = s.next
	} else {
		h.central[c].partial = s.next
	}
	if s.next != 0 {
		h.st.at(s.next - 1).prev = s.prev
	}
	s.next, s.prev, s.listed = 0, 0, false
}

// dropEmpty returns every empty slab to the back end (Compact). The caller
// holds every lock and has emptied the caches.
func (h *Heap) dropEmpty() {
	for c := range h.central {
		for id, k := h.central[c].partial, uint32(0); id != 0 && k <= h.st.n; k++ {
			s := h.st.at(id - 1)
			next := s.next
			if !h.sound(s) || int(s.class) != c {
				h.state.CompareAndSwap(stateOK, stateCorrupt)
				return
			}
			if s.navail == h.classes[c].nobj {
				h.dropSlab(id-1, s)
			}
			id = next
		}
	}
}

// validateCentral checks each class's partial list (linked both ways,
// every slab listed and of the class) and its count of slabs against
// perClass, the slabs the page walk found.
func (h *Heap) validateCentral(perClass *[numClasses]int) error {
	for c := range h.central {
		if perClass[c] != h.central[c].slabs {
			return fmt.Errorf("class %d: %d slabs, count says %d", h.classes[c].size, perClass[c], h.central[c].slabs)
		}
		var prev uint32
		for id, k := h.central[c].partial, uint32(0); id != 0; id, k = h.st.at(id-1).next, k+1 {
			if k > h.st.n {
				return fmt.Errorf("partial list of class %d loops", c)
			}
			sl := h.st.at(id - 1)
			if !sl.listed || int(sl.class) != c || sl.prev != prev || sl.npages == 0 {
				return fmt.Errorf("partial list of class %d: slab %d listed %v class %d back link %d", c, id-1, sl.listed, sl.class, sl.prev)
			}
			prev = id
		}
	}
	return nil
}
