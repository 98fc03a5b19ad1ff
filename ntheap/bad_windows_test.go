//go:build windows

package ntheap

import (
	"errors"
	"math"
	"testing"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
)

// These tests mirror heap/bad_test.go case by case: every bad call the
// pure-Go heap rejects, the NT heap rejects with the same sentinel, before
// ntdll sees it, and the process goes on.

func mustNew(t testing.TB, o Options) *Heap {
	t.Helper()
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Destroy() })
	return h
}

func mustValidate(t testing.TB, h *Heap) {
	t.Helper()
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
}

func mustAlloc(t testing.TB, h *Heap, n int) unsafe.Pointer {
	t.Helper()
	p, err := h.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr error
	}{
		{"negative reserve", Options{Reserve: -1}, heap.ErrInvalidSize},
		{"negative commit", Options{Commit: -4096}, heap.ErrInvalidSize},
		{"negative maximum", Options{Maximum: -1}, heap.ErrInvalidSize},
		{"negative segment reserve", Options{SegmentReserve: -1}, heap.ErrInvalidSize},
		{"negative virtual memory threshold", Options{VirtualMemoryThreshold: -1}, heap.ErrInvalidSize},
		{"reserve other than maximum", Options{Reserve: 2 << 20, Maximum: 1 << 20}, heap.ErrInvalidSize},
		{"commit above maximum", Options{Commit: 2 << 20, Maximum: 1 << 20}, heap.ErrInvalidSize},
		{"HeapCreate with a reserve", Options{HeapCreate: true, Reserve: 1 << 20}, heap.ErrInvalidSize},
		{"huge reserve", Options{Reserve: math.MaxInt - 5}, heap.ErrTooLarge},
		{"zero value", Options{}, nil},
		{"HeapCreate(0, 0, 0)", Options{HeapCreate: true}, nil},
		{"fixed", Options{Maximum: 1 << 20, Commit: 64 << 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.o)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("New(%+v) = %v, want %v", tt.o, err, tt.wantErr)
			}
			if h != nil {
				if err := h.Destroy(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	h := mustNew(t, Options{Name: "bad"})
	small := mustAlloc(t, h, 100)
	large := mustAlloc(t, h, 100<<10)
	huge := mustAlloc(t, h, 4<<20) // above VirtualMemoryThreshold: a VirtualAlloc of its own
	freedSmall := mustAlloc(t, h, 48)
	freedLarge := mustAlloc(t, h, 64<<10)
	freedHuge := mustAlloc(t, h, 5<<20)
	for _, p := range []unsafe.Pointer{freedSmall, freedLarge, freedHuge} {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	// An address well inside a free block of the heap, as the pure-Go
	// test's "never-allocated page in free space": no block started there,
	// so it is an invalid pointer, not a double free.
	var freeSpace unsafe.Pointer
	h.Walk(func(e Entry) bool {
		if e.Kind == Free && e.Size >= 4096 {
			freeSpace = unsafe.Add(e.Ptr, e.Size/2)
			return false
		}
		return true
	})
	if freeSpace == nil {
		t.Fatal("the walk shows no free block of 4 KiB after freeing 64 KiB")
	}
	var local [64]byte
	goHeap := make([]byte, 64)
	tests := []struct {
		name    string
		p       unsafe.Pointer
		wantErr error
	}{
		{"stack pointer", unsafe.Pointer(&local[0]), heap.ErrInvalidPointer},
		{"Go heap pointer", unsafe.Pointer(&goHeap[0]), heap.ErrInvalidPointer},
		{"interior of small", unsafe.Add(small, 8), heap.ErrInvalidPointer},
		{"interior of large", unsafe.Add(large, 4096), heap.ErrInvalidPointer},
		{"unaligned interior of large", unsafe.Add(large, 1), heap.ErrInvalidPointer},
		{"interior of huge", unsafe.Add(huge, 4096), heap.ErrInvalidPointer},
		{"freed small", freedSmall, heap.ErrDoubleFree},
		{"freed large", freedLarge, heap.ErrDoubleFree},
		{"freed huge", freedHuge, heap.ErrDoubleFree},
		{"never-allocated address in free space", freeSpace, heap.ErrInvalidPointer},
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
	if _, err := h.Size(nil); !errors.Is(err, heap.ErrInvalidPointer) {
		t.Errorf("Size(nil) = %v, want ErrInvalidPointer", err)
	}
	// The good blocks are still good.
	for _, p := range []unsafe.Pointer{small, large, huge} {
		if err := h.Free(p); err != nil {
			t.Errorf("Free(%p) after the bad calls: %v", p, err)
		}
	}
	if st := h.Stats(); st.Blocks != 0 || st.InUse != 0 {
		t.Errorf("stats after freeing everything: %+v", st)
	}
}

// pages44 is 2^44 bytes: more than any machine's commit limit here.
var pages44 = int(min(uint64(math.MaxInt), 1<<44))

func TestBadSizes(t *testing.T) {
	h := mustNew(t, Options{Name: "sizes"})
	fixed := mustNew(t, Options{Name: "fixed", Maximum: 1 << 20})
	p := mustAlloc(t, h, 10)
	if uint64(requestLimit()) >= 1<<44 {
		t.Skipf("the commit limit %d is above 2^44", requestLimit())
	}
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"negative alloc", func() error { _, err := h.Alloc(-1); return err }, heap.ErrInvalidSize},
		{"min int alloc", func() error { _, err := h.Alloc(math.MinInt); return err }, heap.ErrInvalidSize},
		{"max int alloc", func() error { _, err := h.Alloc(math.MaxInt); return err }, heap.ErrTooLarge},
		{"negative realloc", func() error { _, err := h.Realloc(p, -5); return err }, heap.ErrInvalidSize},
		{"huge realloc", func() error { _, err := h.Realloc(p, math.MaxInt); return err }, heap.ErrTooLarge},
		{"larger than a fixed heap", func() error { _, err := fixed.Alloc(2 << 20); return err }, heap.ErrTooLarge},
		{"fixed heap full", func() error {
			a, err := fixed.Alloc(600 << 10)
			if err != nil {
				return err
			}
			defer fixed.Free(a)
			_, err = fixed.Alloc(600 << 10)
			var nm *heap.NoMemoryError
			if errors.As(err, &nm) && (nm.Heap != "fixed" || nm.Asked != 600<<10 || nm.Largest <= 0 || nm.Largest >= 600<<10) {
				t.Errorf("NoMemoryError %+v: want heap fixed, asked 614400, a largest free block below it", nm)
			}
			return err
		}, heap.ErrNoMemory},
		{"alloc 2^44", func() error { _, err := h.Alloc(pages44); return err }, heap.ErrTooLarge},
		{"alloc 2^44 + a page", func() error { _, err := h.Alloc(pages44 + 4096); return err }, heap.ErrTooLarge},
		{"realloc to 2^44", func() error {
			q, err := h.Alloc(100 << 10)
			if err != nil {
				return err
			}
			defer h.Free(q)
			_, err = h.Realloc(q, pages44)
			return err
		}, heap.ErrTooLarge},
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
	if n, err := h.Size(p); err != nil || n < 10 {
		t.Errorf("Size after the bad calls = %d, %v", n, err)
	}
}

func TestDestroyed(t *testing.T) {
	h, err := New(Options{Name: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	p := mustAlloc(t, h, 10)
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Destroy", h.Destroy},
		{"Alloc", func() error { _, err := h.Alloc(1); return err }},
		{"Free", func() error { return h.Free(p) }},
		{"Free(nil)", func() error { return h.Free(nil) }},
		{"Realloc", func() error { _, err := h.Realloc(p, 20); return err }},
		{"Realloc(nil)", func() error { _, err := h.Realloc(nil, 20); return err }},
		{"Size", func() error { _, err := h.Size(p); return err }},
		{"Validate", h.Validate},
		{"Walk", func() error { return h.Walk(func(Entry) bool { return true }) }},
		{"Compact", func() error { _, err := h.Compact(); return err }},
		{"LowFragmentation", func() error { _, _, err := h.LowFragmentation(); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, heap.ErrDestroyed) {
			t.Errorf("%s after Destroy = %v, want ErrDestroyed", c.name, err)
		}
	}
	if st := h.Stats(); st != (heap.Stats{}) {
		t.Errorf("Stats after Destroy = %+v, want zeros", st)
	}
	if h.Handle() != 0 {
		t.Error("a handle after Destroy")
	}
}

// TestTable drives the block table through rebuilds: many live blocks,
// then churn through more addresses than the table holds, checking that
// live blocks stay found and freed ones stay known while the marks fit.
func TestTable(t *testing.T) {
	tb, err := newTable()
	if err != nil {
		t.Fatal(err)
	}
	defer tb.release()
	const n = 20000
	addr := func(i int) uintptr { return uintptr(0x10000 + 16*i) }
	for i := range n {
		if err := tb.insert(addr(i), uintptr(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 2 {
		tb.markFreed(addr(i))
	}
	for i := range n {
		size, live, known := tb.lookup(addr(i))
		if !known || live != (i%2 == 1) || (live && size != uintptr(i)) {
			t.Fatalf("lookup(%d) = %d, %v, %v", i, size, live, known)
		}
	}
	if tb.live != n/2 {
		t.Fatalf("live %d, want %d", tb.live, n/2)
	}
	// Churn: 10 times as many addresses again, each freed at once.
	for i := n; i < 11*n; i++ {
		if err := tb.insert(addr(i), 1); err != nil {
			t.Fatal(err)
		}
		tb.markFreed(addr(i))
	}
	for i := 1; i < n; i += 2 {
		if size, live, _ := tb.lookup(addr(i)); !live || size != uintptr(i) {
			t.Fatalf("live block %d lost after churn", i)
		}
	}
	if len(tb.slots) > 16*n {
		t.Errorf("table of %d slots for %d live blocks: the freed marks were not dropped", len(tb.slots), tb.live)
	}
	if _, _, known := tb.lookup(0x7fff0000); known {
		t.Error("an address never inserted is known")
	}
}

// TestHugeDoubleFreeAfterMany mirrors the pure-Go heap's test of the same
// name: a block above VirtualMemoryThreshold (a VirtualAlloc of its own,
// released by ntdll at once) freed, then 200 others, then the first again
// is still ErrDoubleFree, since the record keeps freed addresses while
// they are no more than the live blocks; an interior pointer of it is
// ErrInvalidPointer.
func TestHugeDoubleFreeAfterMany(t *testing.T) {
	h := mustNew(t, Options{Name: "huge-df"})
	defer h.Destroy()
	const others = 200
	keep := make([]unsafe.Pointer, others) // live, so the freed marks stay
	for i := range keep {
		keep[i] = mustAlloc(t, h, 64)
	}
	first := mustAlloc(t, h, 2<<20)
	ps := make([]unsafe.Pointer, others)
	for i := range ps {
		ps[i] = mustAlloc(t, h, 2<<20)
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
		{"first, freed before 200 others", first, heap.ErrDoubleFree},
		{"last", ps[others-1], heap.ErrDoubleFree},
		{"inside the first", unsafe.Add(first, 4096), heap.ErrInvalidPointer},
	}
	for _, tt := range tests {
		if err := h.Free(tt.p); !errors.Is(err, tt.want) {
			t.Errorf("%s: Free = %v, want %v", tt.name, err, tt.want)
		}
	}
	mustValidate(t, h)
}
