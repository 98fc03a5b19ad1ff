package heap

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// The metadata pool: in the host's address space every heap takes its
// metadata chunks (page table, slab records, state bytes, per-P caches)
// from one process-wide set of reservations, as it shares the page map, so
// that a heap adds no mapping of its own beyond its data: 64 heaps growing
// together cost two mappings each, not a dozen (a metadata reservation per
// heap is a committed interval, the rest and two guards, and a second one
// when it fills). Chunks a heap gives back (Destroy) are decommitted and
// kept for the next heap: in batches of poolBatch, since each decommit
// makes the kernel flush the TLB of every CPU the process runs on (with
// six heaps made and destroyed per input, FuzzHeap spent a fifth of its
// time there); up to that much of given-back metadata stays resident. The pool's reservations ("zebra metadata") keep
// a guard at each end, never committed, as a heap's own did; they are
// reserved where the space puts them, before the first heap's first
// segment, so that heaps, which extend downward first, grow away from them.
// Emulated spaces and 32-bit hosts keep metadata per heap (arena), where
// the heap's share of a small space is planned up front and the demo shows
// each heap's bookkeeping in its map.

// metaPoolOwner is the owner name of the pool's reservations in maps.
const metaPoolOwner = "zebra metadata"

var metaPool struct {
	mu    sync.Mutex
	a     arena            // the pool's reservations, cut into chunks
	free  []unsafe.Pointer // chunks given back, decommitted
	dirty []unsafe.Pointer // chunks given back, to be decommitted
}

// poolBatch is the most metadata given back that the pool keeps committed
// before it decommits it all.
const poolBatch = 1 << 20

// usePool reports whether heaps in space s with caps c take metadata from
// the pool.
func usePool(s vmem.Space, c vmem.Caps) bool { return s == vmem.OS() && !smallSpace(c) }

// poolChunk returns a committed, zeroed chunk from the pool.
func poolChunk() (unsafe.Pointer, error) {
	metaPool.mu.Lock()
	defer metaPool.mu.Unlock()
	if n := len(metaPool.free); n > 0 {
		p := metaPool.free[n-1]
		r := poolRes(p)
		if r == nil {
			return nil, errors.New("a chunk of the metadata pool is in none of its reservations")
		}
		if err := r.Commit(uintptr(p), metaChunk); err != nil {
			return nil, err
		}
		metaPool.free = metaPool.free[:n-1]
		return p, nil
	}
	a := &metaPool.a
	if a.space == nil {
		*a = arena{space: vmem.OS(), owner: metaPoolOwner, up: true, guard: max(vmem.OS().Caps().Granularity, 4096), next: 64 << 20}
	}
	return a.chunk()
}

// poolPut gives chunks back to the pool. Once poolBatch of them wait, they
// are decommitted (their memory goes back to the OS; they read as zero
// when handed out again), adjacent chunks together: a heap's chunks mostly
// are, so a batch costs a few system calls, not one per chunk.
func poolPut(chunks []unsafe.Pointer) error {
	metaPool.mu.Lock()
	defer metaPool.mu.Unlock()
	metaPool.dirty = append(metaPool.dirty, chunks...)
	if uintptr(len(metaPool.dirty))*metaChunk < poolBatch {
		return nil
	}
	sorted := metaPool.dirty
	metaPool.dirty = nil
	slices.SortFunc(sorted, func(a, b unsafe.Pointer) int { return cmp.Compare(uintptr(a), uintptr(b)) })
	var first error
	for i := 0; i < len(sorted); {
		p := sorted[i]
		r := poolRes(p)
		j := i + 1
		for j < len(sorted) && uintptr(sorted[j]) == uintptr(sorted[j-1])+metaChunk && r != nil && r.Range().Contains(uintptr(sorted[j])) {
			j++
		}
		if r == nil {
			if first == nil {
				first = errors.New("a chunk given back to the metadata pool is in none of its reservations")
			}
		} else if err := r.Decommit(uintptr(p), uintptr(j-i)*metaChunk); err != nil && first == nil {
			first = err
		}
		metaPool.free = append(metaPool.free, sorted[i:j]...)
		i = j
	}
	return first
}

// poolRes returns the pool's reservation holding chunk p.
func poolRes(p unsafe.Pointer) *vmem.Reservation {
	for _, r := range metaPool.a.res {
		if r.Range().Contains(uintptr(p)) {
			return r
		}
	}
	return nil
}
