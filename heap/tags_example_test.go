package heap_test

import (
	"fmt"

	"github.com/zebra-heap/zebra/heap"
)

// Tags say what blocks hold; TagStats counts them as they come and go, and
// Leaks lists what a program still holds when it thinks it freed all.
func ExampleHeap_Leaks() {
	index, _ := heap.NewTag("example-index")
	values, _ := heap.NewTag("example-values")
	h, err := heap.New(heap.Options{Name: "tagged", Tags: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Destroy()
	for i := range 100 {
		if _, err := h.AllocTag(64, index); err != nil {
			fmt.Println(err)
			return
		}
		p, err := h.AllocTag(1000, values)
		if err != nil {
			fmt.Println(err)
			return
		}
		if i%10 != 0 { // one value in ten is never freed
			_ = h.Free(p)
		}
	}
	for _, ts := range h.TagStats() {
		fmt.Printf("%s: %d blocks\n", ts.Name, ts.Blocks)
	}
	leaks, _ := h.Leaks() // fmt.Println(leaks[0]): "example-values: 10 KiB in 10 blocks (largest 1 KiB)"
	for _, l := range leaks {
		fmt.Printf("still held: %s, %d blocks\n", l.Name, l.Blocks)
	}
	// Output:
	// example-values: 10 blocks
	// example-index: 100 blocks
	// still held: example-values, 10 blocks
	// still held: example-index, 100 blocks
}
