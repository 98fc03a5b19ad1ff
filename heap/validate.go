package heap

import (
	"fmt"
)

// Validate checks every invariant of the heap's bookkeeping and returns the
// first broken one, wrapping ErrCorrupt, or nil. It walks every page, so it
// costs time proportional to the heap's size; tests and fuzzers call it
// after every step. It may run while other goroutines allocate and free:
// it stops the per-P caches (see pcache.go) and holds every lock. With
// DebugTail it also checks the canary of every busy block, which a block
// being allocated by another goroutine at that moment may not carry yet:
// run it on a quiet heap then.
func (h *Heap) Validate() error {
	if h == nil {
		return nilHeap("validate")
	}
	if err := h.validateLocked(); err != nil || h.cfg.debug == 0 {
		return err
	}
	return h.debugValidate()
}

func (h *Heap) validateLocked() error {
	if err := h.lockEvery("validate"); err != nil {
		return err
	}
	defer h.unlockAll()
	defer h.openGate()
	if err := h.closeGate(true); err != nil {
		return err
	}
	if err := h.validate(); err != nil {
		return fmt.Errorf("heap %q: validate: %w: %w", h.cfg.name, ErrCorrupt, err)
	}
	return nil
}

// checkRun checks what a walk over segment s reads at page gp, a run's
// first page: a run that stays inside the segment, or a slab record that
// exists and starts there, so that no walk loops or leaves the tables.
func (h *Heap) checkRun(s *segment, gp uint32, d *pageDesc) error {
	end := s.gp0 + s.npages
	switch d.kind {
	case kindFreeHead, kindLarge, kindCached:
		if d.n == 0 || d.n > end-gp {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return fmt.Errorf("%w: page %d: run of %d pages leaves its segment (ends at page %d)", ErrCorrupt, gp, d.n, end)
		}
	case kindSlab:
		sl := h.st.lookup(d.a)
		if d.a >= h.st.n || sl == nil || sl.gp != gp || uint32(sl.npages) > end-gp || !h.sound(sl) || sl.base != h.pageAddr(s, gp) {
			h.state.CompareAndSwap(stateOK, stateCorrupt)
			return fmt.Errorf("%w: page %d: slab %d is missing, free or elsewhere", ErrCorrupt, gp, d.a)
		}
	default:
		h.state.CompareAndSwap(stateOK, stateCorrupt)
		return fmt.Errorf("%w: page %d (segment %#x) is kind %d where a run should start", ErrCorrupt, gp, s.addr(), d.kind)
	}
	return nil
}

func (h *Heap) validate() error {
	page := h.cfg.page
	// Segments: sorted, disjoint, numbered contiguously.
	for i := 1; i < len(h.segs); i++ {
		if a, b := h.segs[i-1], h.segs[i]; a.addr()+a.size > b.addr() {
			return fmt.Errorf("segments %#x+%#x and %#x overlap or are unsorted", a.addr(), a.size, b.addr())
		}
	}
	var next uint32
	for _, s := range h.byGP {
		if s.gp0 != next {
			return fmt.Errorf("segment %#x starts at page %d, want %d", s.addr(), s.gp0, next)
		}
		if uintptr(s.npages)*page != s.size || s.touched > s.npages {
			return fmt.Errorf("segment %#x: %d pages, %d bytes, %d touched", s.addr(), s.npages, s.size, s.touched)
		}
		next += s.npages
	}
	if next != h.pt.n {
		return fmt.Errorf("segments hold %d pages, page table %d", next, h.pt.n)
	}
	// Pages, run by run.
	var freePages, inUse, slabFree uintptr
	blocks := len(h.huge)
	freeRuns := map[uint32]bool{}
	slabs := 0
	var perClass [numClasses]int
	cached := map[uint32]bool{}
	var runBytes uintptr
	for _, s := range h.byGP {
		end := s.gp0 + s.npages
		prevFree := false
		for gp := s.gp0; gp < end; {
			d := h.pt.at(gp)
			switch d.kind {
			case kindFreeHead, kindLarge, kindCached:
				n := d.n
				if n == 0 || gp+n > end {
					return fmt.Errorf("page %d: run of %d pages leaves its segment (ends at %d)", gp, n, end)
				}
				if n > 1 && d.kind == kindFreeHead {
					if t := h.pt.at(gp + n - 1); t.kind != kindFreeTail || t.n != n {
						return fmt.Errorf("free run %d+%d: tail has kind %d length %d", gp, n, t.kind, t.n)
					}
				}
				inner := gp + n
				if d.kind == kindFreeHead && n > 1 {
					inner--
				}
				allCommitted := d.flags&flagCommitted != 0
				for g := gp + 1; g < inner; g++ {
					if !h.pt.has(g) {
						// No chunk: inner and uncommitted.
						allCommitted = false
						g = min(nextChunk(g), inner) - 1
						continue
					}
					e := h.pt.at(g)
					if e.kind != kindInner {
						return fmt.Errorf("run %d+%d: page %d has kind %d, want inner", gp, n, g, e.kind)
					}
					allCommitted = allCommitted && e.flags&flagCommitted != 0
				}
				if inner != gp+n {
					allCommitted = allCommitted && h.pt.at(gp+n-1).flags&flagCommitted != 0
				}
				if d.kind == kindFreeHead {
					if prevFree {
						return fmt.Errorf("free run at page %d follows a free run: not coalesced", gp)
					}
					if !allCommitted && d.flags&flagRunUncommitted == 0 {
						return fmt.Errorf("free run %d+%d has uncommitted pages but no mark", gp, n)
					}
					freePages += uintptr(n)
					freeRuns[gp] = true
					prevFree = true
				} else {
					if !allCommitted {
						return fmt.Errorf("large block %d+%d (kind %d) has uncommitted pages", gp, n, d.kind)
					}
					if d.kind == kindCached {
						cached[gp] = true
						runBytes += uintptr(n) * page
					} else {
						inUse += uintptr(n) * page
						blocks++
					}
					prevFree = false
				}
				gp += n
			case kindSlab:
				sl, busy, avail, err := h.validateSlab(s, gp, end, d)
				if err != nil {
					return err
				}
				ci := &h.classes[sl.class]
				slabs++
				perClass[sl.class]++
				inUse += uintptr(busy) * ci.size
				slabFree += uintptr(avail) * ci.size
				blocks += busy
				gp += ci.pages
				prevFree = false
			default:
				return fmt.Errorf("page %d (segment %#x) is kind %d where a run should start", gp, s.addr(), d.kind)
			}
		}
	}
	// Free lists hold exactly the free runs, each in its bin.
	for b := range h.bins {
		var prev uint32
		count := 0
		for g := h.bins[b]; g != 0; g = h.pt.at(g - 1).a {
			d := h.pt.at(g - 1)
			if !freeRuns[g-1] {
				return fmt.Errorf("bin %d lists page %d, not a free run head (or listed twice)", b, g-1)
			}
			delete(freeRuns, g-1)
			if binOf(d.n) != b {
				return fmt.Errorf("free run %d+%d is in bin %d, want %d", g-1, d.n, b, binOf(d.n))
			}
			if d.b != prev {
				return fmt.Errorf("free run %d: back link %d, want %d", g-1, d.b, prev)
			}
			prev = g
			count++
		}
		if (h.nonempty[b/64]&(1<<(b%64)) != 0) != (count > 0) {
			return fmt.Errorf("bin %d: %d runs, non-empty bit %v", b, count, count == 0)
		}
	}
	for gp := range freeRuns {
		return fmt.Errorf("free run at page %d is in no bin", gp)
	}
	if err := h.validateRunCache(cached, runBytes); err != nil {
		return err
	}
	if err := h.validateCentral(&perClass); err != nil {
		return err
	}
	// Free slab records.
	freeRecs := 0
	for id := h.st.free; id != 0; id = h.st.at(id - 1).next {
		if h.st.at(id-1).npages != 0 || freeRecs > int(h.st.n) {
			return fmt.Errorf("free slab record %d is in use, or the free list loops", id-1)
		}
		freeRecs++
	}
	if slabs+freeRecs != int(h.st.n) {
		return fmt.Errorf("%d slabs and %d free records, table holds %d", slabs, freeRecs, h.st.n)
	}
	for _, b := range h.huge {
		if b.res.Released() {
			return fmt.Errorf("huge block %#x is released", b.res.Base())
		}
		inUse += b.res.Size()
	}
	sInUse, sSlabFree, sBlocks := h.smallTotals()
	if freePages != h.freePages || inUse != h.inUse+sInUse || slabFree != sSlabFree || blocks != h.blocks+sBlocks {
		return fmt.Errorf("counters: free pages %d (counted %d), in use %d (%d), slab free %d (%d), blocks %d (%d)",
			h.freePages, freePages, h.inUse+sInUse, inUse, sSlabFree, slabFree, h.blocks+sBlocks, blocks)
	}
	return nil
}
