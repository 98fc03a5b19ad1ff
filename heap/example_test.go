package heap_test

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
)

// A heap that reserves 150 MiB up front, as in PoC.HeapReserve: it stays
// one range of address space until the reserve is used.
func Example_reserved() {
	h, err := heap.New(heap.Options{Name: "reserved", Reserve: 150 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Destroy()
	for i := 0; i < 10000; i++ {
		if _, err := h.Alloc(300); err != nil {
			fmt.Println(err)
			return
		}
	}
	st := h.Stats()
	fmt.Printf("%d blocks, %d MiB reserved in %d range\n", st.Blocks, st.Reserved>>20, st.Ranges)
	// Output: 10000 blocks, 150 MiB reserved in 1 range
}

type particle struct {
	X, Y, VX, VY float32
	Alive        bool
}

// Typed allocation of pointer-free values; a type holding Go pointers is
// refused.
func Example_typed() {
	h, _ := heap.New(heap.Options{Name: "typed"})
	defer h.Destroy()

	p, _ := heap.NewOf[particle](h)
	p.X, p.Alive = 1.5, true

	ps, _ := heap.MakeSlice[particle](h, 0, 2)
	for i := 0; i < 100; i++ {
		ps, _ = heap.Grow(h, ps, 1) // stays in the heap; append alone would not
		ps = append(ps, particle{X: float32(i)})
	}
	fmt.Println(p.X, p.Alive, len(ps), ps[99].X)

	_, err := heap.NewOf[struct{ Name string }](h)
	fmt.Println(errors.Is(err, heap.ErrNotPointerFree))
	heap.FreeSlice(h, ps)
	h.Free(unsafe.Pointer(p))
	// Output:
	// 1.5 true 100 99
	// true
}

// Reset frees every block at once and keeps the heap's memory: one heap per
// request, reused.
func ExampleHeap_Reset() {
	h, _ := heap.New(heap.Options{Name: "requests", Reserve: 16 << 20})
	defer h.Destroy()
	for req := 0; req < 3; req++ {
		buf, _ := heap.Bytes(h, 4096)
		copy(buf, "response")
		for i := 0; i < 1000; i++ {
			h.Alloc(64)
		}
		fmt.Println(req, h.Stats().Blocks)
		h.Reset() // buf dangles from here on
	}
	fmt.Println(h.Stats().Blocks)
	// Output:
	// 0 1001
	// 1 1001
	// 2 1001
	// 0
}

// Destroy gives all the heap's address space back at once; every later call
// fails with ErrDestroyed.
func ExampleHeap_Destroy() {
	h, _ := heap.New(heap.Options{Name: "short-lived"})
	p, _ := h.Alloc(100)
	fmt.Println(h.Destroy())
	err := h.Free(p)
	fmt.Println(errors.Is(err, heap.ErrDestroyed))
	fmt.Println(errors.Is(h.Destroy(), heap.ErrDestroyed))
	// Output:
	// <nil>
	// true
	// true
}

// A fixed heap (HeapCreate with a maximum) never grows; running out is an
// error that names the heap and the largest free block.
func ExampleNoMemoryError() {
	h, _ := heap.New(heap.Options{Name: "fixed", Maximum: 1 << 20})
	defer h.Destroy()
	h.Alloc(800<<10 - 16)
	_, err := h.Alloc(400 << 10)
	var nm *heap.NoMemoryError
	fmt.Println(errors.Is(err, heap.ErrNoMemory), errors.As(err, &nm), nm.Largest>>10, "KiB free in one piece")
	// Output: true true 224 KiB free in one piece
}

// A test suite switches every debug mode on with Options.Debug (or
// ZEBRA_DEBUG=all in the environment): a one-byte overrun becomes an error
// naming the block.
func ExampleDebug() {
	h, _ := heap.New(heap.Options{Name: "checked", Debug: heap.DebugAll})
	defer h.Destroy()
	p, _ := h.Alloc(10)
	unsafe.Slice((*byte)(p), 11)[10] = 1 // one byte too far
	err := h.Free(p)
	fmt.Println(errors.Is(err, heap.ErrOverrun))
	// Output: true
}
