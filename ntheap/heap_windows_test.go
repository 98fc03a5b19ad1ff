//go:build windows

package ntheap

import (
	"errors"
	"sync"
	"testing"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
)

func TestRealloc(t *testing.T) {
	h := mustNew(t, Options{Name: "realloc"})
	p := mustAlloc(t, h, 100)
	b := unsafe.Slice((*byte)(p), 100)
	for i := range b {
		b[i] = byte(i)
	}
	guard := mustAlloc(t, h, 100) // so that growing must move
	defer h.Free(guard)
	q, err := h.Realloc(p, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range unsafe.Slice((*byte)(q), 100) {
		if c != byte(i) {
			t.Fatalf("byte %d is %d after Realloc", i, c)
		}
	}
	if n, err := h.Size(q); err != nil || n < 64<<10 {
		t.Errorf("Size = %d, %v", n, err)
	}
	if q != p {
		if err := h.Free(p); !errors.Is(err, heap.ErrDoubleFree) {
			t.Errorf("Free of the moved block's old address = %v, want ErrDoubleFree", err)
		}
	}
	if q, err = h.Realloc(q, 10); err != nil {
		t.Fatal(err)
	}
	if r, err := h.Realloc(nil, 50); err != nil || r == nil {
		t.Errorf("Realloc(nil, 50) = %p, %v", r, err)
	}
	mustValidate(t, h)
	if st := h.Stats(); st.Blocks != 3 || st.InUse != 10+100+50 {
		t.Errorf("Stats %+v: want 3 blocks, 160 bytes", st)
	}
}

func TestZeroAndWalk(t *testing.T) {
	h := mustNew(t, Options{Name: "zero", Zero: true, Commit: 64 << 10})
	// Dirty memory, free it, and allocate again: HEAP_ZERO_MEMORY zeroes.
	p := mustAlloc(t, h, 4096)
	dirty := unsafe.Slice((*byte)(p), 4096)
	for i := range dirty {
		dirty[i] = 0xAA
	}
	if err := h.Free(p); err != nil {
		t.Fatal(err)
	}
	q := mustAlloc(t, h, 4096)
	for i, c := range unsafe.Slice((*byte)(q), 4096) {
		if c != 0 {
			t.Fatalf("byte %d of a zeroed block is %#x", i, c)
		}
	}
	kinds := map[Kind]int{}
	found := false
	if err := h.Walk(func(e Entry) bool {
		kinds[e.Kind]++
		found = found || e.Kind == Busy && e.Ptr == q && e.Size >= 4096
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if !found || kinds[Region] == 0 || kinds[Free] == 0 {
		t.Errorf("walk: %v, block %p found %v", kinds, q, found)
	}
}

// TestConcurrent: many goroutines on one heap, with ntdll's lock
// (default) and without it (NoSerialize, the Heap's own lock suffices).
func TestConcurrent(t *testing.T) {
	for _, o := range []Options{{Name: "serialized"}, {Name: "no serialize", NoSerialize: true}} {
		t.Run(o.Name, func(t *testing.T) {
			h := mustNew(t, o)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var live []unsafe.Pointer
					for i := range 5000 {
						p, err := h.Alloc(16 + (i*g)%2000)
						if err != nil {
							errs <- err
							return
						}
						live = append(live, p)
						if i%3 == 0 {
							if err := h.Free(live[0]); err != nil {
								errs <- err
								return
							}
							live = live[1:]
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			mustValidate(t, h)
			if st := h.Stats(); st.Blocks != 4*(5000-1667) {
				t.Errorf("%d live blocks, want %d", st.Blocks, 4*(5000-1667))
			}
		})
	}
}
