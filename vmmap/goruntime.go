package vmmap

import "strings"

// Recognising the Go runtime's memory other than its heap.
//
// Besides its heap arenas (goheap.go), the Go runtime maps memory for
// itself: the page allocator's summaries and scavenger index (address
// space reserved at start-up, committed page by page as the heap grows),
// the heap arena index, and small metadata (persistentalloc chunks, GC
// bits, OS thread stacks). Where the kernel allows, Go 1.25+ names each
// mapping ("[anon: Go: page summary]"), and the name settles it: goNamed.
// The runtime exports no addresses for the rest (runtime/metrics reports
// sizes only), so without names the big reservations are recognised by the
// sizes the runtime gives them (recogniseGoRuntime below), and only in a
// process known to be a Go program.

// goNamed classifies a mapping the Go runtime named "Go: NAME": its heap
// ("heap", and "heap reservation" for address space reserved for the heap)
// is Go heap, its stacks are Stack, anything else is the runtime's own.
func goNamed(name string) (Type, string) {
	switch {
	case name == "heap" || name == "heap reservation":
		return GoHeap, GoHeapOwner
	case strings.Contains(name, "stack"):
		return Stack, ""
	}
	return PrivateData, GoRuntimeOwner
}
