package heap

import (
	"math/bits"
	"unsafe"
)

// The back end: runs of pages in size-binned free lists, with boundary tags
// in the page table. See heap.go for the overview.

const (
	nbins    = 64 + (32-6)*4 // exact bins for 1..64 pages, then 4 per doubling up to 2^32
	binWords = (nbins + 63) / 64
)

// binOf returns the bin of a run of n pages (n >= 1). Bins are ordered by
// size: every run in bin b is smaller than every run in bin b+1.
func binOf(n uint32) int {
	if n <= 64 {
		return int(n) - 1
	}
	m := n - 1
	k := bits.Len32(m) - 1 // 6..31
	return 64 + (k-6)*4 + int(m>>(k-2))&3
}

// insertFree makes [gp, gp+n) a free run and files it. uncommitted says
// some of its pages may lack flagCommitted.
func (h *Heap) insertFree(gp, n uint32, uncommitted bool) {
	if n == 0 {
		h.pt.bad = true // only corrupt lengths lead here
		return
	}
	d := h.pt.at(gp)
	d.kind, d.n = kindFreeHead, n
	d.flags &^= flagRunUncommitted
	if uncommitted {
		d.flags |= flagRunUncommitted
	}
	if n > 1 {
		t := h.pt.at(gp + n - 1)
		t.kind, t.n = kindFreeTail, n
	}
	b := binOf(n)
	d.b = 0
	d.a = h.bins[b]
	if d.a != 0 {
		h.pt.at(d.a - 1).b = gp + 1
	}
	h.bins[b] = gp + 1
	h.nonempty[b/64] |= 1 << (b % 64)
	h.freePages += uintptr(n)
}

// removeFree unlinks the free run at gp and clears its tags (the pages
// become inner). It returns the run's length and whether it may hold
// uncommitted pages.
func (h *Heap) removeFree(gp uint32) (n uint32, uncommitted bool) {
	d := h.pt.at(gp)
	n = d.n
	uncommitted = d.flags&flagRunUncommitted != 0
	b := binOf(max(n, 1))
	if n == 0 || d.b == 0 && h.bins[b] != gp+1 || d.b != 0 && h.pt.at(d.b-1).a != gp+1 {
		// The run is not where its tags say: poison the heap, touch
		// nothing (Heap.checkTables turns this into the call's error).
		h.pt.bad = true
		return max(n, 1), true
	}
	if d.b != 0 {
		h.pt.at(d.b - 1).a = d.a
	} else {
		h.bins[b] = d.a
		if d.a == 0 {
			h.nonempty[b/64] &^= 1 << (b % 64)
		}
	}
	if d.a != 0 {
		h.pt.at(d.a - 1).b = d.b
	}
	d.kind, d.n, d.a, d.b = kindInner, 0, 0, 0
	d.flags &^= flagRunUncommitted
	if n > 1 {
		t := h.pt.at(gp + n - 1)
		t.kind, t.n = kindInner, 0
	}
	h.freePages -= uintptr(n)
	return n, uncommitted
}

// findFree returns the head of a free run of at least n pages, or 0 with
// ok false.
func (h *Heap) findFree(n uint32) (gp uint32, ok bool) {
	b := binOf(n)
	if b < 64 && h.bins[b] != 0 {
		return h.bins[b] - 1, true // exact fit
	}
	// Best fit among the first runs of the (inexact) bin.
	var best, bestN uint32
	visited := 0
	for g := h.bins[b]; g != 0 && visited < 32; g = h.pt.at(g - 1).a {
		if m := h.pt.at(g - 1).n; m >= n && (best == 0 || m < bestN) {
			best, bestN = g, m
		}
		visited++
	}
	if best != 0 {
		return best - 1, true
	}
	// Any run of a larger bin fits.
	for w := (b + 1) / 64; w < binWords; w++ {
		mask := h.nonempty[w]
		if w == (b+1)/64 {
			mask &^= 1<<((b+1)%64) - 1
		}
		if mask != 0 {
			return h.bins[w*64+bits.TrailingZeros64(mask)] - 1, true
		}
	}
	// Last resort: the rest of the bin, first fit.
	for g, k := h.bins[b], uint32(0); g != 0; g, k = h.pt.at(g-1).a, k+1 {
		if k > h.pt.n {
			h.pt.bad = true // a cycle
			break
		}
		if h.pt.at(g-1).n >= n {
			return g - 1, true
		}
	}
	return 0, false
}

// takeRun removes the free run at gp, keeps [gp+skip, gp+skip+n) for the
// caller and frees the rest on both sides. It returns whether the kept
// pages may hold uncommitted ones.
func (h *Heap) takeRun(s *segment, gp, skip, n uint32) (uncommitted bool) {
	m, unc := h.removeFree(gp)
	if skip > 0 {
		h.insertFree(gp, skip, unc)
	}
	if rest := m - skip - n; rest > 0 {
		h.insertFree(gp+skip+n, rest, unc)
	}
	if end := gp + skip + n - s.gp0; end > s.touched {
		s.touched = end
	}
	return unc
}

// commitRun makes the pages [gp, gp+n) of s usable. It commits them (and up
// to SegmentCommit bytes in all) where some may be uncommitted, marks them
// committed, and reports whether all of them were fresh (so read as zero).
func (h *Heap) commitRun(s *segment, gp, n uint32, uncommitted bool) (fresh bool, err error) {
	if !uncommitted {
		return false, nil
	}
	need, clean, first := 0, 0, uint32(0)
	for g := gp; g < gp+n; g++ {
		switch f := h.pt.at(g).flags; {
		case f&flagCommitted == 0:
			if need == 0 {
				first = g
			}
			need++
		case f&flagClean != 0:
			clean++
		}
	}
	if clean > 0 {
		// Clean pages handed out are clean no more, wherever they lie
		// in the run: before the first uncommitted page as well as
		// among those committed below.
		for g := gp; g < gp+n; g++ {
			h.pt.at(g).flags &^= flagClean
		}
	}
	if need == 0 {
		return clean == int(n), nil
	}
	page := h.cfg.page
	lo0 := uintptr(first-s.gp0) * page
	hi0 := uintptr(gp+n-s.gp0) * page
	// Commit a whole step ahead and remember it in the descriptors, so
	// that the next runs carved from the same free run need no system
	// call: a heap filling its reserve makes one per step. Near the
	// commit limit, only the run.
	lo, hi := lo0, hi0
	step := h.commitStep()
	if s.below {
		lo -= min(lo, step-min(step, hi-lo))
	} else {
		hi = min(max(hi, lo+step), s.size)
	}
	if h.admit(s.res.CommitCost(s.addr()+lo, hi-lo)) != nil {
		lo, hi = lo0, hi0
		if err := h.admit(s.res.CommitCost(s.addr()+lo, hi-lo)); err != nil {
			return false, err
		}
	}
	end := s.gp0 + uint32(hi/page)
	if err := h.pt.touch(&h.meta, s.gp0+uint32(lo/page), end); err != nil {
		return false, err
	}
	if err := s.res.Commit(s.addr()+lo, hi-lo); err != nil {
		return false, err
	}
	for g := s.gp0 + uint32(lo/page); g < end; g++ {
		d := h.pt.at(g)
		switch {
		case g >= gp && g < gp+n:
			d.flags |= flagCommitted
		case d.flags&flagCommitted == 0:
			// Committed ahead, never handed out: it reads as zero.
			d.flags |= flagCommitted | flagClean
		}
	}
	return need+clean == int(n), nil
}

// commitStep is the least the heap commits at a time: SegmentCommit, but
// at least 256 KiB (four Windows allocation granules, which keeps a filling
// heap well under one system call per 64 KiB), and two huge pages on
// huge-page heaps.
func (h *Heap) commitStep() uintptr {
	step := max(h.cfg.segCommit, 256<<10)
	if h.cfg.hugePages {
		step = max(step, 4<<20)
	}
	return step
}

// freeRun returns [gp, gp+n) of s to the free lists, coalescing with free
// neighbours, and decommits per the thresholds.
func (h *Heap) freeRun(s *segment, gp, n uint32, uncommitted bool) {
	lo, hi := gp, gp+n // the coalesced run
	dlo, dhi := gp, gp+n
	leftUnc, rightUnc := false, false
	if head, ok := h.freeBefore(s, lo); ok {
		_, unc := h.removeFree(head)
		lo, leftUnc = head, unc
		if !unc {
			dlo = head
		}
	}
	if hi < s.gp0+s.npages {
		if d := h.pt.at(hi); d.kind == kindFreeHead {
			m, unc := h.removeFree(hi)
			rightUnc = unc
			if !unc {
				dhi = hi + m
			}
			hi += m
		}
	}
	unc := uncommitted || leftUnc || rightUnc
	size := uintptr(hi-lo) * h.cfg.page
	if !uncommitted && size >= h.cfg.decFree && (h.freePages*h.cfg.page+size) > h.cfg.decTotal {
		if s.res.Unit() > h.cfg.page {
			dlo, dhi = lo, hi
		}
		if h.decommit(s, dlo, dhi) {
			unc = true
		}
	}
	h.insertFree(lo, hi-lo, unc)
}

// freeBefore returns the head of the free run ending just before page gp
// of s, if there is one.
func (h *Heap) freeBefore(s *segment, gp uint32) (uint32, bool) {
	if gp == s.gp0 {
		return 0, false
	}
	switch d := h.pt.at(gp - 1); {
	case d.kind == kindFreeTail:
		return gp - d.n, true
	case d.kind == kindFreeHead && d.n == 1:
		return gp - 1, true
	}
	return 0, false
}

// decommit decommits the whole units of the reservation inside pages
// [lo, hi) of s and clears their committed marks. It reports whether it
// decommitted anything. A refusal by the OS is not an error for the caller:
// the pages simply stay committed.
func (h *Heap) decommit(s *segment, lo, hi uint32) bool {
	page, unit := h.cfg.page, s.res.Unit()
	a := s.addr() + uintptr(lo-s.gp0)*page
	b := s.addr() + uintptr(hi-s.gp0)*page
	a = (a + unit - 1) &^ (unit - 1)
	b &^= unit - 1
	if a >= b {
		return false
	}
	if err := s.res.Decommit(a, b-a); err != nil {
		return false
	}
	first := s.gp0 + uint32((a-s.addr())/page)
	last := s.gp0 + uint32((b-s.addr())/page)
	h.pt.clearFlags(first, last, flagCommitted|flagClean)
	return true
}

// pageAddr returns the address of page gp of s.
func (h *Heap) pageAddr(s *segment, gp uint32) unsafe.Pointer { return s.ptr(gp, h.cfg.page) }
