package heap

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Shards: the front end's state, one per P. See heap.go for the overview.
//
// A shard holds, per size class, the current slab and the list of
// partially free slabs, and owns every slab it made: a slab's blocks are
// allocated and freed only under its owner's lock. Alloc takes the shard of
// the P it runs on, so goroutines on different Ps use different locks and
// different slabs, and the heap's lock is taken only to get or return pages
// (a new slab, an empty slab, a large block). A Free from another P locks
// the owner's shard, not the heap. With Options.NoSerialize there is one
// shard and no lock at all.

// maxShards bounds the shards of a heap (slabRec.owner is a byte).
const maxShards = 64

type shard struct {
	mu      sync.Mutex
	cur     [numClasses]uint32 // current slab per class: id+1
	curBase [numClasses]unsafe.Pointer
	partial [numClasses]uint32 // partially free slabs per class: id+1

	// hot holds, per class, the blocks freed last into the shard's slabs,
	// handed out again first (LIFO): a block just freed is still in the
	// cache, so the caller's first write to its next block does not miss,
	// as with the free lists of mimalloc's pages. A hot block stays busy in
	// its slab's bitmap; Free and Size look it up here to report a second
	// free. Allocated on first use.
	hot [numClasses]*hotStack

	slabFree uintptr // bytes of free blocks in the shard's slabs
	inUse    uintptr // bytes of busy small blocks (class sizes)
	blocks   int     // busy small blocks

	// The next shard's lock and hot fields start on another cache line.
	_ [64]byte
}

// hotMax bounds a class's hot blocks: a few, so that looking a pointer up
// among them costs little and a shard holds little memory back.
const hotMax = 8

type hotStack struct {
	n int
	p [hotMax]unsafe.Pointer
}

// isHot reports whether p is among the hot blocks of class c in sh.
func (sh *shard) isHot(c int, p unsafe.Pointer) bool {
	if st := sh.hot[c]; st != nil {
		for _, q := range st.p[:st.n] {
			if q == p {
				return true
			}
		}
	}
	return false
}

// flushHot frees every hot block into its slab, so that the bitmaps tell
// the whole truth (Validate, Walk, Compact). The caller holds every lock.
func (h *Heap) flushHot() error {
	for i := range h.shards {
		sh := &h.shards[i]
		for c, st := range sh.hot {
			for st != nil && st.n > 0 {
				st.n--
				p := st.p[st.n]
				ci := &h.classes[c]
				sh.inUse += ci.size
				sh.slabFree -= ci.size
				sh.blocks++
				seg, gp := h.lookup(uintptr(p))
				if seg == nil || h.pt.at(gp).kind != kindSlab {
					h.state.CompareAndSwap(stateOK, stateCorrupt)
					return fmt.Errorf("heap %q: %w: hot block %p is not in a slab", h.cfg.name, ErrCorrupt, p)
				}
				id := h.pt.at(gp).a
				s := h.st.at(id)
				idx, err := h.slabIndex("flush", sh, p, s)
				if err != nil {
					return err
				}
				h.unlockHeap() // freeSmall takes it to drop an empty slab
				err = h.freeSmall(sh, id, s, idx)
				h.lockHeap()
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// shardCount returns the number of shards for a new heap: one per P
// (rounded up to a power of two), one without serialization.
func shardCount(noSerialize bool) int {
	if noSerialize {
		return 1
	}
	n := 1
	for n < runtime.GOMAXPROCS(0) && n < maxShards {
		n *= 2
	}
	return n
}

// shardHere returns the shard of the P the caller runs on. The goroutine
// may move to another P right after; that costs only locality, since the
// shard is locked before use.
func (h *Heap) shardHere() *shard {
	if h.shardMask == 0 {
		return &h.shards[0]
	}
	i := procPin()
	procUnpin()
	return &h.shards[uint32(i)&h.shardMask]
}

func (h *Heap) lockShard(s *shard) {
	if !h.cfg.noSerialize {
		s.mu.Lock()
	}
}

func (h *Heap) unlockShard(s *shard) {
	if !h.cfg.noSerialize {
		s.mu.Unlock()
	}
}

// lockHeap and unlockHeap take the heap's own lock, which guards the back
// end (pages, segments, growth, huge blocks, slab records).
func (h *Heap) lockHeap() {
	if !h.cfg.noSerialize {
		h.mu.Lock()
	}
}

func (h *Heap) unlockHeap() {
	if !h.cfg.noSerialize {
		h.mu.Unlock()
	}
}

// lockAll takes every shard's lock, in order, and then the heap's: the
// whole heap stands still (Destroy, Stats, Validate, Walk, Compact, Reset).
// Lock order everywhere: shard, then heap.
func (h *Heap) lockAll() {
	for i := range h.shards {
		h.lockShard(&h.shards[i])
	}
	h.lockHeap()
}

func (h *Heap) unlockAll() {
	h.unlockHeap()
	for i := range h.shards {
		h.unlockShard(&h.shards[i])
	}
}

// shardOf returns the shard that owns slab s.
func (h *Heap) shardOf(s *slabRec) *shard { return &h.shards[uint32(s.owner)&h.shardMask] }

// resetShards forgets every shard's slabs (Reset, Destroy).
func (h *Heap) resetShards() {
	for i := range h.shards {
		s := &h.shards[i]
		s.cur, s.curBase, s.partial = [numClasses]uint32{}, [numClasses]unsafe.Pointer{}, [numClasses]uint32{}
		s.hot = [numClasses]*hotStack{}
		s.slabFree, s.inUse, s.blocks = 0, 0, 0
	}
}

// smallTotals sums the shards' counters.
func (h *Heap) smallTotals() (inUse, slabFree uintptr, blocks int) {
	for i := range h.shards {
		s := &h.shards[i]
		inUse += s.inUse
		slabFree += s.slabFree
		blocks += s.blocks
	}
	return
}
