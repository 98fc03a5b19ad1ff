package heap

import (
	"fmt"
	"unsafe"
)

// Large blocks: runs of pages, freed into a small cache that keeps them
// committed. See heap.go for the overview.
//
// A freed large block goes first into the heap's run cache, whole and
// committed, with its head marked kindCached; the next request for the
// same number of pages takes it back with no system call and no page
// fault, as glibc's and mimalloc's freed chunks are reused. The cache holds
// at most runCacheLen runs and runCacheBudget bytes; the oldest run leaves
// it for the free lists (pages.go), where NT's decommit rule applies, when
// a newer one needs its room. Compact, Reset and Destroy empty it. A cached
// run is free: a second Free of its block is ErrDoubleFree, Walk reports
// it as a free run and Stats counts it in Free.

// runCacheLen bounds the runs the cache holds.
const runCacheLen = 16

type cachedRun struct {
	seg *segment
	gp  uint32
}

// runCacheBudget is how many bytes of freed runs the heap keeps
// committed: the decommit threshold DecommitTotalFree, or an eighth of
// what is in use, up to 64 MiB, if that is more.
func (h *Heap) runCacheBudget() uintptr {
	return max(h.cfg.decTotal, min(h.inUse/8, 64<<20))
}

// cacheRun keeps freed large block b in the run cache, making room by
// freeing older runs, and reports false when it is too large to keep. The
// caller holds the heap's lock.
func (h *Heap) cacheRun(b block) bool {
	size := uintptr(b.d.n) * h.cfg.page
	budget := h.runCacheBudget()
	if size > budget {
		return false
	}
	for len(h.runs) > 0 && (len(h.runs) == runCacheLen || h.runBytes+size > budget) {
		h.uncacheRun(0)
	}
	b.d.kind = kindCached
	b.d.flags |= flagFreed
	h.runs = append(h.runs, cachedRun{b.seg, b.gp})
	h.runBytes += size
	return true
}

// uncacheRun moves cached run i to the free lists.
func (h *Heap) uncacheRun(i int) {
	r := h.runs[i]
	h.runs = append(h.runs[:i], h.runs[i+1:]...)
	d := h.pt.at(r.gp)
	n := d.n
	h.runBytes -= uintptr(n) * h.cfg.page
	d.kind, d.n = kindInner, 0
	h.freeRun(r.seg, r.gp, n, false)
}

// takeCachedRun returns a cached run of k pages made a busy large block,
// or nil: the best fit among the cached runs of at least k pages, the
// newest first among equals (its pages are the likeliest to be in the
// processor's caches), the pages past k going back to the free lists.
func (h *Heap) takeCachedRun(k uint32) unsafe.Pointer {
	best := -1
	var bestN uint32
	for i := len(h.runs) - 1; i >= 0; i-- {
		if n := h.pt.at(h.runs[i].gp).n; n >= k && (best < 0 || n < bestN) {
			best, bestN = i, n
			if n == k {
				break
			}
		}
	}
	if best < 0 {
		return nil
	}
	r := h.runs[best]
	if bestN > k && h.pt.touch(&h.meta, r.gp+k, r.gp+k+1) != nil {
		return nil
	}
	h.runs = append(h.runs[:best], h.runs[best+1:]...)
	h.runBytes -= uintptr(bestN) * h.cfg.page
	d := h.pt.at(r.gp)
	d.kind, d.n, d.gen = kindLarge, k, h.nextGen()
	d.flags &^= flagFreed | flagFreedSlab
	if bestN > k {
		h.freeRun(r.seg, r.gp+k, bestN-k, false)
	}
	h.inUse += uintptr(k) * h.cfg.page
	h.blocks++
	h.big.alloc(uintptr(k) * h.cfg.page)
	return h.pageAddr(r.seg, r.gp)
}

// flushRuns moves every cached run to the free lists (Compact, and before
// the heap grows: cached runs coalesced may serve the request).
func (h *Heap) flushRuns() {
	for len(h.runs) > 0 {
		h.uncacheRun(len(h.runs) - 1)
	}
}

// validateRunCache checks that the run cache holds exactly the cached runs
// the page walk found (cached, by first page), and their size.
func (h *Heap) validateRunCache(cached map[uint32]bool, runBytes uintptr) error {
	if len(h.runs) > runCacheLen || runBytes != h.runBytes {
		return fmt.Errorf("run cache: %d runs of %d bytes, count says %d bytes", len(h.runs), runBytes, h.runBytes)
	}
	for _, r := range h.runs {
		if !cached[r.gp] || h.segOfPage(r.gp) != r.seg {
			return fmt.Errorf("run cache lists page %d, not a cached run of its segment (or twice)", r.gp)
		}
		delete(cached, r.gp)
	}
	for gp := range cached {
		return fmt.Errorf("cached run at page %d is not in the run cache", gp)
	}
	return nil
}
