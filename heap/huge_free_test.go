package heap

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// TestHugeDoubleFreeAfterMany frees a huge block, then many other huge
// blocks, then the first one again: still a double free, not a pointer the
// heap never returned (the old ring remembered the last 64).
func TestHugeDoubleFreeAfterMany(t *testing.T) {
	h := mustNew(t, Options{Name: "huge-df", Policy: NT, HugeBlock: 64 << 10})
	defer h.Destroy()
	const others = 200
	first, err := h.Alloc(128 << 10)
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]unsafe.Pointer, others)
	for i := range ps {
		if ps[i], err = h.Alloc(128 << 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Free(first); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		p    unsafe.Pointer
		want error
	}{
		{"first, freed before 200 others", first, ErrDoubleFree},
		{"last", ps[others-1], ErrDoubleFree},
		{"inside the first", unsafe.Add(first, 4096), ErrInvalidPointer},
	}
	for _, tt := range tests {
		if err := h.Free(tt.p); !errors.Is(err, tt.want) {
			t.Errorf("%s: Free = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestHugeReleasedReused checks that a released huge block is forgotten once
// its range is handed out again, and that the memory bound holds.
func TestHugeReleasedReused(t *testing.T) {
	skipUnderDebug(t) // the quarantine answers ErrDoubleFree for the stale free
	noAddressQuarantine(t)
	h := mustNew(t, Options{Name: "huge-reuse", Policy: NT, HugeBlock: 64 << 10})
	defer h.Destroy()
	p, err := h.Alloc(128 << 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Free(p); err != nil {
		t.Fatal(err)
	}
	// Someone else may reserve the same addresses (the OS hands the range
	// out again at once, when no quarantine holds it): a stale free there
	// is not this heap's double free.
	other := mustNew(t, Options{Name: "huge-reuse-2", Reserve: 1 << 20})
	defer other.Destroy()
	reused := false
	for _, in := range vmem.Live() {
		if overlaps(in.Range(), vmem.Range{Base: uintptr(p), Size: 128 << 10}) {
			reused = true
		}
	}
	err = h.Free(p)
	switch {
	case reused && !errors.Is(err, ErrInvalidPointer):
		t.Errorf("stale free into another heap's range: %v, want ErrInvalidPointer", err)
	case !reused && !errors.Is(err, ErrDoubleFree):
		t.Errorf("double free: %v, want ErrDoubleFree", err)
	}

	var r releasedHuge
	for i := range releasedHugeMax + 100 {
		r.add(uintptr(i+1)<<16, 1<<16)
	}
	if len(r.size) != releasedHugeMax || len(r.queue) > 2*releasedHugeMax+16 {
		t.Errorf("remembers %d blocks in a queue of %d, want at most %d", len(r.size), len(r.queue), releasedHugeMax)
	}
	if _, ok := r.size[1<<16]; ok {
		t.Error("the oldest block is still remembered past the bound")
	}
}
