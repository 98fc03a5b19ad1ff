package heap

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
	"unsafe"
)

// FuzzMetadata overwrites bytes of a heap's page descriptors and slab
// records and then calls every API. Whatever the bytes, no call may panic
// or hang, and every error must be one of the heap's sentinels. When
// Validate accepts the mutated metadata first, the heap must also keep its
// promises: blocks handed out afterwards overlap no live block. (A flipped
// bit can make a busy block look free in a way only Validate's counters
// see; once a call has reported ErrCorrupt, the heap is poisoned and only
// Destroy works.)
func FuzzMetadata(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0xff, 0, 0, 16, 0})
	f.Add([]byte{0, 0, 1, 0, 0x55, 0, 2, 0, 0xaa, 0, 3, 0, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		validateFirst := data[0]&1 == 0
		h, err := New(Options{Name: "fuzz-meta", Reserve: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		live := map[uintptr]uintptr{}
		var ptrs []unsafe.Pointer
		for i := range 300 {
			n := 8 + i*37%2000
			if i%50 == 0 {
				n = 20<<10 + i*100
			}
			p, err := h.Alloc(n)
			if err != nil {
				t.Fatal(err)
			}
			ptrs = append(ptrs, p)
		}
		for i := 0; i < len(ptrs); i += 3 {
			if err := h.Free(ptrs[i]); err != nil {
				t.Fatal(err)
			}
			ptrs[i] = nil
		}
		for _, p := range ptrs {
			if p != nil {
				n, _ := h.Size(p)
				live[uintptr(p)] = uintptr(n)
			}
		}
		// Mutate: each 4 bytes are a 24-bit offset into the metadata
		// (descriptors, then slab records) and a value.
		descs := uintptr(h.pt.n) * descSize
		recs := uintptr(h.st.n) * slabSize
		for b := data[1:]; len(b) >= 4; b = b[4:] {
			off := (uintptr(b[0]) | uintptr(b[1])<<8 | uintptr(b[2])<<16) % (descs + recs)
			if off < descs {
				gp := uint32(off / descSize)
				(*[descSize]byte)(unsafe.Pointer(h.pt.at(gp)))[off%descSize] = b[3]
			} else {
				off -= descs
				id := uint32(off / slabSize)
				(*[slabSize]byte)(unsafe.Pointer(h.st.at(id)))[off%slabSize] = b[3]
			}
		}
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panic: %v\n%s", r, debug.Stack())
				}
			}()
			done <- exercise(h, validateFirst, ptrs, live)
		}()
		select {
		case err := <-done:
			if err != nil {
				// Not destroyed: a panic may have left a lock held.
				t.Fatal(err)
			}
			h.Destroy()
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<16)
			t.Fatalf("a call hangs on mutated metadata:\n%s", buf[:runtime.Stack(buf, true)])
		}
	})
}

// exercise calls every API of h and checks the errors and, when Validate
// accepted the heap first, the blocks handed out.
func exercise(h *Heap, validateFirst bool, ptrs []unsafe.Pointer, live map[uintptr]uintptr) error {
	known := func(err error) error {
		for _, s := range []error{ErrCorrupt, ErrInvalidPointer, ErrDoubleFree, ErrNoMemory, ErrTooLarge, ErrInPlace} {
			if errors.Is(err, s) {
				return nil
			}
		}
		return err
	}
	var errs []error
	intact := false
	if validateFirst {
		intact = h.Validate() == nil
	}
	var got []uintptr
	for i := range 200 {
		p, err := h.Alloc(8 + i*53%3000)
		if err != nil {
			errs = append(errs, known(err))
			continue
		}
		got = append(got, uintptr(p))
	}
	if intact {
		for _, p := range got {
			for q, n := range live {
				if p >= q && p < q+n {
					return fmt.Errorf("a new block %#x lies in live block %#x+%d of a heap Validate accepted", p, q, n)
				}
			}
		}
	}
	for _, p := range ptrs {
		if p == nil {
			continue
		}
		_, err := h.Size(p)
		errs = append(errs, known(err))
		q, err := h.Realloc(p, 100)
		errs = append(errs, known(err))
		if err == nil {
			errs = append(errs, known(h.Free(q)))
		}
	}
	errs = append(errs, known(h.Walk(func(Entry) bool { return true })))
	_, err := h.Compact()
	errs = append(errs, known(err))
	_ = h.Stats()
	_ = h.Ranges()
	errs = append(errs, known(h.Validate()))
	errs = append(errs, known(h.Reset()))
	return errors.Join(errs...)
}
