// Package heap provides private heaps outside the Go garbage-collected heap,
// in the spirit of Windows' RtlCreateHeap with a large ReserveSize: a heap's
// address space is reserved in one piece up front (Options.Reserve) and
// committed on demand, so heaps that grow at the same time do not interleave
// into a "zebra" of small stripes, and destroying a heap gives back one large
// block of address space.
//
// A heap is created with New from Options — reserve, commit, maximum (a
// fixed-size heap), growth policy (Default, NT, Fixed), segment sizes,
// decommit thresholds, huge-block threshold, zeroing, the address space to
// use — and provides Alloc, Calloc, AllocAligned, Free, Realloc,
// ReallocInPlace, Size, Validate, Walk, Stats, Compact, Reset and Destroy.
// The typed helpers NewOf, MakeSlice, Grow, FreeSlice and Bytes allocate
// pointer-free Go values in a heap; MakeBytes, CloneBytes, CloneString,
// FreeBytes and FreeString hold byte slices and strings; an Arena is a bump
// allocator inside a heap. Every engine of the project implements
// Allocator.
//
// Inside, small blocks (up to 16 KiB) come from 64 KiB slabs of size
// classes, found from their address through one page map for the process;
// each P keeps a magazine of free blocks per class, which Alloc and Free
// use without a lock, pinned to their P as sync.Pool is. A block's state
// (busy or free, a generation for Refs, a tag) is a byte out of band, which
// Free checks: bad frees are errors, not corruption. Larger blocks are runs
// of pages with boundary tags; freed ones stay committed for reuse up to a
// budget. All bookkeeping lives off the Go heap, outside the blocks, behind
// guard pages. The design, layer by layer, is described at the top of
// heap.go.
//
// # Quick start
//
// Make a heap with a reserve as large as what it will hold (reserving
// costs address space, not memory), allocate and free, and Destroy it when
// done:
//
//	h, err := heap.New(heap.Options{Name: "cache", Reserve: 1 << 30})
//	if err != nil { ... }
//	defer h.Destroy()
//
// Three recipes, each an Example that CI runs and go vet checks:
//
//   - A cache index (Example_cacheIndex): records in the heap, the index a
//     Go map from keys to Refs (AllocRef, Bytes, FreeRef). A Ref is one
//     uint64 with no pointer in it: an index of unsafe.Pointer or []byte
//     values is itself scanned by the garbage collector at every cycle
//     (the records it points to are not), one of Refs is not. With 1 GiB
//     of small records behind an index of integers the GC spent 0.05 s of
//     CPU, against 0.72 s with the records in Go's heap (bench's gc case,
//     BENCHMARKS.md). A Ref carries the block's generation, so one kept
//     after its block was freed gets ErrStaleRef, even once the address is
//     handed out again; it costs a lookup (about 13 ns) per use.
//   - A per-request arena (ExampleArena): NewArena once, Alloc, ArenaNew
//     and ArenaMakeSlice while serving a request, Reset at its end.
//   - A big read-only index (Example_readOnlyIndex): a sorted table of
//     fixed-size entries (MakeSlice) and one buffer of values (MakeBytes),
//     built once and then read from any goroutine without locks.
//
// Byte slices choose zeroed or uninitialised memory at every call
// (MakeBytes with Zeroed or Uninitialized). Package heapvar publishes a
// heap's Stats as an expvar variable.
//
// # Limits, tags and leaks
//
// Options.CommitLimit bounds the memory a heap commits, growable heaps
// included; at the limit the heap decommits what it holds free and calls
// Options.Reclaim, where a cache evicts, before it fails with a
// *NoMemoryError wrapping ErrCommitLimit (Example_commitLimit;
// SetCommitLimit changes it). With Options.Tags, AllocTag tags blocks with
// names registered by NewTag, TagStats counts live blocks per tag, and
// Leaks lists what is still allocated, by tag and, with DebugCallers, by
// call site (ExampleHeap_Leaks).
//
// # Debug modes in tests
//
// Memory bugs in off-heap memory are silent by default, as in C: run the
// tests with ZEBRA_DEBUG=all in the environment (or set Options.Debug), and
// a write past a block's end is reported by Free, Realloc, Size or
// Validate (DebugTail), a write after Free by the Alloc that reuses the
// block (DebugFree), and a stale second Free as ErrDoubleFree even after
// other allocations (DebugQuarantine). They cost memory and time (see
// Debug), so leave them to tests. Run the tests with
// GOEXPERIMENT=cgocheck2 too, which catches a Go pointer stored in heap
// memory. The race detector does not see accesses to heap memory, and the
// debug modes check an Arena's chunks, not its objects.
//
// # Rules of off-heap memory
//
// Memory from a heap is not Go memory, and Go's tools do not look after it:
//
//   - Never store a Go pointer in it (no strings, slices, maps, interfaces,
//     funcs, channels or pointers to Go memory): the garbage collector
//     cannot see it and will free what it points to. The typed helpers
//     refuse such types; GOEXPERIMENT=cgocheck2 catches such stores at run
//     time.
//   - The race detector does not see accesses to it: synchronise as for
//     any shared memory, but expect no reports.
//   - GOMEMLIMIT, GOGC and runtime.MemStats do not count it; Stats does.
//   - A block is valid until Free, Reset or Destroy. Slices and strings
//     made over it (unsafe.Slice, unsafe.String, Bytes) dangle afterwards:
//     after Free they read whatever the heap puts there next; after Destroy
//     the address space is gone and touching it is a fatal fault (SIGSEGV,
//     which recover cannot catch).
//   - Never call Destroy (or Free) from a finalizer or cleanup: the object
//     may be unreachable while slices over the heap are still in use.
//   - append past a slice's capacity silently copies the data into the Go
//     heap; use Grow to reallocate inside the heap.
//
// Build pointers inside a block with unsafe.Add, never with uintptr
// arithmetic, which go vet flags and which hides the pointer from the
// compiler.
//
// # Commit failures
//
// Reserving costs no memory; committing does. On Linux with the default
// overcommit heuristic (vm.overcommit_memory=0) commits almost always
// succeed and memory is only taken when first touched, so running out shows
// up as the OOM killer, not as an error. With strict accounting
// (vm.overcommit_memory=2) or on Windows, committing beyond the commit limit
// fails, and Alloc returns an error wrapping ErrNoMemory and
// vmem.ErrNoMemory. Mapping limits (vm.max_map_count) surface the same way.
//
// # Errors
//
// Bad input never panics and never corrupts the heap: a pointer the heap did
// not return, an interior pointer, a block that is not allocated, a
// negative or overflowing size, a request larger than a fixed heap, or the
// address space running out each return an error wrapping one of the
// sentinels in errors.go, naming the heap and the request, and the heap
// stays usable. Out-of-memory errors are *NoMemoryError and give the largest
// free block. A double free is detected whenever the block is not allocated
// at the time; once its address has been handed out again, a stale second
// free frees the new block, as in every allocator.
//
// # Alignment and sizes
//
// Every block is aligned to 16 bytes on every platform (8 would do on
// 32-bit ones; 16 makes 64-bit atomics and SSE types safe everywhere).
// Size reports the usable size: blocks up to 16 KiB come from size classes,
// larger ones are whole pages. Alloc(0) returns a unique 16-byte block.
package heap
