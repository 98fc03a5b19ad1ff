package heap

import (
	"errors"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Per-P caches: the front end. See heap.go for the overview.
//
// Each P (a cache slot, pin.go) has, per size class, a magazine: a stack of
// free blocks of the class, as Go's mcache and the sanitizer allocators'
// per-thread caches have. Alloc of a small block pops one, Free pushes
// one; neither takes a lock or an atomic read-modify-write: the goroutine
// is pinned to its P while it touches the magazine, and the block's state
// byte belongs to whoever holds the block. An empty magazine is refilled
// with half its capacity from the class's central lists, a full one gives
// half back, both under the class's lock and unpinned. Caches live in the
// heap's metadata, off the Go heap; each counts, per class, the blocks its
// P handed out and took back, which Stats sums without stopping anyone.
//
// Whole-heap operations that must see every block where it belongs
// (Validate, Walk, Compact, Reset) close the heap's gate: they take every
// lock, set the gate, and move every cached block back to its slab once no
// goroutine works in a cache. A goroutine marks its slot busy before it
// reads the gate and clears the mark when done, both with plain stores;
// the closing side sets the gate, makes every thread pass a full memory
// barrier (processBarrier: membarrier on Linux, a stop of the world
// elsewhere), and waits for every busy mark to clear. After the barrier a
// goroutine that read the gate open has its mark visible, and one that
// reads the gate later sees it closed, with no fence on the fast path.
// While the gate is closed Alloc and Free pass the caches by and queue on
// the class locks the operation holds. NoSerialize heaps have one cache,
// no pinning and no gate.

// magMax bounds a magazine; classInfo.mag is the capacity of each class's.
// A slot's cache then fits one metadata chunk.
const magMax = 56

// maxSlots bounds the caches of a heap: Ps with a higher id (GOMAXPROCS
// above 256) use the central lists directly.
const maxSlots = 256

// A magazine holds blocks with their state bytes, so that Alloc marks a
// block busy without looking its slab up.
type magazine struct {
	p  [magMax]unsafe.Pointer
	st [magMax]*uint8
}

// A pcache is one slot's cache, in the heap's metadata.
type pcache struct {
	// busy is 1 while a goroutine pinned to the slot works in it after
	// reading the gate open (see closeGate).
	busy uint32
	// n counts the blocks in each magazine, apart from the magazines so
	// that closing the gate reads a few lines to find the ones to drain,
	// not a line in each of the chunk's pages.
	n      [numClasses]uint32
	allocs [numClasses]uint64 // blocks handed out from the magazine
	frees  [numClasses]uint64 // blocks freed into it
	mags   [numClasses]magazine
}

func (h *Heap) pin() int {
	if h.cfg.noSerialize {
		return 0
	}
	return pin()
}

func (h *Heap) unpin(slot int) {
	if !h.cfg.noSerialize {
		unpin(slot)
	}
}

// allocSmall serves n bytes from class c: the fast path pops the P's
// magazine; an empty magazine is refilled.
func (h *Heap) allocSmall(op string, n uintptr, c int, zero bool) (unsafe.Pointer, error) {
	ci := &h.classes[c]
	slot := h.pin()
	if uint(slot) < maxSlots {
		if pc := h.slots[slot].Load(); pc != nil {
			pc.busy = 1
			m := &pc.mags[c]
			if k := pc.n[c] - 1; k < magMax && h.gate.Load() == 0 {
				p, st := m.p[k], m.st[k]
				pc.n[c] = k
				*st |= blockBusy
				pc.allocs[c]++
				setIdle(&pc.busy)
				h.unpin(slot)
				if zero {
					clear(unsafe.Slice((*byte)(p), ci.size))
				}
				return p, nil
			}
			setIdle(&pc.busy)
		}
	}
	h.unpin(slot)
	return h.refill(op, n, c, zero)
}

// refill takes half a magazine of class c from the central lists: one for
// the caller, the rest into the P's magazine (what does not fit goes back).
// It holds the class's lock throughout, so that no block is ever out of
// both a slab and a cache where a closed gate would not find it; the
// goroutine pins itself only inside that, and locks nothing while pinned.
func (h *Heap) refill(op string, n uintptr, c int, zero bool) (unsafe.Pointer, error) {
	ci := &h.classes[c]
	if err := h.ensureSlot(op); err != nil {
		return nil, err
	}
	var buf [magMax]unsafe.Pointer
	var sts [magMax]*uint8
	want := max(int(ci.mag)/2, 1)
	h.lockClass(c)
	if h.state.Load() != stateOK {
		h.unlockClass(c)
		return nil, h.stateErr(op)
	}
	k, err := h.takeBlocks(c, buf[:want], sts[:want], 1)
	if err != nil {
		h.unlockClass(c)
		if errors.Is(err, ErrCorrupt) {
			return nil, h.stateErr(op)
		}
		h.lockHeap()
		defer h.unlockHeap()
		return nil, h.wrap(op, n, err)
	}
	// The lowest block to the caller; the rest pushed so that they pop
	// in address order. takeBlocks checked that each is free and gave its
	// state byte.
	p := buf[0]
	*sts[0] |= blockBusy
	rest, restSt := buf[1:k], sts[1:k]
	slot := h.pin()
	if uint(slot) < maxSlots {
		if pc := h.slots[slot].Load(); pc != nil {
			pc.busy = 1
			m := &pc.mags[c]
			for h.gate.Load() == 0 && len(rest) > 0 && pc.n[c] < uint32(ci.mag) && pc.n[c] < magMax {
				last := len(rest) - 1
				m.p[pc.n[c]], m.st[pc.n[c]] = rest[last], restSt[last]
				pc.n[c]++
				rest, restSt = rest[:last], restSt[:last]
			}
			setIdle(&pc.busy)
		}
	}
	h.unpin(slot)
	if len(rest) > 0 {
		err = h.putBlocks(c, rest, 0, false)
	}
	h.unlockClass(c)
	if err != nil {
		return nil, h.stateErr(op)
	}
	if zero {
		clear(unsafe.Slice((*byte)(p), ci.size))
	}
	return p, nil
}

// freeSmall frees small block p: the fast path pushes it on the P's
// magazine. ok is false when p is not a busy block of the heap's slabs, or
// when no cache takes it (no slot yet, the gate closed): the caller's
// locked path frees it or says what is wrong. The block's state changes
// only where it changes hands: inside the slot's busy mark, or under the
// class's lock in spill. p is looked up inside the mark too, so that a
// Destroy, which closes the gate and waits for the marks before it
// releases the slabs' metadata, cannot pull the record away meanwhile.
func (h *Heap) freeSmall(p unsafe.Pointer) (ok bool, err error) {
	slot := h.pin()
	if uint(slot) < maxSlots {
		if pc := h.slots[slot].Load(); pc != nil {
			pc.busy = 1
			if h.gate.Load() == 0 {
				// slabFor, written out: this is the hottest path.
				s := slabOf(uintptr(p))
				if s == nil || s.heap != h.id || uintptr(s.base) != uintptr(p)&^(slabBytes-1) || s.chk != s.seal() {
					setIdle(&pc.busy)
					h.unpin(slot)
					return false, nil
				}
				ci := &h.classes[s.class&(numClasses-1)]
				idx, ok := ci.index(uintptr(p) & (slabBytes - 1))
				st := s.stateOf(idx)
				if !ok || !isBusy(*st) {
					setIdle(&pc.busy)
					h.unpin(slot)
					return false, nil
				}
				if h.tagUse != nil {
					h.untagSmall(s, ci, idx)
				}
				c := int(s.class & (numClasses - 1))
				if k := pc.n[c]; k < uint32(ci.mag) && k < magMax {
					*st = freed(*st)
					m := &pc.mags[c]
					m.p[k], m.st[k] = p, st
					pc.n[c] = k + 1
					pc.frees[c]++
					setIdle(&pc.busy)
					h.unpin(slot)
					return true, nil
				}
				setIdle(&pc.busy)
				h.unpin(slot)
				// spill checks the heap's state under the class's lock
				// before it touches st.
				return true, h.spill(c, p, st)
			}
			setIdle(&pc.busy)
		}
	}
	h.unpin(slot)
	return false, nil
}

// spill frees p, whose magazine is full (or that no cache takes), into its
// slab, with half the P's magazine of its class, under the class's lock
// (see refill).
func (h *Heap) spill(c int, p unsafe.Pointer, st *uint8) error {
	h.lockClass(c)
	defer h.unlockClass(c)
	if h.state.Load() != stateOK { // destroyed while it waited: st is gone
		return h.stateErr("free")
	}
	if !isBusy(*st) {
		return h.bad("free", p, ErrDoubleFree, "%d-byte block is free", h.classes[c].size)
	}
	*st = freed(*st)
	var buf [magMax + 1]unsafe.Pointer
	buf[0] = p
	k := 1
	slot := h.pin()
	if uint(slot) < maxSlots {
		if pc := h.slots[slot].Load(); pc != nil {
			pc.busy = 1
			m := &pc.mags[c]
			for half := pc.n[c] / 2; h.gate.Load() == 0 && half > 0 && pc.n[c] > 0 && pc.n[c] <= magMax; half-- {
				pc.n[c]--
				buf[k] = m.p[pc.n[c]]
				k++
			}
			setIdle(&pc.busy)
		}
	}
	h.unpin(slot)
	if err := h.putBlocks(c, buf[:k], 1, false); err != nil {
		return h.stateErr("free")
	}
	return nil
}

// ensureSlot makes the cache of the caller's P when it has none yet (the
// heap's first small Alloc on that P, or GOMAXPROCS grew).
func (h *Heap) ensureSlot(op string) error {
	slot := h.pin()
	missing := uint(slot) < maxSlots && h.slots[slot].Load() == nil
	h.unpin(slot)
	if !missing {
		return nil
	}
	if err := h.lock(op); err != nil {
		return err
	}
	defer h.unlockHeap()
	if h.slots[slot].Load() != nil {
		return nil
	}
	p, err := h.meta.chunk()
	if err != nil {
		return h.wrap(op, unsafe.Sizeof(pcache{}), err)
	}
	h.slots[slot].Store((*pcache)(p))
	if int32(slot) >= h.nslots.Load() {
		h.nslots.Store(int32(slot) + 1)
	}
	return nil
}

// slotsMade bounds the slots that have a cache: loops over the caches stop
// there, not at maxSlots.
func (h *Heap) slotsMade() int { return int(h.nslots.Load()) }

// closeGate stops the caches: it sets the gate, waits until no goroutine
// is pinned in them, and with drain moves every cached block back to its
// slab. The caller holds every lock and opens the gate again with
// openGate.
func (h *Heap) closeGate(drain bool) error {
	if !h.cfg.noSerialize {
		h.gate.Store(1)
		processBarrier()
		for i := range h.slotsMade() {
			if pc := h.slots[i].Load(); pc != nil {
				for atomic.LoadUint32(&pc.busy) != 0 {
					runtime.Gosched() // a pinned goroutine whose thread is descheduled
				}
			}
		}
	}
	for i := 0; drain && i < h.slotsMade(); i++ {
		pc := h.slots[i].Load()
		if pc == nil {
			continue
		}
		for c, k := range pc.n {
			if k == 0 {
				continue
			}
			pc.n[c] = 0
			if err := h.putBlocks(c, pc.mags[c].p[:min(k, magMax)], 0, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *Heap) openGate() { h.gate.Store(0) }

// classCounts returns the blocks of class c handed out and taken back
// since New, summed over the caches and the central list. Without the gate
// closed the caches' counters are read as they are being written, so the
// sums are those of a moment near the call.
func (h *Heap) classCounts(c int) (allocs, frees uint64) {
	cl := &h.central[c]
	allocs, frees = cl.allocs.Load(), cl.frees.Load()
	for i := range h.slotsMade() {
		if pc := h.slots[i].Load(); pc != nil {
			allocs += pc.allocs[c]
			frees += pc.frees[c]
		}
	}
	return allocs, frees
}

// smallTotals sums the counters of the caches and the central lists: the
// bytes and number of busy small blocks, and the bytes free in slabs.
func (h *Heap) smallTotals() (inUse, slabFree uintptr, blocks int) {
	for c := range h.central {
		ci := &h.classes[c]
		a, f := h.classCounts(c)
		busy := int64(max(a, f) - f)
		inUse += uintptr(busy) * ci.size
		slabFree += uintptr(max(int64(h.central[c].slabs)*int64(ci.nobj)-busy, 0)) * ci.size
		blocks += int(busy)
	}
	return inUse, slabFree, blocks
}

// resetCaches forgets every cached block (Reset, Destroy) and counts every
// busy small block freed, so that the counters stay cumulative. The caller
// holds every lock with the gate closed.
func (h *Heap) resetCaches() {
	for c := range h.central {
		a, f := h.classCounts(c)
		cl := &h.central[c]
		cl.frees.Add(max(a, f) - f)
		cl.partial, cl.slabs = 0, 0
	}
	for i := range h.slotsMade() {
		if pc := h.slots[i].Load(); pc != nil {
			clear(pc.n[:])
		}
	}
}
