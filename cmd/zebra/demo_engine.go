package main

import "github.com/zebra-heap/zebra/heap"

// The heap engine of the demo's "Windows" scenarios (--engine): the
// pure-Go heap with the NT growth policy everywhere ("go"), or on Windows
// the real NT heap of package ntheap ("nt"): HeapCreate(0, 0, 0) for the
// heaps without reserve and RtlCreateHeap with --reserve for the reserved
// one, as in PoC.HeapReserve's proof of concept. The zebra scenario always
// runs the pure-Go heap: it is the project's own answer.

const engineUsage = "heap engine of the Windows scenarios: go (the pure-Go heap, NT policy) or nt (ntdll's RtlCreateHeap; Windows only, in --space process, its default)"

// nativeHeap creates an NT heap from the demo's heap options; nil where
// there is none (demo_engine_windows.go sets it).
var nativeHeap func(o heap.Options) (heap.Allocator, error)

func (c demoConfig) validateEngine() error {
	switch {
	case c.engine == "go":
		return nil
	case c.engine != "nt":
		return usageErrorf("--engine %q: want go or nt", c.engine)
	case nativeHeap == nil:
		return usageErrorf("--engine nt: the NT heap exists on Windows only")
	case c.space != "process":
		return usageErrorf("--engine nt: the NT heap lives in this process's address space: add --space process")
	}
	return nil
}

// newHeap creates heap o of scenario sc on the configured engine.
func newHeap(c demoConfig, sc scenario, o heap.Options) (heap.Allocator, error) {
	if c.engine == "nt" && sc.policy != heap.Default {
		return nativeHeap(o)
	}
	return heap.New(o)
}
