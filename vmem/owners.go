package vmem

import "slices"

// Owner names that process maps give to memory managed by allocators other
// than zebra's heaps (the vmmap package attributes them). They live here,
// where both vmmap and heap can see them: vmmap counts such owners as the
// system's, and heap refuses them as heap names, so the two cannot drift
// apart.
const (
	OwnerBrkHeap = "[heap]"
	OwnerGoHeap  = "Go heap"
	// OwnerGoRuntime names the Go runtime's memory that is not its heap:
	// the page allocator's indexes, the heap arena index and the other
	// metadata it maps for itself.
	OwnerGoRuntime  = "Go runtime"
	OwnerGlibcArena = "glibc arena"
	// OwnerBionicMalloc names the memory of Android's C library
	// allocator, as bionic names its mappings ("[anon:libc_malloc]").
	OwnerBionicMalloc = "libc_malloc"
	OwnerJemalloc     = "jemalloc arena"
	OwnerMimalloc     = "mimalloc arena"
	OwnerJavaHeap     = "Java heap"
	OwnerJITCode      = "JIT code"
	// OwnerQuarantine names the ranges of destroyed heaps and freed huge
	// blocks that the heap package keeps inaccessible for a while, so that
	// a stale pointer faults (see heap.SetAddressQuarantine).
	OwnerQuarantine = "zebra quarantine"
)

var systemOwners = []string{OwnerBrkHeap, OwnerGoHeap, OwnerGoRuntime, OwnerGlibcArena, OwnerBionicMalloc, OwnerJemalloc, OwnerMimalloc, OwnerJavaHeap, OwnerJITCode, OwnerQuarantine}

// SystemOwners returns the owner names above.
func SystemOwners() []string { return slices.Clone(systemOwners) }

// IsSystemOwner reports whether owner is one of them.
func IsSystemOwner(owner string) bool { return slices.Contains(systemOwners, owner) }
