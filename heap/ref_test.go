package heap

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"
)

// TestRefStale: a Ref names its allocation, not its address: after Free,
// and after the address is handed out again, Pointer, Bytes and FreeRef
// refuse it with ErrStaleRef and leave the new block alone; small, large
// and huge blocks, and Reset.
func TestRefStale(t *testing.T) {
	skipUnderDebug(t)
	for _, tt := range []struct {
		name string
		size int
	}{{"small", 48}, {"large", 64 << 10}, {"huge", 3 << 20}} {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, Options{Name: "refs", Policy: NT, HugeBlock: 1 << 20})
			r, err := h.AllocRef(tt.size)
			if err != nil {
				t.Fatal(err)
			}
			b, err := h.Bytes(r)
			if err != nil || len(b) < tt.size {
				t.Fatalf("Bytes(%v) = %d bytes, %v", r, len(b), err)
			}
			b[0] = 7
			if err := h.FreeRef(r); err != nil {
				t.Fatal(err)
			}
			for _, call := range []func() error{
				func() error { _, err := h.Pointer(r); return err },
				func() error { _, err := h.Bytes(r); return err },
				func() error { return h.FreeRef(r) },
			} {
				if err := call(); !errors.Is(err, ErrStaleRef) {
					t.Errorf("after Free: %v, want ErrStaleRef", err)
				}
			}
			// Reuse the address: the stale Ref must not reach the new block.
			var again Ref
			for range 1000 {
				q, err := h.AllocRef(tt.size)
				if err != nil {
					t.Fatal(err)
				}
				if q.addr() == r.addr() {
					again = q
					break
				}
			}
			if again == 0 {
				// Huge blocks' ranges wait in the address-space
				// quarantine: their addresses are not reused soon.
				t.Logf("the address of %v was not handed out again", r)
				if again, err = h.AllocRef(tt.size); err != nil {
					t.Fatal(err)
				}
			} else {
				if _, err := h.Pointer(r); !errors.Is(err, ErrStaleRef) {
					t.Errorf("stale Ref to a reused address: %v, want ErrStaleRef", err)
				}
				if err := h.FreeRef(r); !errors.Is(err, ErrStaleRef) {
					t.Errorf("FreeRef of a stale Ref to a reused address: %v, want ErrStaleRef", err)
				}
			}
			if _, err := h.Pointer(again); err != nil {
				t.Errorf("the new block's Ref: %v", err)
			}
			if err := h.Reset(); err != nil {
				t.Fatal(err)
			}
			if _, err := h.Pointer(again); !errors.Is(err, ErrStaleRef) && !errors.Is(err, ErrInvalidPointer) {
				t.Errorf("a Ref from before Reset: %v, want ErrStaleRef", err)
			}
			mustValidate(t, h)
		})
	}
}

// TestRefBad: Refs that name no block of the heap, interior pointers and a
// nil heap are errors, never a panic.
func TestRefBad(t *testing.T) {
	h := mustNew(t, Options{Name: "refs-bad"})
	other := mustNew(t, Options{Name: "refs-other"})
	p, err := h.Alloc(100)
	if err != nil {
		t.Fatal(err)
	}
	q, err := other.AllocRef(100)
	if err != nil {
		t.Fatal(err)
	}
	var local [64]byte
	for _, tt := range []struct {
		name string
		r    Ref
		want error
	}{
		{"zero", 0, ErrInvalidPointer},
		{"interior", makeRef(unsafe.Add(p, 16), 0), ErrInvalidPointer},
		{"stack", makeRef(unsafe.Pointer(&local[0]), 0), ErrInvalidPointer},
		{"another heap's", q, ErrInvalidPointer},
		{"all ones", ^Ref(0), ErrInvalidPointer},
	} {
		if _, err := h.Pointer(tt.r); !errors.Is(err, tt.want) {
			t.Errorf("%s: Pointer(%v) = %v, want %v", tt.name, tt.r, err, tt.want)
		}
	}
	var nilHeap *Heap
	if _, err := nilHeap.Pointer(q); !errors.Is(err, ErrNilHeap) {
		t.Errorf("nil heap: %v", err)
	}
	if _, err := h.Ref(unsafe.Pointer(&local[0])); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("Ref of a stack pointer: %v", err)
	}
}

// BenchmarkRef measures what a Ref costs against the pointer it wraps: a
// Pointer lookup on the page map and the block's state byte.
func BenchmarkRef(b *testing.B) {
	h, _ := New(Options{Name: "ref-bench"})
	defer h.Destroy()
	refs := make([]Ref, 1024)
	for i := range refs {
		refs[i], _ = h.AllocRef(16 + i%500)
	}
	b.Run("Pointer", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := h.Pointer(refs[i&1023]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AllocRef+FreeRef", func(b *testing.B) {
		for b.Loop() {
			r, _ := h.AllocRef(64)
			if err := h.FreeRef(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Example_refs: a map of Refs, which the garbage collector does not scan,
// and a stale Ref caught after the block was freed.
func Example_refs() {
	h, _ := New(Options{Name: "refs-example"})
	defer h.Destroy()
	index := map[string]Ref{}
	r, _ := h.AllocRef(5)
	b, _ := h.Bytes(r)
	copy(b, "hello")
	index["greeting"] = r

	b, _ = h.Bytes(index["greeting"])
	fmt.Println(string(b[:5]))
	h.FreeRef(index["greeting"])
	_, err := h.Bytes(index["greeting"])
	fmt.Println(errors.Is(err, ErrStaleRef))
	// Output:
	// hello
	// true
}
