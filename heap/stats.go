package heap

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmem"
)

// Stats describes a heap's memory at one moment. Byte counts are uint64 so
// that emulated spaces larger than the host's int fit.
type Stats struct {
	// Reserved is the address space of the heap's segments and huge
	// blocks (not its metadata).
	Reserved uint64
	// Committed is the sum of what those reservations have committed:
	// each one's committed interval (the watermark) less the holes
	// decommitted inside it (vmem.Reservation.Committed).
	Committed uint64
	// CommitLimit is Options.CommitLimit as SetCommitLimit left it: the
	// most Committed may reach (0: no limit).
	CommitLimit uint64
	// Resident is how much of Committed is in physical memory: measured
	// with mincore on Linux and FreeBSD and QueryWorkingSetEx on Windows;
	// equal to Committed on macOS.
	Resident uint64
	// InUse is the usable size of every busy block.
	InUse uint64
	// Free is the size of the free runs of pages and of the free blocks
	// in slabs.
	Free uint64
	// Largest is the largest request that succeeds without growing the
	// heap: the largest free run of pages, or, when that run is too small
	// for a large block, the largest size class whose new slab fits it (0
	// when none does). Smaller requests may still fail where their slab
	// needs more pages than the run; blocks free in existing slabs are not
	// counted.
	Largest uint64
	// Quarantined is the usable size of freed blocks that wait in the
	// quarantine (DebugQuarantine) before reuse: neither in use nor free.
	// They are not in Blocks, but huge ones are in HugeBlocks.
	Quarantined uint64
	// Blocks counts busy blocks, HugeBlocks those with a reservation of
	// their own.
	Blocks, HugeBlocks int
	// Segments counts the heap's segments (reservations and in-place
	// extensions); Ranges the separate address ranges of segments and huge
	// blocks, address-adjacent ones merged.
	Segments, Ranges int
	// MetaReserved, MetaCommitted and MetaResident describe the heap's
	// bookkeeping reservations: their address space, what of it is
	// committed (page descriptors exist only for pages in use) and what of
	// that is in physical memory, measured as Resident is.
	MetaReserved, MetaCommitted, MetaResident uint64
	// Counters are the heap's cumulative counts (see Heap.Counters).
	Counters Counters
	// HugePages is how much of the heap's memory is backed by transparent
	// huge pages (AnonHugePages in /proc/self/smaps; Linux, host space
	// only, else 0). Reading smaps costs a pass over every mapping of the
	// process, so it is read only for HugePages heaps, or for every heap
	// when the system's THP mode is "always".
	HugePages uint64
}

// Counters are a heap's cumulative counts since New: what it handed out
// and took back, and what it could not serve. Blocks freed by Reset count
// as frees. Heap.Counters reads them without stopping the heap.
type Counters struct {
	// Allocs and Frees count blocks handed out and taken back;
	// AllocBytes and FreeBytes their usable sizes (a large block resized
	// in place adds its growth to AllocBytes, its shrinking to
	// FreeBytes). Allocs-Frees is the number of busy blocks.
	Allocs, Frees, AllocBytes, FreeBytes uint64
	// Failures counts the Alloc, Calloc, AllocAligned and Realloc calls
	// that could not be served: no memory (ErrNoMemory), too large, a heap
	// destroyed or found corrupt. Calls with invalid arguments (sizes,
	// pointers) are not counted.
	Failures uint64
	// Classes are the small blocks' counts per size class, smallest first
	// (an array, so that Counters and Stats stay comparable with ==).
	Classes [SizeClasses]ClassCounters
}

// SizeClasses is the number of size classes that serve blocks of up to
// 16 KiB.
const SizeClasses = numClasses

// ClassCounters are the cumulative counts of one size class.
type ClassCounters struct {
	Size          int // the class's block size
	Allocs, Frees uint64
}

// Counters reads the heap's cumulative counts in O(size classes + Ps),
// without a lock and without stopping the heap: while other goroutines
// allocate, each count is one of a moment near the call, not all of the
// same moment. A destroyed heap reports what it had counted.
func (h *Heap) Counters() Counters {
	if h == nil {
		return Counters{}
	}
	c := Counters{
		Allocs: h.big.allocs.Load(), Frees: h.big.frees.Load(),
		AllocBytes: h.big.allocBytes.Load(), FreeBytes: h.big.freeBytes.Load(),
		Failures: h.failures.Load(),
	}
	for k := range h.central {
		a, f := h.classCounts(k)
		size := h.classes[k].size
		c.Allocs += a
		c.Frees += f
		c.AllocBytes += a * uint64(size)
		c.FreeBytes += f * uint64(size)
		c.Classes[k] = ClassCounters{Size: int(size), Allocs: a, Frees: f}
	}
	return c
}

// bigCounts are the cumulative counts of large and huge blocks, written
// under the heap's lock and read by Counters without it.
type bigCounts struct {
	allocs, frees, allocBytes, freeBytes atomic.Uint64
}

func (b *bigCounts) alloc(n uintptr) { b.allocs.Add(1); b.allocBytes.Add(uint64(n)) }
func (b *bigCounts) free(n uintptr)  { b.frees.Add(1); b.freeBytes.Add(uint64(n)) }

// counted counts an allocation call the heap could not serve (not one
// with invalid arguments) and passes its results on.
func (h *Heap) counted(p unsafe.Pointer, err error) (unsafe.Pointer, error) {
	if err != nil && (errors.Is(err, ErrNoMemory) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrDestroyed)) {
		h.failures.Add(1)
	}
	return p, err
}

// String renders the stats on one line with binary units, in the order of
// the fields: what the heap reserved and committed, what is resident, in use
// and free, then the counts, e.g. "reserved 1 MiB, committed 64 KiB,
// resident 64 KiB, in use 100 B in 1 block (0 huge), free 60 KiB (largest
// 60 KiB), 1 segment in 1 range, metadata 64 KiB reserved, 4 KiB committed,
// 4 KiB resident".
func (s Stats) String() string {
	b := units.Bytes
	return fmt.Sprintf("reserved %s, committed %s, resident %s, in use %s in %s (%d huge), free %s (largest %s), %s in %s, metadata %s reserved, %s committed, %s resident",
		b(s.Reserved), b(s.Committed), b(s.Resident), b(s.InUse), plural(s.Blocks, "block"), s.HugeBlocks,
		b(s.Free), b(s.Largest), plural(s.Segments, "segment"), plural(s.Ranges, "range"),
		b(s.MetaReserved), b(s.MetaCommitted), b(s.MetaResident))
}

// plural writes a count and its noun, adding an s unless the count is one.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Stats reports the heap's memory. A destroyed heap reports zeros.
// Measuring Resident costs one system call per 16 MiB committed (plus a
// pass over a byte per page), under the heap's lock: call Stats per report,
// not per allocation.
func (h *Heap) Stats() Stats {
	if h == nil {
		return Stats{}
	}
	return h.stats(true)
}

// stats is Stats; without measure it leaves out what takes system calls
// (Resident, MetaResident, HugePages), for checks after every step.
func (h *Heap) stats(measure bool) Stats {
	if h.lockEvery("stats") != nil {
		return Stats{}
	}
	defer h.unlockAll()
	var st Stats
	for _, r := range h.res {
		st.Reserved += uint64(r.Size())
	}
	for _, b := range h.huge {
		st.Reserved += uint64(b.res.Size())
	}
	st.Committed, st.CommitLimit = uint64(h.committed()), uint64(h.commitLimit.Load())
	inUse, slabFree, blocks := h.smallTotals()
	st.InUse = uint64(h.inUse + inUse)
	st.Free = uint64(h.freePages*h.cfg.page + h.runBytes + slabFree)
	st.Largest = uint64(h.largest())
	st.Blocks, st.HugeBlocks = h.blocks+blocks, len(h.huge)
	qn, qb := h.quar.count()
	st.Blocks -= qn
	st.InUse -= uint64(qb)
	st.Quarantined = uint64(qb)
	st.Segments = len(h.segs)
	st.Ranges = len(h.ranges())
	st.MetaReserved, st.MetaCommitted = uint64(h.meta.reserved()), uint64(h.meta.committed())
	st.Counters = h.Counters()
	if !measure {
		return st
	}
	for _, r := range h.res {
		st.Resident += resident(r)
	}
	for _, b := range h.huge {
		st.Resident += resident(b.res)
	}
	st.MetaResident = h.meta.resident()
	if h.cfg.space == vmem.OS() && (h.cfg.hugePages || thpAlways()) {
		st.HugePages = anonHugePages(h.ranges())
	}
	return st
}

// Segments returns the heap's segments in address order. A destroyed heap
// has none.
func (h *Heap) Segments() []vmem.Range {
	if h == nil {
		return nil
	}
	if h.lock("segments") != nil {
		return nil
	}
	defer h.unlockHeap()
	out := make([]vmem.Range, len(h.segs))
	for i, s := range h.segs {
		out[i] = vmem.Range{Base: s.addr(), Size: s.size}
	}
	return out
}

// Ranges returns the separate address ranges of the heap's segments and huge
// blocks, in address order, with address-adjacent ones merged: what a map of
// the process shows as the heap's stripes.
func (h *Heap) Ranges() []vmem.Range {
	if h == nil {
		return nil
	}
	if h.lock("ranges") != nil {
		return nil
	}
	defer h.unlockHeap()
	return h.ranges()
}

func (h *Heap) ranges() []vmem.Range {
	rs := make([]vmem.Range, 0, len(h.segs)+len(h.huge))
	for _, s := range h.segs {
		rs = append(rs, vmem.Range{Base: s.addr(), Size: s.size})
	}
	for _, b := range h.huge {
		rs = append(rs, b.res.Range())
	}
	slices.SortFunc(rs, func(a, b vmem.Range) int {
		switch {
		case a.Base < b.Base:
			return -1
		case a.Base > b.Base:
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].End() == r.Base {
			out[n-1].Size += r.Size
			continue
		}
		out = append(out, r)
	}
	return out
}

// Compact decommits every free page the reservations' units allow, returns
// empty slabs to the back end, and returns the largest request that then
// succeeds without growing (Stats.Largest), like HeapCompact.
func (h *Heap) Compact() (int, error) {
	if h == nil {
		return 0, nilHeap("compact")
	}
	if err := h.lockEvery("compact"); err != nil {
		return 0, err
	}
	defer h.unlockAll()
	defer h.openGate()
	if err := h.closeGate(true); err != nil {
		return 0, err
	}
	h.dropEmpty()
	h.flushRuns()
	// In address order, so that each decommit starts at the bottom of the
	// reservation's committed interval and the watermark shrinks with it.
	for _, s := range h.segs {
		for gp, end := s.gp0, s.gp0+s.npages; gp < end; {
			d := h.pt.at(gp)
			if err := h.checkRun(s, gp, d); err != nil {
				return 0, fmt.Errorf("heap %q: compact: %w", h.cfg.name, err)
			}
			switch d.kind {
			case kindFreeHead:
				if h.decommit(s, gp, gp+d.n) {
					d.flags |= flagRunUncommitted
				}
				gp += d.n
			case kindLarge:
				gp += d.n
			case kindSlab:
				gp += uint32(h.st.at(d.a).npages)
			case kindCached:
				// flushRuns emptied the run cache: a cached run here is
				// one it never held (FuzzMetadata: the walk looped on it).
				h.state.CompareAndSwap(stateOK, stateCorrupt)
				return 0, fmt.Errorf("heap %q: compact: %w: page %d heads a cached run the run cache does not hold", h.cfg.name, ErrCorrupt, gp)
			}
		}
	}
	largest := h.largest()
	if err := h.checkTables("compact"); err != nil {
		return 0, err
	}
	return int(largest), nil
}

// Reset frees every block at once and keeps the heap's segments (and their
// committed memory) for reuse: the per-request arena. Huge blocks, which own
// their reservations, are released. Pointers into the heap are invalid
// afterwards, though touching them does not fault.
func (h *Heap) Reset() error {
	if h == nil {
		return nilHeap("reset")
	}
	if err := h.lockEvery("reset"); err != nil {
		return err
	}
	defer h.unlockAll()
	h.quar.empty()
	h.epoch.Add(1)
	var first error
	for _, b := range h.huge {
		if err := h.freeHuge(b); err != nil && first == nil {
			first = err
		}
	}
	defer h.openGate()
	if err := h.closeGate(false); err != nil {
		return err
	}
	for id := uint32(0); id < h.st.n; id++ {
		if sl := h.st.at(id); sl.npages != 0 {
			if !h.sound(sl) {
				h.state.CompareAndSwap(stateOK, stateCorrupt)
				return h.stateErr("reset")
			}
			c := int(sl.class)
			if h.tagUse != nil {
				clear(unsafe.Slice((*Tag)(unsafe.Add(sl.state, h.classes[c].tagOff)), h.classes[c].nobj))
			}
			for i, st := range unsafe.Slice((*byte)(sl.state), h.classes[c].nobj) {
				if isBusy(st) { // freed: a Ref taken before Reset no longer matches
					*sl.stateOf(uintptr(i)) = freed(st)
				}
			}
			h.spare[c] = append(h.spare[c], sl.state)
		}
	}
	h.unmapSlabs()
	h.resetTags()
	h.st.n, h.st.free = 0, 0
	h.resetCaches()
	h.runs, h.runBytes = nil, 0
	h.bins, h.nonempty = [nbins]uint32{}, [binWords]uint64{}
	h.freePages = 0
	var hugeBytes uintptr
	for _, b := range h.huge {
		hugeBytes += b.res.Size()
	}
	h.big.frees.Add(uint64(h.blocks - len(h.huge))) // the large blocks wiped
	h.big.freeBytes.Add(uint64(h.inUse - hugeBytes))
	h.inUse, h.blocks = hugeBytes, len(h.huge)
	for _, s := range h.byGP {
		end := s.gp0 + s.npages
		lim := min(s.gp0+s.touched+1, end)
		unc := s.touched < s.npages
		for g := s.gp0; g < lim; g++ {
			d := h.pt.at(g)
			*d = pageDesc{flags: d.flags & flagCommitted}
			if d.flags == 0 {
				unc = true
			}
		}
		t := h.pt.at(end - 1)
		*t = pageDesc{flags: t.flags & flagCommitted}
		h.insertFree(s.gp0, s.npages, unc)
	}
	if first != nil {
		return fmt.Errorf("heap %q: reset: %w", h.cfg.name, first)
	}
	return nil
}
