package heap_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zebra-heap/zebra/heap"
)

// Strings and byte slices whose bytes live in the heap: the garbage
// collector never scans them, however many a cache holds.
func ExampleCloneString() {
	h, _ := heap.New(heap.Options{Name: "strings"})
	defer h.Destroy()

	s, _ := heap.CloneString(h, "a value kept off the Go heap")
	b, _ := heap.CloneBytes(h, []byte{1, 2, 3})
	fmt.Println(s, b, h.Stats().Blocks)

	heap.FreeString(h, s) // s dangles from here on
	heap.FreeBytes(h, b)
	fmt.Println(h.Stats().Blocks)
	// Output:
	// a value kept off the Go heap [1 2 3] 2
	// 0
}

// MakeBytes makes the choice between zeroed and uninitialised memory at
// every call.
func ExampleMakeBytes() {
	h, _ := heap.New(heap.Options{Name: "buffers"})
	defer h.Destroy()

	counts, _ := heap.MakeBytes(h, 256, 256, heap.Zeroed)    // read before written: zero it
	buf, _ := heap.MakeBytes(h, 0, 4096, heap.Uninitialized) // overwritten before read
	buf = append(buf, "GET / HTTP/1.1"...)                   // within its capacity: stays in the heap
	counts['G']++
	fmt.Println(counts['G'], string(buf))
	fmt.Println(heap.FreeBytes(h, counts), heap.FreeBytes(h, buf))
	// Output:
	// 1 GET / HTTP/1.1
	// <nil> <nil>
}

// A slice that append grew past its capacity is a copy in the Go heap:
// freeing it is refused with an error that says so, and the heap's block is
// still allocated.
func ExampleFreeBytes() {
	h, _ := heap.New(heap.Options{Name: "grown"})
	defer h.Destroy()

	b, _ := heap.MakeBytes(h, 0, 8, heap.Uninitialized)
	orig := b
	b = append(b, "more than eight bytes"...) // copied into the Go heap
	err := heap.FreeBytes(h, b)
	fmt.Println(errors.Is(err, heap.ErrInvalidPointer), strings.Contains(err.Error(), "append copies a slice"))
	fmt.Println(heap.FreeBytes(h, orig)) // the block it had
	// Output:
	// true true
	// <nil>
}
