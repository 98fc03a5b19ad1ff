package heap

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

func mustNew(t testing.TB, o Options) *Heap {
	t.Helper()
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Destroy() })
	return h
}

// noAddressQuarantine turns the address-space quarantine off for a test
// that needs destroyed ranges released at once.
func noAddressQuarantine(t testing.TB) {
	old := SetAddressQuarantine(0)
	t.Cleanup(func() { SetAddressQuarantine(old) })
}

func mustValidate(t testing.TB, h *Heap) {
	t.Helper()
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNewBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr error
	}{
		{"negative reserve", Options{Reserve: -1}, ErrInvalidSize},
		{"negative commit", Options{Commit: -4096}, ErrInvalidSize},
		{"negative maximum", Options{Maximum: -1}, ErrInvalidSize},
		{"negative segment reserve", Options{SegmentReserve: -1}, ErrInvalidSize},
		{"negative huge block", Options{HugeBlock: -1}, ErrInvalidSize},
		{"reserve above maximum", Options{Reserve: 2 << 20, Maximum: 1 << 20}, ErrInvalidSize},
		{"commit above maximum", Options{Commit: 2 << 20, Maximum: 1 << 20}, ErrInvalidSize},
		{"unknown policy", Options{Policy: Fixed + 1}, ErrInvalidSize},
		{"huge reserve", Options{Reserve: math.MaxInt - 5}, ErrTooLarge},
		{"zero value", Options{}, nil},
		{"never decommit", Options{DecommitFreeBlock: math.MaxInt, HugeBlock: math.MaxInt}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.o)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("New(%+v) = %v, want %v", tt.o, err, tt.wantErr)
			}
			if h != nil {
				h.Destroy()
			}
		})
	}
}

func TestNewTooLargeForSpace(t *testing.T) {
	if is32bit {
		t.Skip("1 TiB does not fit a 32-bit address space at all")
	}
	// 256 TiB: more than a process may map (47-bit user space), so the
	// space refuses and the error names the heap and wraps vmem's.
	_, err := New(Options{Name: "big", Reserve: math.MaxInt >> 15})
	if !errors.Is(err, ErrNoMemory) || !errors.Is(err, vmem.ErrNoMemory) {
		t.Fatalf("New(256 TiB) = %v, want ErrNoMemory wrapping vmem.ErrNoMemory", err)
	}
	var nm *NoMemoryError
	if !errors.As(err, &nm) || nm.Heap != "big" {
		t.Fatalf("error %v is not a *NoMemoryError naming the heap", err)
	}
}

func TestBadInput(t *testing.T) {
	h := mustNew(t, Options{Name: "bad", Policy: NT, HugeBlock: 256 << 10})
	small, _ := h.Alloc(100)
	large, _ := h.Alloc(100 << 10)
	huge, _ := h.Alloc(300 << 10)
	freedSmall, _ := h.Alloc(48)
	freedLarge, _ := h.Alloc(64 << 10)
	freedHuge, _ := h.Alloc(400 << 10)
	for _, p := range []unsafe.Pointer{freedSmall, freedLarge, freedHuge} {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	var local [64]byte
	goHeap := make([]byte, 64)
	tests := []struct {
		name    string
		p       unsafe.Pointer
		wantErr error
	}{
		{"stack pointer", unsafe.Pointer(&local[0]), ErrInvalidPointer},
		{"Go heap pointer", unsafe.Pointer(&goHeap[0]), ErrInvalidPointer},
		{"interior of small", unsafe.Add(small, 8), ErrInvalidPointer},
		{"interior of large", unsafe.Add(large, 4096), ErrInvalidPointer},
		{"unaligned interior of large", unsafe.Add(large, 1), ErrInvalidPointer},
		{"interior of huge", unsafe.Add(huge, 4096), ErrInvalidPointer},
		{"freed small", freedSmall, ErrDoubleFree},
		{"freed large", freedLarge, ErrDoubleFree},
		{"freed huge", freedHuge, ErrDoubleFree},
		{"never-allocated page in free space", unsafe.Add(large, 512<<10), ErrInvalidPointer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.Stats()
			if err := h.Free(tt.p); !errors.Is(err, tt.wantErr) {
				t.Errorf("Free = %v, want %v", err, tt.wantErr)
			}
			if _, err := h.Size(tt.p); !errors.Is(err, tt.wantErr) {
				t.Errorf("Size = %v, want %v", err, tt.wantErr)
			}
			if _, err := h.Realloc(tt.p, 10); !errors.Is(err, tt.wantErr) {
				t.Errorf("Realloc = %v, want %v", err, tt.wantErr)
			}
			if after := h.Stats(); after != before {
				t.Errorf("a failed call changed the stats:\n%+v\n%+v", before, after)
			}
			mustValidate(t, h)
		})
	}
	if err := h.Free(nil); err != nil {
		t.Errorf("Free(nil) = %v", err)
	}
}

// pages44 is 2^44 bytes on 64-bit hosts and math.MaxInt on 32-bit ones:
// above every heap's limit either way.
var pages44 = int(min(uint64(math.MaxInt), 1<<44))

func TestBadSizes(t *testing.T) {
	h := mustNew(t, Options{Name: "sizes"})
	fixed := mustNew(t, Options{Name: "fixed", Maximum: 1 << 20})
	p, _ := h.Alloc(10)
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"negative alloc", func() error { _, err := h.Alloc(-1); return err }, ErrInvalidSize},
		{"min int alloc", func() error { _, err := h.Alloc(math.MinInt); return err }, ErrInvalidSize},
		{"max int alloc", func() error { _, err := h.Alloc(math.MaxInt); return err }, ErrTooLarge},
		{"negative calloc count", func() error { _, err := h.Calloc(-1, 8); return err }, ErrInvalidSize},
		{"negative calloc size", func() error { _, err := h.Calloc(8, -1); return err }, ErrInvalidSize},
		{"overflowing calloc", func() error { _, err := h.Calloc(math.MaxInt/2, 4); return err }, ErrInvalidSize},
		{"negative realloc", func() error { _, err := h.Realloc(p, -5); return err }, ErrInvalidSize},
		{"huge realloc", func() error { _, err := h.Realloc(p, math.MaxInt); return err }, ErrTooLarge},
		{"zero alignment", func() error { _, err := h.AllocAligned(8, 0); return err }, ErrInvalidSize},
		{"odd alignment", func() error { _, err := h.AllocAligned(8, 24); return err }, ErrInvalidSize},
		{"negative alignment", func() error { _, err := h.AllocAligned(8, -16); return err }, ErrInvalidSize},
		{"alignment above 1 GiB", func() error { shift := 1; _, err := h.AllocAligned(8, maxAlign<<shift); return err }, ErrInvalidSize},
		{"larger than a fixed heap", func() error { _, err := fixed.Alloc(2 << 20); return err }, ErrTooLarge},
		{"fixed heap full", func() error {
			a, err := fixed.Alloc(600 << 10)
			if err != nil {
				return err
			}
			defer fixed.Free(a)
			_, err = fixed.Alloc(600 << 10)
			return err
		}, ErrNoMemory},
		{"in place impossible", func() error {
			a, _ := h.Alloc(64)
			b, _ := h.Alloc(64) // the next block of the slab is busy
			defer h.Free(a)
			defer h.Free(b)
			return h.ReallocInPlace(a, 100)
		}, ErrInPlace},
		{"in place nil", func() error { return h.ReallocInPlace(nil, 100) }, ErrInvalidPointer},
		// 2^44 bytes are 2^32 pages of 4 KiB: one more than the page table
		// numbers. Page counts used to be cut to 32 bits, which turned
		// these into one-page blocks (and Realloc into a wild copy).
		{"alloc 2^44", func() error { _, err := h.Alloc(pages44); return err }, ErrTooLarge},
		{"alloc 2^44 + a page", func() error { _, err := h.Alloc(pages44 + 4096); return err }, ErrTooLarge},
		{"realloc to 2^44", func() error {
			q, err := h.Alloc(100 << 10)
			if err != nil {
				return err
			}
			defer h.Free(q)
			_, err = h.Realloc(q, pages44)
			return err
		}, ErrTooLarge},
		{"realloc to 2^44 + a page", func() error {
			q, err := h.Alloc(100 << 10)
			if err != nil {
				return err
			}
			defer h.Free(q)
			_, err = h.Realloc(q, pages44+4096)
			return err
		}, ErrTooLarge},
		{"calloc above the limit", func() error { _, err := h.Calloc(math.MaxInt/4, 2); return err }, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			mustValidate(t, h)
			mustValidate(t, fixed)
		})
	}
}

func TestNoMemoryErrorNamesLargest(t *testing.T) {
	skipUnderDebug(t)
	h := mustNew(t, Options{Name: "full", Maximum: 1 << 20})
	a, err := h.Alloc(700 << 10)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Alloc(500 << 10)
	var nm *NoMemoryError
	if !errors.As(err, &nm) {
		t.Fatalf("Alloc = %v, want *NoMemoryError", err)
	}
	if nm.Heap != "full" || nm.Asked != 500<<10 || nm.Largest != 324<<10 {
		t.Errorf("NoMemoryError = %+v, want heap full, asked 512000, largest 331776", nm)
	}
	if err := h.Free(a); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Alloc(1 << 20); err != nil {
		t.Errorf("the whole fixed heap after free: %v", err)
	}
}

func TestDestroyed(t *testing.T) {
	h, err := New(Options{Name: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := h.Alloc(10)
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Destroy", h.Destroy},
		{"Alloc", func() error { _, err := h.Alloc(1); return err }},
		{"Calloc", func() error { _, err := h.Calloc(1, 1); return err }},
		{"AllocAligned", func() error { _, err := h.AllocAligned(1, 64); return err }},
		{"Free", func() error { return h.Free(p) }},
		{"Realloc", func() error { _, err := h.Realloc(p, 20); return err }},
		{"ReallocInPlace", func() error { return h.ReallocInPlace(p, 20) }},
		{"Size", func() error { _, err := h.Size(p); return err }},
		{"Validate", h.Validate},
		{"Walk", func() error { return h.Walk(func(Entry) bool { return true }) }},
		{"Compact", func() error { _, err := h.Compact(); return err }},
		{"Reset", h.Reset},
		{"NewOf", func() error { _, err := NewOf[int64](h); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, ErrDestroyed) {
			t.Errorf("%s after Destroy = %v, want ErrDestroyed", c.name, err)
		}
	}
	if st := h.Stats(); st != (Stats{}) {
		t.Errorf("Stats after Destroy = %+v, want zeros", st)
	}
	if h.Segments() != nil || h.Ranges() != nil {
		t.Error("segments after Destroy")
	}
}

// TestLimits checks the largest request per page size, and that 32-bit
// hosts accept heaps and blocks above 1 GiB (for the 3 and 4 GiB windows).
func TestLimits(t *testing.T) {
	pageLimit := func(page uint64) uintptr { return uintptr(min(uint64(maxSize), (1<<32-1)*page)) }
	tests := []struct {
		name string
		page uintptr
		want uintptr
	}{
		{"4 KiB pages", 4 << 10, pageLimit(4 << 10)},
		{"16 KiB pages", 16 << 10, pageLimit(16 << 10)},
		{"64 KiB pages", 64 << 10, pageLimit(64 << 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := limitFor(tt.page)
			if got != tt.want || got > maxSize || uint64(got)/uint64(tt.page) > maxPages {
				t.Errorf("limitFor(%d) = %d, want %d", tt.page, got, tt.want)
			}
		})
	}
	if is32bit && limitFor(4<<10) != maxSize {
		t.Errorf("32-bit limit %d, want maxSize %d", limitFor(4<<10), maxSize)
	}
	if maxSize < 3<<29 {
		t.Errorf("maxSize %d is below 1.5 GiB", maxSize)
	}
	big := 3 << 29 // 1.5 GiB: a heap for a 3 GiB window
	for _, o := range []Options{{Reserve: big}, {Maximum: big}, {Reserve: big, Commit: 1 << 20}} {
		if c, err := o.config(); err != nil || c.reserve != uintptr(big) {
			t.Errorf("config(%+v) = reserve %d, %v; want 1.5 GiB accepted", o, c.reserve, err)
		}
	}
}

// TestLargestSucceeds: Stats.Largest is a request that succeeds without
// growing, however small the free run left: a 12 KiB run cannot hold the
// slab a 12 KiB (or 300-byte) request needs, and Largest says so.
func TestLargestSucceeds(t *testing.T) {
	for _, left := range []int{4 << 10, 8 << 10, 12 << 10, 20 << 10, 64 << 10} {
		t.Run(fmt.Sprint(left), func(t *testing.T) {
			skipUnderDebug(t)
			h := mustNew(t, Options{Name: "largest", Maximum: 1 << 20, NoSerialize: true})
			if _, err := h.Alloc(int(h.Stats().Largest) - left); err != nil {
				t.Fatal(err)
			}
			st := h.Stats()
			if st.Largest == 0 {
				if _, err := h.Alloc(16); err == nil {
					t.Fatalf("Largest is 0 with %d bytes free, yet Alloc(16) succeeds", left)
				}
				return
			}
			if _, err := h.Alloc(int(st.Largest)); err != nil {
				t.Fatalf("Largest = %d with a %d-byte run, but Alloc(Largest): %v", st.Largest, left, err)
			}
		})
	}
}

// TestDoubleFreeAfterSlabReleased frees every block of slabs that then
// go back to the page runs (Compact drains the caches and releases empty
// slabs): a second Free of any of those blocks is still ErrDoubleFree,
// not an invalid pointer (FuzzHeap found this when a free went straight
// to its slab and emptied it).
func TestDoubleFreeAfterSlabReleased(t *testing.T) {
	h, err := New(Options{Name: "slab-released"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	if h.cfg.debug&DebugQuarantine != 0 {
		t.Skip("ZEBRA_DEBUG's quarantine keeps freed blocks from their slabs")
	}
	var ps []unsafe.Pointer
	for range 4 * slabBytes / 1024 { // four slabs of 1 KiB blocks
		p, err := h.Alloc(1000)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps[1:] {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	before := h.Stats().Free
	if _, err := h.Compact(); err != nil {
		t.Fatal(err)
	}
	if h.central[classOf(1000)].slabs > 1 {
		t.Fatalf("%d slabs of the class left after Compact, want 1", h.central[classOf(1000)].slabs)
	}
	for _, p := range ps[1:] {
		if err := h.Free(p); !errors.Is(err, ErrDoubleFree) {
			t.Fatalf("second Free of %p after its slab was released: %v, want ErrDoubleFree (free %d before Compact)", p, err, before)
		}
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
}
