//go:build windows

package main

import (
	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/ntheap"
)

func init() { nativeHeap = newNTHeap }

// newNTHeap maps the demo's options onto the NT heap: a heap without
// reserve is HeapCreate(0, 0, 0), one with a reserve RtlCreateHeap with
// that ReserveSize. Growth past the reserve is ntdll's own; --policy does
// not apply. The demo's NoSerialize is not passed on: HEAP_NO_SERIALIZE
// turns off Windows' low-fragmentation heap, and PoC.HeapReserve's heaps are
// serialized (one goroutine allocates in a fixed order either way).
func newNTHeap(o heap.Options) (heap.Allocator, error) {
	return ntheap.New(ntheap.Options{Name: o.Name, Reserve: o.Reserve, HeapCreate: o.Reserve == 0})
}
