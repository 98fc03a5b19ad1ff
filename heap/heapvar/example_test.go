package heapvar_test

import (
	"encoding/json"
	"expvar"
	"fmt"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/heap/heapvar"
)

// A program publishes its heap's figures beside expvar's memstats; an
// HTTP server with net/http's DefaultServeMux serves them at /debug/vars.
func ExamplePublish() {
	h, _ := heap.New(heap.Options{Name: "cache"})
	defer h.Destroy()
	h.Alloc(1000)

	if err := heapvar.Publish("cache_heap", h); err != nil {
		fmt.Println(err)
		return
	}
	var f heapvar.Figure
	json.Unmarshal([]byte(expvar.Get("cache_heap").String()), &f)
	fmt.Println(f.Name, f.Stats.Blocks, "block")
	// Output: cache 1 block
}
