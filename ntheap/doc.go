// Package ntheap puts the Windows NT heap — ntdll!RtlCreateHeap with a
// large ReserveSize, PoC.HeapReserve's own fix for "zebra"
// fragmentation — behind heap.Allocator, so that the demo and Go programs
// can use the real thing where it exists and the pure-Go heap (package
// heap) everywhere else. The package has code on Windows only; on other
// systems it is this documentation.
//
// New creates a heap from Options: RtlCreateHeap(HEAP_GROWABLE |
// HEAP_CLASS_1, NULL, Reserve, Commit, NULL, parameters) as in
// github.com/pkjq/PoC.HeapReserve, a fixed heap (Maximum), or
// HeapCreate(0, Commit, Maximum). Heap provides Alloc, Free, Realloc,
// Size (RtlAllocateHeap, RtlFreeHeap, RtlReAllocateHeap, RtlSizeHeap),
// Validate (RtlValidateHeap), Walk (HeapWalk: busy and free blocks,
// regions, uncommitted ranges), Stats (from a walk), Compact
// (RtlCompactHeap), LowFragmentation (HeapQueryInformation) and Destroy
// (RtlDestroyHeap).
//
// # Bad frees never reach ntdll
//
// On Windows, RtlFreeHeap of a pointer the heap did not hand out, or of a
// block already freed, can terminate the process (HeapEnableTermination-
// OnCorruption, on by default for 64-bit programs). So a Heap records its
// live blocks out of band — an open-addressing hash table in memory of its
// own from VirtualAlloc, outside both the Go heap and the NT heap — and
// checks every pointer before ntdll sees it. The errors are the pure-Go
// heap's sentinels: heap.ErrInvalidPointer for a foreign or interior
// pointer or one into free memory where no block started,
// heap.ErrDoubleFree for a freed block, heap.ErrDestroyed after Destroy,
// heap.ErrInvalidSize and heap.ErrTooLarge for sizes. Freed addresses stay
// marked in the table, so a double free is recognised even when ntdll has
// released a large block's memory, until a rebuild finds more freed marks
// than live blocks and drops them (a table of freed addresses must not
// grow without bound; the pure-Go heap bounds its memory of released huge
// blocks too): a second free of such a block is then ErrInvalidPointer. A
// pointer the table does not know is classified with a walk of the heap,
// which only bad calls pay for.
//
// RtlAllocateHeap does not set a last error when it fails: Alloc and
// Realloc then return a *heap.NoMemoryError naming the heap, the request
// and the largest free block found by a walk.
//
// # Differences from package heap
//
// The NT heap grows by segments of its own choosing once the reserve is
// used up (the zebra returns: it does not extend its reservation in place
// nor grow geometrically beyond the system's cap), sends blocks above
// VirtualMemoryThreshold to VirtualAlloc, cannot use an emulated address
// space (vmem windows), and its bookkeeping lives inside the heap's own
// segments (only this package's table of live blocks is out of band).
// Stats walks the heap and leaves Resident zero. The README describes
// what Wine, where the tests run, does differently from Windows.
package ntheap
