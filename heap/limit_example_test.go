package heap_test

import (
	"errors"
	"fmt"

	"github.com/zebra-heap/zebra/heap"
)

// A heap whose committed memory stays under 32 MiB whatever is written to
// it: when an allocation meets the limit, Reclaim evicts the oldest
// records, as a cache does, and the allocation is tried again.
func Example_commitLimit() {
	var oldest []heap.Ref // a FIFO of records, oldest first
	evicted := 0
	h, err := heap.New(heap.Options{
		Name:        "bounded",
		CommitLimit: 32 << 20,
		Reclaim: func(h *heap.Heap, need int) bool {
			freed := 0
			for len(oldest) > 0 && freed < need+1<<20 {
				b, err := h.Bytes(oldest[0])
				if err != nil || h.FreeRef(oldest[0]) != nil {
					return false
				}
				freed += len(b)
				oldest = oldest[1:]
				evicted++
			}
			return freed > 0
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Destroy()
	for range 40_000 { // 160 MiB of 4 KiB records
		r, err := h.AllocRef(4096)
		if err != nil {
			fmt.Println(err)
			return
		}
		oldest = append(oldest, r)
	}
	st := h.Stats()
	fmt.Println("committed within the limit:", st.Committed <= st.CommitLimit)
	fmt.Println("records evicted:", evicted > 0)

	// A request larger than the limit fails, and says why, without
	// evicting anything: nothing freed could make it fit.
	_, err = h.Alloc(64 << 20)
	fmt.Println(errors.Is(err, heap.ErrCommitLimit), errors.Is(err, heap.ErrNoMemory))
	// Output:
	// committed within the limit: true
	// records evicted: true
	// true true
}
