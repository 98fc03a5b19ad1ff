package heap

import "unsafe"

// Allocator is what every engine in this project provides: this package's
// Heap, the Windows native heap (package ntheap) and the baselines of the
// benchmarks, so that the demo and the benchmarks can run on any of them.
//
// Sizes are int so that negative sizes are representable and rejected with
// ErrInvalidSize. Pointers are unsafe.Pointer into memory outside the Go
// heap; see the package documentation for the rules.
type Allocator interface {
	// Name is the name given at creation; reservations carry it.
	Name() string
	// Alloc returns a block of at least n bytes.
	Alloc(n int) (unsafe.Pointer, error)
	// Free returns a block to the allocator. Free(nil) does nothing.
	Free(p unsafe.Pointer) error
	// Realloc resizes a block, moving it if needed, and returns its new
	// address. Realloc(nil, n) is Alloc(n).
	Realloc(p unsafe.Pointer, n int) (unsafe.Pointer, error)
	// Size returns the usable size of a block, at least what was asked.
	Size(p unsafe.Pointer) (int, error)
	// Stats describes the allocator's memory.
	Stats() Stats
	// Destroy releases every block and all address space at once. Every
	// later call returns an error.
	Destroy() error
}

var _ Allocator = (*Heap)(nil)
