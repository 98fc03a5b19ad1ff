// Package vmmap takes snapshots of address spaces, classifies every region
// the way Sysinternals VMMap does, attributes regions to the zebra heaps
// that own them, and measures fragmentation. Pictures of snapshots live in
// vmmap/render.
//
// # Sources
//
//   - A Linux process: [Proc] reads /proc/PID/smaps (or maps), stat and
//     sys/vm/max_map_count from any procfs root, so tests feed captured
//     fixtures (testdata/) or failing file systems; [Process] and [Self]
//     read the live /proc. The library reads the files itself and never
//     runs another program. Sizes and RSS agree with procps's pmap -X.
//     smaps is streamed, not held (procfs_smaps.go); [Layout] and
//     Proc.Layout read only maps, for views that need no counters.
//   - Names and paths are the process's own choice: [Visible] escapes
//     them for people (every view of this package and of vmmap/render
//     uses it); WriteJSON and WriteCSV keep the exact bytes.
//   - A Windows process: [Process] walks it with VirtualQueryEx, naming
//     images and mapped files with GetMappedFileNameW (live_windows.go).
//     Working-set figures are not read there.
//   - An emulated window of package vmem: [FromWindow].
//   - A file: [ReadJSON] reads what [WriteJSON] wrote (schema [SchemaV1]).
//
// macOS and the BSDs have no live source: Process returns ErrUnsupported.
//
// # Classification and attribution
//
// Each region gets a [Type] (Image, Mapped File, Shareable, Heap, Go heap,
// Stack, Private Data, Unusable, Free) and a [State] (reserved or
// committed). On Linux the kernel's names and the layouts of common
// allocators decide (the table is in classify_procfs.go); glibc arenas,
// pthread stacks and Go's arenas are recognised by shape, so a foreign
// process's private anonymous memory that fits none of them stays Private
// Data. Shapes are heuristics: in another process, Go 1.26's randomised heap
// is recognised only as a run of anonymous mappings that starts reserved on
// a 64 MiB boundary, commits some of it and covers whole 64 MiB arenas, and
// another program's memory of that shape is taken for a Go heap too, while a
// Go heap whose random base falls on an arena boundary starts committed and
// is taken for a glibc arena. jemalloc's and mimalloc's memory is
// recognised only in a process that maps their shared library, by the
// MAP_NORESERVE flag smaps shows and the sizes and alignment the allocators
// use (classify_alloc.go). In the calling process the Go heap is found
// from the address of a heap object: the whole arenas around it. The Go
// runtime's other memory, its indexes and metadata, is "Go runtime"
// ([GoRuntimeOwner]): by its [anon: Go: …] names, or, without names, only
// in a process whose executable carries Go build information (the calling
// one, or another read through /proc/PID/exe), by the exact sizes of its
// index reservations (goruntime.go); its small allocations stay Private
// Data.
// Region.Owner names the heap a region belongs to: from [anon:NAME] names
// where the kernel has them (5.17+ with CONFIG_ANON_VMA_NAME), and, for the
// calling process, from the registry of vmem reservations ([Attribute]); the
// Go runtime's own heap is "Go heap" ([GoHeapOwner]).
//
// # Metrics
//
// [Summarize] is VMMap's summary table (Size, Committed, Private, Blocks,
// Largest per type); [FreeBlocks] lists free space largest first; [Owners]
// gives each owner's stripes and how they alternate with zebra heaps,
// [ZebraScore] the changes between zebra heaps along the address space. The
// brk heap, the Go heap and the Go runtime, the C allocators' arenas
// (glibc's, Android's libc_malloc, jemalloc's, mimalloc's), a JVM's heap and
// JIT code are system owners
// ([IsSystemOwner]): listed by Owners, but never counted as a zebra heap in
// either figure. The snapshot's VMAs and MaxMapCount compare the mapping
// count with vm.max_map_count. The summary and the free space are measured
// within Snapshot.Span: by default from the lowest to the highest user
// mapping, or any span given to [Snapshot.WithSpan]; regions outside it (a
// Linux process's [vsyscall]) stay in Snapshot.Regions but are not counted.
//
// # Outputs
//
// [Terminal] (coloured or plain, optionally ending with what its figures,
// owners and letters mean, and [PossibleTypes] for legends), [WriteJSON] / [ReadJSON], [WriteCSV]
// (VMMap-like columns), [Diff] (VMMap's "Show Changes") and [Strip], the
// one-line picture of a span.
package vmmap
