//go:build windows

package ntheap_test

import (
	"errors"
	"fmt"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/ntheap"
)

// PoC.HeapReserve's reserved heap: RtlCreateHeap with a 150 MiB ReserveSize.
// A bad free is an error, not a crash.
func Example() {
	h, err := ntheap.New(ntheap.Options{Name: "reserved", Reserve: 150 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Destroy()
	p, err := h.Alloc(300)
	if err != nil {
		fmt.Println(err)
		return
	}
	n, _ := h.Size(p)
	fmt.Println("usable size at least 300:", n >= 300)
	fmt.Println("free:", h.Free(p))
	err = h.Free(p)
	fmt.Println("second free is a double free:", errors.Is(err, heap.ErrDoubleFree))
	// Output:
	// usable size at least 300: true
	// free: <nil>
	// second free is a double free: true
}
