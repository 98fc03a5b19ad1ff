//go:build windows

package ntheap

import (
	"fmt"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/winapi"
)

// Kind is what a HeapWalk entry describes.
type Kind uint8

const (
	// Busy is an allocated block: the caller's or the heap's own (LFH
	// subsegments and other internal blocks are busy too).
	Busy Kind = iota
	// Free is a free block inside committed memory.
	Free
	// Region is a segment (Windows) or sub-heap (Wine): a range of address
	// space the heap reserved, its committed and uncommitted bytes.
	Region
	// Uncommitted is a reserved, not committed range inside a region.
	Uncommitted
)

func (k Kind) String() string {
	switch k {
	case Busy:
		return "busy"
	case Free:
		return "free"
	case Region:
		return "region"
	case Uncommitted:
		return "uncommitted"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Entry is one entry of HeapWalk.
type Entry struct {
	Ptr  unsafe.Pointer // lpData: the block, or the start of the region
	Size int            // cbData
	Kind Kind
	// Overhead is the heap's bytes around the block (cbOverhead).
	Overhead int
	// Committed and Uncommitted are a Region's sizes; their sum is the
	// region's address space.
	Committed, Uncommitted int
}

// End returns the first address after the entry: for a region, after its
// committed and uncommitted bytes.
func (e Entry) End() uintptr {
	if e.Kind == Region {
		return uintptr(e.Ptr) + uintptr(e.Committed+e.Uncommitted)
	}
	return uintptr(e.Ptr) + uintptr(e.Size)
}

// Walk calls fn for every entry HeapWalk reports, in HeapWalk's order
// (each region, then its blocks and uncommitted ranges; large blocks of
// their own last), until fn returns false. fn runs with the heap locked
// and must not call the heap's methods.
func (hp *Heap) Walk(fn func(Entry) bool) error {
	if err := hp.lock("walk"); err != nil {
		return err
	}
	defer hp.mu.Unlock()
	hp.walk(fn)
	return nil
}

func (hp *Heap) walk(fn func(Entry) bool) {
	WalkHandle(hp.h, fn)
}

// WalkHandle walks any heap of this process by handle (GetProcessHeaps
// lists them), with HeapLock held so that other threads cannot change it
// meanwhile. It returns false if the heap could not be locked.
func WalkHandle(h uintptr, fn func(Entry) bool) bool {
	return winapi.WalkHeap(h, func(e *winapi.ProcessHeapEntry) bool {
		x := Entry{Ptr: winapi.PointerAt(e.Data), Size: int(e.DataSize), Overhead: int(e.Overhead)}
		switch {
		case e.Flags&winapi.ProcessHeapRegion != 0:
			x.Kind, x.Committed, x.Uncommitted = Region, int(e.CommittedSize), int(e.UncommittedSize)
		case e.Flags&winapi.ProcessHeapUncommittedRange != 0:
			x.Kind = Uncommitted
		case e.Flags&winapi.ProcessHeapEntryBusy != 0:
			x.Kind = Busy
		default:
			x.Kind = Free
		}
		return fn(x)
	})
}

// live returns the recorded size of the live block p, or the error for a
// pointer that is not one: ErrDoubleFree for a freed block or an address
// in the heap's free memory, ErrInvalidPointer for an interior pointer or
// a pointer outside the heap. Only a live block may be passed to ntdll.
func (hp *Heap) live(op string, p unsafe.Pointer) (uintptr, error) {
	if p == nil {
		return 0, hp.badPointer(op, p, heap.ErrInvalidPointer, "nil")
	}
	size, live, known := hp.blocks.lookup(uintptr(p))
	switch {
	case live:
		return size, nil
	case known:
		return 0, hp.badPointer(op, p, heap.ErrDoubleFree, "freed block")
	}
	// Unknown: where does it point? A walk costs time, but only a bad
	// call pays it.
	a := uintptr(p)
	sentinel, why := heap.ErrInvalidPointer, "not in the heap"
	hp.walk(func(e Entry) bool {
		if a < uintptr(e.Ptr) || a >= e.End() {
			return true
		}
		switch e.Kind {
		case Busy:
			sentinel, why = heap.ErrInvalidPointer, fmt.Sprintf("inside the busy block %p of %d bytes", e.Ptr, e.Size)
			if a == uintptr(e.Ptr) {
				why = "a block the heap uses itself"
			}
			return false
		case Free, Uncommitted:
			// Never handed out as a block (a freed block is in the
			// record, above): the pure-Go heap's answer for free space.
			sentinel, why = heap.ErrInvalidPointer, fmt.Sprintf("in the %s range %p of %d bytes", e.Kind, e.Ptr, e.Size)
			return false
		case Region:
			// Keep looking for the block inside the region; if none
			// holds it, it is in the region's free or header space.
			sentinel, why = heap.ErrInvalidPointer, fmt.Sprintf("in the region %p, in no block", e.Ptr)
		}
		return true
	})
	return 0, hp.badPointer(op, p, sentinel, why)
}

func (hp *Heap) badPointer(op string, p unsafe.Pointer, sentinel error, why string) error {
	return fmt.Errorf("ntheap %q: %s %p: %w: %s", hp.name, op, p, sentinel, why)
}

// Stats reports the heap's memory from one walk: Reserved and Committed
// from the regions and the large blocks outside them, Free and Largest
// from the free blocks, InUse and Blocks from the live blocks the Heap
// recorded (the sizes asked for), MetaReserved and MetaCommitted from that
// record. Resident is not measured (zero). A destroyed heap reports zeros.
// The walk visits every block: call Stats per report, not per allocation
// (and under Wine, whose HeapWalk slows down with the blocks before the
// current one, not on heaps of hundreds of thousands of blocks).
// HeapSummary would be cheaper, but Wine only has a stub of it.
func (hp *Heap) Stats() heap.Stats {
	if hp.lock("stats") != nil {
		return heap.Stats{}
	}
	defer hp.mu.Unlock()
	var st heap.Stats
	var regions []Entry
	var busy []Entry
	hp.walk(func(e Entry) bool {
		switch e.Kind {
		case Region:
			regions = append(regions, e)
			st.Reserved += uint64(e.Committed + e.Uncommitted)
			st.Committed += uint64(e.Committed)
		case Free:
			st.Free += uint64(e.Size)
			st.Largest = max(st.Largest, uint64(e.Size))
		case Busy:
			busy = append(busy, e)
		}
		return true
	})
	st.Segments = len(regions)
	// Busy blocks outside every region have an allocation of their own
	// (above VirtualMemoryThreshold).
	var ranges []Entry
	for _, b := range busy {
		if !inAny(regions, uintptr(b.Ptr)) {
			st.HugeBlocks++
			n := uint64(b.Size + b.Overhead)
			st.Reserved += n
			st.Committed += n
			ranges = append(ranges, b)
		}
	}
	st.Ranges = countRanges(append(ranges, regions...))
	hp.blocks.each(func(_, size uintptr) {
		st.Blocks++
		st.InUse += uint64(size)
	})
	st.MetaReserved = hp.blocks.bytes()
	st.MetaCommitted = st.MetaReserved
	return st
}

func inAny(regions []Entry, a uintptr) bool {
	for _, r := range regions {
		if a >= uintptr(r.Ptr) && a < r.End() {
			return true
		}
	}
	return false
}

// countRanges counts the separate address ranges of entries, merging those
// that touch.
func countRanges(es []Entry) int {
	type span struct{ lo, hi uintptr }
	spans := make([]span, 0, len(es))
	for _, e := range es {
		spans = append(spans, span{uintptr(e.Ptr), e.End()})
	}
	n := 0
	for i, s := range spans {
		touches := false
		for j, t := range spans {
			if i != j && t.hi == s.lo {
				touches = true
			}
		}
		if !touches {
			n++
		}
	}
	return n
}

// Validate checks the heap with RtlValidateHeap and that every block the
// Heap recorded is a block of at least its size to RtlSizeHeap.
func (hp *Heap) Validate() error {
	if err := hp.lock("validate"); err != nil {
		return err
	}
	defer hp.mu.Unlock()
	ns := hp.flags & winapi.HeapNoSerialize
	if !winapi.RtlValidateHeap(hp.h, ns, nil) {
		return fmt.Errorf("ntheap %q: validate: %w: RtlValidateHeap failed", hp.name, heap.ErrCorrupt)
	}
	var err error
	hp.blocks.each(func(addr, size uintptr) {
		if err != nil {
			return
		}
		if got := winapi.RtlSizeHeap(hp.h, ns, winapi.PointerAt(addr)); got == ^uintptr(0) || got < size {
			err = fmt.Errorf("ntheap %q: validate: %w: block %#x of %d bytes has RtlSizeHeap %d",
				hp.name, heap.ErrCorrupt, addr, size, int(got))
		}
	})
	return err
}

// Compact calls RtlCompactHeap, which coalesces free blocks and decommits
// what it can, and returns the largest free block it reports (Wine's
// RtlCompactHeap does nothing and reports 0).
func (hp *Heap) Compact() (int, error) {
	if err := hp.lock("compact"); err != nil {
		return 0, err
	}
	defer hp.mu.Unlock()
	return int(winapi.RtlCompactHeap(hp.h, hp.flags&winapi.HeapNoSerialize)), nil
}

// LowFragmentation reports whether the heap runs the low-fragmentation
// front end (HeapQueryInformation HeapCompatibilityInformation == 2), and
// whether the system could tell.
func (hp *Heap) LowFragmentation() (lfh, known bool, err error) {
	if err := hp.lock("query"); err != nil {
		return false, false, err
	}
	defer hp.mu.Unlock()
	v, ok := winapi.HeapCompatibility(hp.h)
	return v == winapi.HeapCompatibilityLFH, ok, nil
}
