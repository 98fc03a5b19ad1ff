package heap

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"unsafe"
)

// TestCounters: the cumulative counters agree with what the test did and
// with Stats (busy blocks and bytes are Allocs-Frees), per class too,
// across small, large and huge blocks, Reset, and calls that fail.
func TestCounters(t *testing.T) {
	skipUnderDebug(t)
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"default", Options{Name: "counters", Policy: NT, HugeBlock: 1 << 20}},
		{"no serialize", Options{Name: "counters-ns", Policy: NT, HugeBlock: 1 << 20, NoSerialize: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, tt.o)
			sizes := []int{1, 16, 17, 300, 4000, 16 << 10, 100 << 10, 2 << 20}
			var ps []unsafe.Pointer
			var bytes uint64
			for _, n := range sizes {
				p, err := h.Alloc(n)
				if err != nil {
					t.Fatal(err)
				}
				size, _ := h.Size(p)
				bytes += uint64(size)
				ps = append(ps, p)
			}
			c := h.Counters()
			if c.Allocs != uint64(len(sizes)) || c.Frees != 0 || c.AllocBytes != bytes {
				t.Errorf("after %d allocs of %d bytes: %+v", len(sizes), bytes, c)
			}
			if cl := c.Classes[classOf(300)]; cl.Size != int(classes[classOf(300)]) || cl.Size < 300 || cl.Allocs != 1 {
				t.Errorf("class of 300 bytes: %+v", cl)
			}
			for _, p := range ps[:4] {
				if err := h.Free(p); err != nil {
					t.Fatal(err)
				}
			}
			st := h.Stats()
			if c = st.Counters; c.Allocs-c.Frees != uint64(st.Blocks) || c.AllocBytes-c.FreeBytes != st.InUse || c.Frees != 4 {
				t.Errorf("after 4 frees: %+v, stats %d blocks, %d bytes", c, st.Blocks, st.InUse)
			}
			if _, err := h.Alloc(math.MaxInt); !errors.Is(err, ErrNoMemory) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Alloc(MaxInt) = %v", err)
			}
			if _, err := h.Alloc(-1); !errors.Is(err, ErrInvalidSize) {
				t.Fatalf("Alloc(-1) = %v", err)
			}
			if c := h.Counters(); c.Failures != 1 {
				t.Errorf("one call failed for want of memory, one for a bad size: Failures %d, want 1", c.Failures)
			}
			if err := h.Reset(); err != nil {
				t.Fatal(err)
			}
			if c := h.Counters(); c.Allocs != c.Frees || c.AllocBytes != c.FreeBytes || c.Allocs != uint64(len(sizes)) {
				t.Errorf("after Reset every block counts as freed: %+v", c)
			}
			var sum uint64
			for _, cl := range h.Counters().Classes {
				if cl.Allocs != cl.Frees {
					t.Errorf("class %d: %d allocs, %d frees after Reset", cl.Size, cl.Allocs, cl.Frees)
				}
				sum += cl.Allocs
			}
			if sum != 6 { // up to 16 KiB
				t.Errorf("small blocks counted per class: %d, want 6", sum)
			}
		})
	}
}

// TestCountersWhileBusy reads the counters while goroutines allocate and
// free (the race detector watches the heap's Go memory), and checks them
// once the goroutines are done.
func TestCountersWhileBusy(t *testing.T) {
	skipUnderDebug(t)
	h := mustNew(t, Options{Name: "counters-busy"})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20000 {
				p, err := h.Alloc(16 + (g*97+i)%2000)
				if err != nil {
					t.Error(err)
					return
				}
				if err := h.Free(p); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 100 {
		if c := h.Counters(); c.Frees > c.Allocs+4 {
			t.Errorf("more frees than allocs: %+v", c)
		}
	}
	wg.Wait()
	if c := h.Counters(); c.Allocs != 80000 || c.Frees != 80000 {
		t.Errorf("4 goroutines × 20000 pairs: %d allocs, %d frees", c.Allocs, c.Frees)
	}
}

func ExampleHeap_Counters() {
	h, _ := New(Options{Name: "counted"})
	defer h.Destroy()
	p, _ := h.Alloc(300)
	h.Free(p)
	q, _ := h.Alloc(5000)
	_ = q
	c := h.Counters()
	fmt.Println(c.Allocs, "allocs;", c.Classes[0].Size, "bytes in the smallest class")
	// Output: 2 allocs; 16 bytes in the smallest class
}
