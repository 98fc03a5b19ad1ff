//go:build windows

package ntheap

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/winapi"
)

// Options are RtlCreateHeap's parameters in Go form. The zero value is a
// growable heap with the system's defaults, like HeapCreate(0, 0, 0).
// Sizes are bytes; zero means the system's default.
type Options struct {
	// Name labels the heap in errors and in maps of this process. An
	// empty name leaves the heap unnamed in maps ("process heap N").
	Name string
	// Reserve is RtlCreateHeap's ReserveSize: the address space reserved
	// in one piece at creation, committed on demand. PoC.HeapReserve's fix.
	Reserve int
	// Commit is the CommitSize (HeapCreate's dwInitialSize): committed at
	// creation.
	Commit int
	// Maximum makes a fixed-size heap of that many bytes (HeapCreate with
	// a dwMaximumSize): not growable, its whole size reserved at
	// creation. Reserve must be 0 or equal to it.
	Maximum int
	// HeapCreate creates the heap with kernel32!HeapCreate(0, Commit,
	// Maximum) instead of ntdll!RtlCreateHeap, as PoC.HeapReserve's first
	// heap: Reserve and the RTL_HEAP_PARAMETERS fields must be zero.
	HeapCreate bool
	// The RTL_HEAP_PARAMETERS fields that shape growth and decommit (the
	// NT heap's defaults: SegmentReserve 1 MiB, doubling): SegmentReserve and
	// SegmentCommit size the segments added past the reserve,
	// DecommitFreeBlock and DecommitTotalFree are the decommit thresholds,
	// VirtualMemoryThreshold the block size above which blocks get a
	// VirtualAlloc of their own. Wine ignores them (see the README).
	SegmentReserve, SegmentCommit        int
	DecommitFreeBlock, DecommitTotalFree int
	VirtualMemoryThreshold               int
	// NoSerialize is HEAP_NO_SERIALIZE: ntdll takes no lock. The Heap's
	// own bookkeeping is still locked, so the Heap stays safe for
	// concurrent use.
	NoSerialize bool
	// Zero is HEAP_ZERO_MEMORY on every allocation and reallocation.
	Zero bool
}

// Heap is an NT heap behind heap.Allocator. It is safe for concurrent use.
type Heap struct {
	name      string
	opts      Options
	flags     uint32 // per-call flags: HEAP_NO_SERIALIZE, HEAP_ZERO_MEMORY
	limit     uintptr
	mu        sync.Mutex
	h         uintptr // the NT heap handle (its base address); 0 after Destroy
	blocks    *table  // nil after Destroy
	destroyed bool
}

var _ heap.Allocator = (*Heap)(nil)

// New creates an NT heap: RtlCreateHeap(HEAP_GROWABLE | HEAP_CLASS_1,
// NULL, Reserve, Commit, NULL, parameters), as PoC.HeapReserve's proof of
// concept, or a fixed heap when Maximum is set, or HeapCreate when asked.
func New(o Options) (*Heap, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	hp := &Heap{name: o.Name, opts: o}
	if o.NoSerialize {
		hp.flags |= winapi.HeapNoSerialize
	}
	if o.Zero {
		hp.flags |= winapi.HeapZeroMemory
	}
	hp.limit = requestLimit()
	if o.Maximum > 0 {
		hp.limit = min(hp.limit, uintptr(o.Maximum))
	}
	var err error
	if hp.blocks, err = newTable(); err != nil {
		return nil, &heap.NoMemoryError{Heap: o.Name, Op: "create", Err: err}
	}
	if o.HeapCreate {
		var create uint32
		if o.NoSerialize {
			create |= winapi.HeapNoSerialize
		}
		hp.h, err = winapi.HeapCreate(create, uintptr(o.Commit), uintptr(o.Maximum))
	} else {
		flags := uint32(winapi.HeapGrowable | winapi.HeapClass1)
		reserve := uintptr(o.Reserve)
		if o.Maximum > 0 {
			flags, reserve = winapi.HeapClass1, uintptr(o.Maximum)
		}
		if o.NoSerialize {
			flags |= winapi.HeapNoSerialize
		}
		p := winapi.RtlHeapParameters{
			SegmentReserve:             uintptr(o.SegmentReserve),
			SegmentCommit:              uintptr(o.SegmentCommit),
			DeCommitFreeBlockThreshold: uintptr(o.DecommitFreeBlock),
			DeCommitTotalFreeThreshold: uintptr(o.DecommitTotalFree),
			VirtualMemoryThreshold:     uintptr(o.VirtualMemoryThreshold),
		}
		p.Length = uint32(unsafe.Sizeof(p))
		hp.h = winapi.RtlCreateHeap(flags, reserve, uintptr(o.Commit), &p)
		if hp.h == 0 {
			err = fmt.Errorf("RtlCreateHeap(%#x, NULL, %d, %d) returned NULL", flags, reserve, o.Commit)
		}
	}
	if hp.h == 0 {
		hp.blocks.release()
		return nil, &heap.NoMemoryError{Heap: o.Name, Op: "create", Asked: max(o.Reserve, o.Maximum, o.Commit), Err: err}
	}
	winapi.RegisterHeap(hp.h, winapi.NamedHeap{Name: o.Name, Blocks: hp.eachBlock})
	return hp, nil
}

func (o Options) check() error {
	bad := func(what string, args ...any) error {
		return fmt.Errorf("ntheap %q: create: %w: %s", o.Name, heap.ErrInvalidSize, fmt.Sprintf(what, args...))
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"Reserve", o.Reserve}, {"Commit", o.Commit}, {"Maximum", o.Maximum},
		{"SegmentReserve", o.SegmentReserve}, {"SegmentCommit", o.SegmentCommit},
		{"DecommitFreeBlock", o.DecommitFreeBlock}, {"DecommitTotalFree", o.DecommitTotalFree},
		{"VirtualMemoryThreshold", o.VirtualMemoryThreshold},
	} {
		if f.v < 0 {
			return bad("%s %d is negative", f.name, f.v)
		}
	}
	switch {
	case o.Maximum > 0 && o.Reserve > 0 && o.Reserve != o.Maximum:
		return bad("Reserve %d differs from Maximum %d", o.Reserve, o.Maximum)
	case o.Maximum > 0 && o.Commit > o.Maximum:
		return bad("Commit %d is above Maximum %d", o.Commit, o.Maximum)
	case o.HeapCreate && (o.Reserve != 0 || o.SegmentReserve != 0 || o.SegmentCommit != 0 ||
		o.DecommitFreeBlock != 0 || o.DecommitTotalFree != 0 || o.VirtualMemoryThreshold != 0):
		return bad("HeapCreate takes only Commit and Maximum")
	}
	if uint64(max(o.Reserve, o.Maximum, o.Commit)) > uint64(requestLimit()) {
		return fmt.Errorf("ntheap %q: create: %w: %d bytes is more than the address space or the commit limit",
			o.Name, heap.ErrTooLarge, max(o.Reserve, o.Maximum, o.Commit))
	}
	return nil
}

// requestLimit is the largest request that could ever succeed: the user
// address space, or the system's commit limit if smaller.
var requestLimit = sync.OnceValue(func() uintptr {
	m, err := winapi.GlobalMemoryStatus()
	if err != nil {
		return math.MaxInt
	}
	return uintptr(min(m.TotalVirtual, m.TotalPageFile, math.MaxInt))
})

// Name returns the name given at creation.
func (hp *Heap) Name() string { return hp.name }

// Handle returns the NT heap handle (its base address), 0 after Destroy.
func (hp *Heap) Handle() uintptr {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	return hp.h
}

func (hp *Heap) lock(op string) error {
	hp.mu.Lock()
	if hp.destroyed {
		hp.mu.Unlock()
		return fmt.Errorf("ntheap %q: %s: %w", hp.name, op, heap.ErrDestroyed)
	}
	return nil
}

// checkSize rejects negative sizes and sizes no heap could hold.
func (hp *Heap) checkSize(op string, n int) error {
	switch {
	case n < 0:
		return fmt.Errorf("ntheap %q: %s %d bytes: %w: negative", hp.name, op, n, heap.ErrInvalidSize)
	case uint64(n) > uint64(hp.limit):
		return fmt.Errorf("ntheap %q: %s %d bytes: %w: the limit is %d bytes", hp.name, op, n, heap.ErrTooLarge, hp.limit)
	}
	return nil
}

// eachBlock calls yield with every live block, for the maps.
func (hp *Heap) eachBlock(yield func(addr uintptr)) {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	if hp.blocks != nil {
		hp.blocks.each(func(addr, _ uintptr) { yield(addr) })
	}
}

// Alloc returns a block of at least n bytes from RtlAllocateHeap.
func (hp *Heap) Alloc(n int) (unsafe.Pointer, error) {
	if err := hp.lock("alloc"); err != nil {
		return nil, err
	}
	defer hp.mu.Unlock()
	if err := hp.checkSize("alloc", n); err != nil {
		return nil, err
	}
	if err := hp.blocks.ensure(); err != nil {
		return nil, hp.noMemory("alloc", n, err)
	}
	p := winapi.RtlAllocateHeap(hp.h, hp.flags, uintptr(n))
	if p == nil {
		return nil, hp.noMemory("alloc", n, nil)
	}
	if err := hp.blocks.insert(uintptr(p), uintptr(n)); err != nil {
		winapi.RtlFreeHeap(hp.h, hp.flags, p)
		return nil, fmt.Errorf("ntheap %q: alloc %d bytes: %w: %w", hp.name, n, heap.ErrCorrupt, err)
	}
	return p, nil
}

// noMemory builds the error for a failed RtlAllocateHeap, which sets no
// last error: the heap, the request and the largest free block, from a
// walk.
func (hp *Heap) noMemory(op string, n int, cause error) error {
	var largest int
	hp.walk(func(e Entry) bool {
		if e.Kind == Free {
			largest = max(largest, e.Size)
		}
		return true
	})
	return &heap.NoMemoryError{Heap: hp.name, Op: op, Asked: n, Largest: largest, Err: cause}
}

// Free returns a block to the heap. Free(nil) does nothing. A pointer that
// is not a live block of this heap gets an error and never reaches ntdll.
func (hp *Heap) Free(p unsafe.Pointer) error {
	if err := hp.lock("free"); err != nil {
		return err
	}
	defer hp.mu.Unlock()
	if p == nil {
		return nil
	}
	if _, err := hp.live("free", p); err != nil {
		return err
	}
	if !winapi.RtlFreeHeap(hp.h, hp.flags, p) {
		return fmt.Errorf("ntheap %q: free %p: %w: RtlFreeHeap refused a live block", hp.name, p, heap.ErrCorrupt)
	}
	hp.blocks.markFreed(uintptr(p))
	return nil
}

// Realloc resizes a block with RtlReAllocateHeap, moving it if needed.
// Realloc(nil, n) is Alloc(n). When it fails the block is unchanged.
func (hp *Heap) Realloc(p unsafe.Pointer, n int) (unsafe.Pointer, error) {
	if p == nil {
		return hp.Alloc(n)
	}
	if err := hp.lock("realloc"); err != nil {
		return nil, err
	}
	defer hp.mu.Unlock()
	if _, err := hp.live("realloc", p); err != nil {
		return nil, err
	}
	if err := hp.checkSize("realloc", n); err != nil {
		return nil, err
	}
	if err := hp.blocks.ensure(); err != nil {
		return nil, hp.noMemory("realloc", n, err)
	}
	q := winapi.RtlReAllocateHeap(hp.h, hp.flags, p, uintptr(n))
	if q == nil {
		return nil, hp.noMemory("realloc", n, nil)
	}
	if q == p {
		hp.blocks.setSize(uintptr(p), uintptr(n))
		return q, nil
	}
	hp.blocks.markFreed(uintptr(p))
	if err := hp.blocks.insert(uintptr(q), uintptr(n)); err != nil {
		return nil, fmt.Errorf("ntheap %q: realloc %p: %w: %w", hp.name, p, heap.ErrCorrupt, err)
	}
	return q, nil
}

// Size returns the usable size of a block (RtlSizeHeap).
func (hp *Heap) Size(p unsafe.Pointer) (int, error) {
	if err := hp.lock("size"); err != nil {
		return 0, err
	}
	defer hp.mu.Unlock()
	if _, err := hp.live("size", p); err != nil {
		return 0, err
	}
	n := winapi.RtlSizeHeap(hp.h, hp.flags&winapi.HeapNoSerialize, p)
	if n == ^uintptr(0) {
		return 0, fmt.Errorf("ntheap %q: size %p: %w: RtlSizeHeap refused a live block", hp.name, p, heap.ErrCorrupt)
	}
	return int(n), nil
}

// Destroy destroys the heap with RtlDestroyHeap: every block and all its
// address space at once. Every later call returns heap.ErrDestroyed.
func (hp *Heap) Destroy() error {
	if err := hp.lock("destroy"); err != nil {
		return err
	}
	defer hp.mu.Unlock()
	if !winapi.RtlDestroyHeap(hp.h) {
		return fmt.Errorf("ntheap %q: destroy: RtlDestroyHeap(%#x) failed", hp.name, hp.h)
	}
	winapi.RegisterHeap(hp.h, winapi.NamedHeap{})
	hp.blocks.release()
	hp.h, hp.blocks, hp.destroyed = 0, nil, true
	return nil
}
