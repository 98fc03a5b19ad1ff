package heap

import (
	"errors"
	"testing"
	"unsafe"
)

// TestNilHeap calls every method on a nil *Heap: each returns ErrNilHeap
// (or a zero value) instead of panicking.
func TestNilHeap(t *testing.T) {
	var h *Heap
	var x [16]byte
	p := unsafe.Pointer(&x)
	calls := []struct {
		name string
		call func() error
	}{
		{"Alloc", func() error { _, err := h.Alloc(8); return err }},
		{"Calloc", func() error { _, err := h.Calloc(1, 8); return err }},
		{"AllocAligned", func() error { _, err := h.AllocAligned(8, 64); return err }},
		{"Free", func() error { return h.Free(p) }},
		{"Size", func() error { _, err := h.Size(p); return err }},
		{"Realloc", func() error { _, err := h.Realloc(p, 8); return err }},
		{"ReallocInPlace", func() error { return h.ReallocInPlace(p, 8) }},
		{"Compact", func() error { _, err := h.Compact(); return err }},
		{"Reset", func() error { return h.Reset() }},
		{"Validate", func() error { return h.Validate() }},
		{"Walk", func() error { return h.Walk(func(Entry) bool { return true }) }},
		{"Destroy", func() error { return h.Destroy() }},
		{"FreeOf", func() error { return FreeOf(h, (*int)(p)) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, ErrNilHeap) {
				t.Errorf("%s on a nil heap: %v, want ErrNilHeap", c.name, err)
			}
		})
	}
	if h.Name() != "" || h.Stats() != (Stats{}) || h.Segments() != nil || h.Ranges() != nil {
		t.Errorf("nil heap: name %q, stats %v, segments %v, ranges %v", h.Name(), h.Stats(), h.Segments(), h.Ranges())
	}
	if _, err := NewOf[int](h); !errors.Is(err, ErrNilHeap) {
		t.Errorf("NewOf on a nil heap: %v", err)
	}
}
