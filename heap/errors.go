package heap

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zebra-heap/zebra/internal/units"
)

// enter marks a NoSerialize heap in use by one call, or reports that
// another call is running (ErrConcurrentUse); leave ends the mark.
func (h *Heap) enter(op string) error {
	if h.inCall != 0 {
		h.misused = true
		return fmt.Errorf("heap %q: %s: %w", h.cfg.name, op, ErrConcurrentUse)
	}
	h.inCall = 1
	return nil
}

func (h *Heap) leave() { h.inCall = 0 }

// nilHeap is the error of op on a nil *Heap.
func nilHeap(op string) error { return fmt.Errorf("%s: %w", op, ErrNilHeap) }

// Sentinel errors. Every error a heap returns wraps one of them (with %w),
// together with the heap's name and the request, so callers test with
// errors.Is and people read what happened. See heap.go for the overview.
var (
	// ErrInvalidPointer is returned by Free, Realloc and Size for a pointer
	// the heap never returned: outside every segment of the heap, inside a
	// busy block (an interior pointer), misaligned for its slab, or in free
	// space where no block ever started.
	ErrInvalidPointer = errors.New("heap: invalid pointer")
	// ErrDoubleFree is returned by Free, Realloc and Size for the address of
	// a block already freed (a slab slot, the head page of a freed run of
	// pages, a released huge block the heap remembers). Once the address is
	// handed out again a stale second free is indistinguishable from a valid
	// one and succeeds (Options.Debug's quarantine delays that).
	ErrDoubleFree = errors.New("heap: block is not allocated (double free?)")
	// ErrConcurrentUse is returned by a call on an Options.NoSerialize
	// heap that begins while another call on it is running: such a heap
	// takes no lock, so its calls must not overlap. The check is a plain
	// mark, not a lock: it catches most overlaps, not all, and the call
	// that met it changes nothing. Corrupt metadata met afterwards is
	// reported as ErrCorrupt wrapping ErrConcurrentUse too.
	ErrConcurrentUse = errors.New("heap: a NoSerialize heap used by several goroutines at once")
	// ErrDestroyed is returned by every method of a heap after Destroy,
	// including a second Destroy.
	ErrDestroyed = errors.New("heap: heap destroyed")
	// ErrTooLarge is returned when a request can never be satisfied: larger
	// than a fixed heap's maximum, or than the address space can describe.
	ErrTooLarge = errors.New("heap: request too large")
	// ErrNoMemory is returned when a request cannot be satisfied now: a fixed
	// heap is full, or the address space or the OS refused to grow the heap.
	// The error is a *NoMemoryError.
	ErrNoMemory = errors.New("heap: out of memory")
	// ErrCommitLimit is wrapped by the *NoMemoryError of an allocation that
	// would have committed past Options.CommitLimit, after the heap
	// decommitted what it held free and Options.Reclaim, if set, freed
	// what it could.
	ErrCommitLimit = errors.New("heap: commit limit reached")
	// ErrInvalidTag is returned by AllocTag for a tag NewTag did not
	// return, or on a heap made without Options.Tags.
	ErrInvalidTag = errors.New("heap: invalid tag")
	// ErrInvalidSize is returned for negative sizes, counts whose product
	// overflows, alignments that are not powers of two, and inconsistent
	// Options.
	ErrInvalidSize = errors.New("heap: invalid size")
	// ErrNilHeap is returned by every method called on a nil *Heap (a heap
	// whose New failed, say), instead of a nil-pointer panic.
	ErrNilHeap = errors.New("heap: nil *Heap")
	// ErrInvalidName is returned by New for an Options.Name that is too
	// long, unprintable, or reserved for a system owner in maps.
	ErrInvalidName = errors.New("heap: invalid name")
	// ErrNotPointerFree is returned by the typed helpers for types that hold
	// Go pointers, which the garbage collector cannot see off its heap.
	ErrNotPointerFree = errors.New("heap: type holds Go pointers")
	// ErrInPlace is returned by ReallocInPlace when the block cannot be
	// resized without moving it (Windows HEAP_REALLOC_IN_PLACE_ONLY).
	ErrInPlace = errors.New("heap: cannot resize in place")
	// ErrStaleRef is returned by Pointer, Bytes, FreeRef and Ref when the
	// block a Ref names was freed since the Ref was made, or is free now:
	// the handle is stale (see Ref for the limit of that check).
	ErrStaleRef = errors.New("heap: stale handle: the block was freed")
	// ErrArenaFreed is returned by every method of an Arena after its Free,
	// including a second Free.
	ErrArenaFreed = errors.New("heap: arena freed")
	// ErrNilArena is returned by every method called on a nil *Arena.
	ErrNilArena = errors.New("heap: nil *Arena")
)

// NoMemoryError is returned when a heap cannot satisfy a request now. It
// names the heap, the request and the largest request that fits without
// growing, and wraps ErrNoMemory and, when the address space or the OS refused to grow the
// heap, the space's error (vmem.ErrNoMemory, vmem.NoFitError).
type NoMemoryError struct {
	Heap    string // the heap's name
	Op      string // what was asked: "alloc", "realloc", "create"…
	Asked   int    // bytes requested
	Largest int    // the largest request that would have succeeded (Stats.Largest)
	Err     error  // why the heap could not grow; nil for a fixed heap
}

func (e *NoMemoryError) Error() string {
	s := fmt.Sprintf("heap %q: %s %s: out of memory (the largest request that fits is %s)",
		e.Heap, e.Op, sizeText(uint64(e.Asked)), sizeText(uint64(e.Largest)))
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrNoMemory and the cause, so that errors.Is matches both
// ErrNoMemory and, for example, vmem.ErrNoMemory.
func (e *NoMemoryError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrNoMemory}
	}
	return []error{ErrNoMemory, e.Err}
}

// ErrCorrupt is returned by Validate when an invariant of the heap's
// bookkeeping does not hold; the error says which and where.
var ErrCorrupt = errors.New("heap: invariant broken")

// sizeText writes a byte count for an error message: "300 bytes" below
// 1 KiB, "64 KiB" or "16 TiB" for a whole number of binary units, and
// "17592186040320 bytes (16.0 TiB)" otherwise, so the exact figure is never
// lost to rounding while the magnitude stays readable. The units are
// internal/units.Bytes'.
func sizeText(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	u := units.Bytes(n)
	if !strings.Contains(u, ".") {
		return u
	}
	return fmt.Sprintf("%d bytes (%s)", n, u)
}
