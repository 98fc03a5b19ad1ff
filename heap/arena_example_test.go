package heap_test

import (
	"fmt"

	"github.com/zebra-heap/zebra/heap"
)

// A per-request arena: every object of a request comes from the arena by
// bumping an offset, and Reset frees them all at once. After the first
// request the arena keeps one chunk and takes nothing more from the heap.
func ExampleArena() {
	h, err := heap.New(heap.Options{Name: "requests", Reserve: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Destroy()
	a, err := heap.NewArena(h, heap.ArenaOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Free()

	type entry struct {
		Key, Value uint64
	}
	for req := range 3 {
		es, _ := heap.ArenaMakeSlice[entry](a, 0, 100)
		for i := range 100 {
			es = append(es, entry{uint64(i), uint64(req * i)}) // within cap: stays in the arena
		}
		buf, _ := a.Alloc(4000)
		_ = buf
		st := a.Stats()
		fmt.Printf("request %d: %d bytes used in %d chunk, %d objects so far\n", req, st.Used, st.Chunks, st.Allocs)
		a.Reset() // es and buf dangle from here on
	}
	fmt.Println(h.Stats().Blocks, "block in the heap: the arena's kept chunk")
	// Output:
	// request 0: 5600 bytes used in 1 chunk, 2 objects so far
	// request 1: 5600 bytes used in 1 chunk, 4 objects so far
	// request 2: 5600 bytes used in 1 chunk, 6 objects so far
	// 1 block in the heap: the arena's kept chunk
}

// The typed helpers refuse types the garbage collector would have to see.
func ExampleArenaNew() {
	h, _ := heap.New(heap.Options{Name: "typed-arena"})
	defer h.Destroy()
	a, _ := heap.NewArena(h, heap.ArenaOptions{Chunk: 16 << 10})
	defer a.Free()

	type point struct{ X, Y float64 }
	p, _ := heap.ArenaNew[point](a)
	p.X = 2
	fmt.Println(*p)

	_, err := heap.ArenaNew[struct{ Name string }](a)
	fmt.Println(err)
	// Output:
	// {2 0}
	// arena new struct { Name string }: heap: type holds Go pointers: struct { Name string }.Name is a string (it points to its bytes): the garbage collector cannot see Go pointers stored off its heap
}
