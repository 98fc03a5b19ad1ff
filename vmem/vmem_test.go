package vmem

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"
)

// These tests use only Caps and the public API (plus the prims contract),
// so they run on every host, including Windows under Wine. Linux-only
// checks (/proc, VMAs, RSS, faults) are in os_linux_test.go.

const (
	oneKiB = uintptr(1) << 10
	oneMiB = uintptr(1) << 20
)

// raceEnabled is set by race_test.go in -race builds.
var raceEnabled bool

// reserveT reserves on the host and releases at the end of the test.
func reserveT(t testing.TB, size uintptr, o Options) *Reservation {
	t.Helper()
	r, err := OS().Reserve(size, o)
	if err != nil {
		t.Fatalf("Reserve(%#x, %+v): %v", size, o, err)
	}
	t.Cleanup(func() { releaseT(t, r) })
	return r
}

func releaseT(t testing.TB, r *Reservation) {
	t.Helper()
	if err := r.Release(); err != nil && !errors.Is(err, ErrReleased) {
		t.Errorf("Release: %v", err)
	}
}

func validT(t testing.TB, r *Reservation) {
	t.Helper()
	if err := r.validate(); err != nil {
		t.Fatalf("invariant broken: %v", err)
	}
}

// mem returns the reservation's bytes; only committed ones may be touched.
func mem(r *Reservation) []byte { return unsafe.Slice((*byte)(r.Pointer()), r.Size()) }

// faults reports whether writing to addr faults. It turns the fault into
// a panic (debug.SetPanicOnFault) and recovers, so an uncommitted page can
// be probed without killing the test binary.
func faults(addr uintptr) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if e := recover(); e != nil {
			faulted = true
		}
	}()
	*(*byte)(addrPtr(addr)) = 1
	return false
}

// addrPtr turns an address of memory outside the Go heap into a pointer,
// in the form go vet accepts (the value is loaded, not converted).
func addrPtr(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// fixedPrims makes reserve place exactly at a chosen address, so tests can
// put a reservation where they know what surrounds it.
type fixedPrims struct {
	prims
	at unsafe.Pointer
}

func (f fixedPrims) restore(p unsafe.Pointer, n uintptr, huge bool, owner string) {
	if rs, ok := f.prims.(restorer); ok {
		rs.restore(p, n, huge, owner)
	}
}

func (f fixedPrims) reserve(size, _ uintptr, huge bool) (unsafe.Pointer, error) {
	return f.at, f.prims.reserveAt(f.at, size, huge)
}

// inHole makes a reservation of size bytes with `below` free bytes under it
// and `above` free bytes over it: it reserves the whole hole, releases it
// and reserves the middle exactly. Another thread of the runtime may map
// into the hole meanwhile, so it tries a few times.
func inHole(t testing.TB, below, size, above uintptr, o Options) (*Reservation, Range) {
	t.Helper()
	hp := host.p
	for try := 0; try < 10; try++ {
		total := below + size + above
		p, err := hp.reserve(total, hp.caps().Granularity, false)
		if err != nil {
			t.Fatalf("reserve hole: %v", err)
		}
		hole := Range{uintptr(p), total}
		if err := hp.release(p, []Range{hole}); err != nil {
			t.Fatalf("release hole: %v", err)
		}
		r, err := reserve(fixedPrims{hp, unsafe.Add(p, below)}, hostName, size, o)
		if errors.Is(err, ErrAddressTaken) {
			continue
		}
		if err != nil {
			t.Fatalf("reserve in hole: %v", err)
		}
		t.Cleanup(func() { releaseT(t, r) })
		return r, hole
	}
	t.Fatalf("could not keep a hole free in 10 tries")
	return nil, Range{}
}

// isFree reports whether [rg.Base, rg.End()) is free, by reserving it.
func isFree(t testing.TB, rg Range) bool {
	t.Helper()
	err := host.p.reserveAt(addrPtr(rg.Base), rg.Size, false)
	if err != nil {
		return false
	}
	if err := host.p.release(addrPtr(rg.Base), []Range{rg}); err != nil {
		t.Fatalf("release probe: %v", err)
	}
	return true
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"free", Free.String(), "free"},
		{"reserved", Reserved.String(), "reserved"},
		{"committed", Committed.String(), "committed"},
		{"decommitted", Decommitted.String(), "decommitted"},
		{"released", Released.String(), "released"},
		{"unknown state", State(9).String(), "State(9)"},
		{"below", Below.String(), "below"},
		{"above", Above.String(), "above"},
		{"unknown direction", Direction(7).String(), "Direction(7)"},
		{"exact size", sizeText(64 * oneKiB), "64 KiB"},
		{"inexact size", sizeText(oneMiB + 4*oneKiB), "1052672 B"},
		{"max size", sizeText(^uintptr(0)), fmt.Sprintf("%d B", ^uintptr(0))},
		{"small size", sizeText(3), "3 B"},
		{"range", Range{0x1000, 0x2000}.String(), "0x1000-0x3000"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestRangeContains(t *testing.T) {
	r := Range{0x1000, 0x1000}
	tests := []struct {
		addr uintptr
		want bool
	}{{0xfff, false}, {0x1000, true}, {0x1fff, true}, {0x2000, false}, {0, false}, {^uintptr(0), false}}
	for _, tt := range tests {
		if got := r.Contains(tt.addr); got != tt.want {
			t.Errorf("%v.Contains(%#x) = %v, want %v", r, tt.addr, got, tt.want)
		}
	}
}

func TestCaps(t *testing.T) {
	c := OS().Caps()
	if c.PageSize == 0 || c.PageSize&(c.PageSize-1) != 0 {
		t.Errorf("PageSize %#x is not a power of two", c.PageSize)
	}
	if c.Granularity < c.PageSize || c.Granularity%c.PageSize != 0 {
		t.Errorf("Granularity %#x is not a multiple of PageSize %#x", c.Granularity, c.PageSize)
	}
	if c.MaxAlign < 2*oneMiB {
		t.Errorf("MaxAlign %#x < 2 MiB", c.MaxAlign)
	}
	if c.HugePageSize != 0 && (c.HugePageSize&(c.HugePageSize-1) != 0 || c.HugePageSize <= c.PageSize) {
		t.Errorf("HugePageSize %#x is not a power of two above the page size", c.HugePageSize)
	}
	if !c.ExactPlacement {
		t.Errorf("the host cannot place at an address; Extend would never work")
	}
	if OS().Name() == "" {
		t.Errorf("empty name")
	}
}

// TestLifecycle walks one reservation through every state.
func TestLifecycle(t *testing.T) {
	c := OS().Caps()
	size := 16 * c.Granularity
	r := reserveT(t, size, Options{Owner: "lifecycle"})
	if r.Size() != size || r.Base()%c.Granularity != 0 || r.Committed() != 0 {
		t.Fatalf("fresh reservation: %v committed %#x", r.Range(), r.Committed())
	}
	if r.Owner() != "lifecycle" || r.Space() != OS().Name() || r.HugePages() || r.Unit() != c.PageSize {
		t.Fatalf("accessors: owner %q space %q huge %v unit %#x", r.Owner(), r.Space(), r.HugePages(), r.Unit())
	}
	if !faults(r.Base()) {
		t.Fatalf("a reserved page did not fault")
	}
	half := size / 2
	if err := r.Commit(r.Base(), half); err != nil {
		t.Fatal(err)
	}
	validT(t, r)
	if r.Committed() != half || r.CommittedRange() != (Range{r.Base(), half}) {
		t.Fatalf("after commit: %v", r.CommittedRange())
	}
	b := mem(r)[:half]
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	for i := range b {
		if b[i] != byte(i*7+1) {
			t.Fatalf("byte %d reads %d", i, b[i])
		}
	}
	// Decommit a page in the middle: contents gone, interval unchanged.
	mid := r.Base() + 2*c.Granularity
	if err := r.Decommit(mid, c.PageSize); err != nil {
		t.Fatal(err)
	}
	validT(t, r)
	if r.CommittedRange() != (Range{r.Base(), half}) || r.Committed() != half-c.PageSize {
		t.Fatalf("a hole must not move the watermark: %v, committed %#x", r.CommittedRange(), r.Committed())
	}
	if c.RecommitAfterDecommit {
		if err := r.Commit(mid, c.PageSize); err != nil {
			t.Fatal(err)
		}
		if r.Committed() != half {
			t.Fatalf("recommitting the hole: committed %#x", r.Committed())
		}
	}
	off := mid - r.Base()
	for i, v := range b[off : off+c.PageSize] {
		if v != 0 {
			t.Fatalf("decommitted byte %d reads %d, want 0", i, v)
		}
	}
	if b[off-1] != byte((off-1)*7+1) || b[off+c.PageSize] != byte((off+c.PageSize)*7+1) {
		t.Fatalf("decommit touched its neighbours")
	}
	// Decommit the top half of the committed part: the watermark falls.
	if err := r.Decommit(r.Base()+half/2, half/2); err != nil {
		t.Fatal(err)
	}
	validT(t, r)
	if r.CommittedRange() != (Range{r.Base(), half / 2}) {
		t.Fatalf("watermark after decommitting the top: %v", r.CommittedRange())
	}
	if !faults(r.Base()+half/2) || faults(r.Base()+half/2-1) {
		t.Fatalf("the watermark is not where the protection changes")
	}
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	if !r.Released() || r.Committed() != 0 {
		t.Fatalf("after release: released %v committed %#x", r.Released(), r.Committed())
	}
	if !isFree(t, Range{r.Base(), size}) {
		t.Fatalf("released range is still mapped")
	}
	for _, in := range Live() {
		if in.ID == r.id {
			t.Fatalf("released reservation still listed: %+v", in)
		}
	}
}

// TestWatermark checks the committed interval after each step of a script.
// Offsets are in granules from the base.
func TestWatermark(t *testing.T) {
	c := OS().Caps()
	g := c.Granularity
	type step struct {
		op         string // "commit" or "decommit"
		off, n     uintptr
		wantLo     uintptr
		wantHi     uintptr // wantLo == wantHi: nothing committed
		wantCommit uintptr
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"upward from the base", []step{
			{"commit", 0, 1, 0, 1, 1}, {"commit", 1, 2, 0, 3, 3}, {"commit", 5, 1, 0, 6, 6},
		}},
		{"first commit in the middle", []step{
			{"commit", 4, 2, 4, 6, 2}, {"commit", 1, 1, 1, 6, 5}, {"commit", 7, 1, 1, 8, 7},
		}},
		{"holes keep the interval", []step{
			{"commit", 0, 8, 0, 8, 8}, {"decommit", 2, 1, 0, 8, 7}, {"decommit", 4, 2, 0, 8, 5},
			{"commit", 1, 4, 0, 8, 7}, // refills the first hole and half the second
		}},
		{"holes join the top", []step{
			{"commit", 0, 8, 0, 8, 8}, {"decommit", 2, 2, 0, 8, 6}, {"decommit", 5, 1, 0, 8, 5},
			{"decommit", 4, 1, 0, 8, 4}, {"decommit", 6, 2, 0, 2, 2},
		}},
		{"holes join the bottom", []step{
			{"commit", 0, 8, 0, 8, 8}, {"decommit", 1, 2, 0, 8, 6}, {"decommit", 0, 1, 3, 8, 5},
		}},
		{"middle first, then both ends, empties it", []step{
			{"commit", 0, 6, 0, 6, 6}, {"decommit", 2, 2, 0, 6, 4}, {"decommit", 0, 2, 4, 6, 2},
			{"decommit", 4, 2, 0, 0, 0},
		}},
		{"ends shrink it", []step{
			{"commit", 0, 8, 0, 8, 8}, {"decommit", 6, 2, 0, 6, 6}, {"decommit", 0, 2, 2, 6, 4},
			{"decommit", 2, 4, 2, 2, 0}, {"commit", 3, 1, 3, 4, 1},
		}},
		{"decommit outside is a no-op", []step{
			{"commit", 0, 2, 0, 2, 2}, {"decommit", 4, 4, 0, 2, 2},
		}},
		{"decommit over the whole interval and beyond", []step{
			{"commit", 2, 2, 2, 4, 2}, {"decommit", 0, 16, 0, 0, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reserveT(t, 16*g, Options{})
			for i, s := range tt.steps {
				var err error
				if s.op == "commit" {
					err = r.Commit(r.Base()+s.off*g, s.n*g)
				} else {
					err = r.Decommit(r.Base()+s.off*g, s.n*g)
				}
				if err != nil {
					t.Fatalf("step %d %s: %v", i, s.op, err)
				}
				validT(t, r)
				got := r.CommittedRange()
				if s.wantLo == s.wantHi {
					if got.Size != 0 {
						t.Fatalf("step %d: committed %v, want nothing", i, got)
					}
					continue
				}
				want := Range{r.Base() + s.wantLo*g, (s.wantHi - s.wantLo) * g}
				if got != want || r.Committed() != s.wantCommit*g {
					t.Fatalf("step %d: committed %v (%#x), want %v", i, got, r.Committed(), want)
				}
				// Every page in the interval is usable.
				if !c.RecommitAfterDecommit {
					for a := got.Base; a < got.End(); a += c.PageSize {
						mem(r)[a-r.Base()] = 1
					}
				}
			}
		})
	}
}

// TestPartialPages: Commit covers partial pages, Decommit skips them.
func TestPartialPages(t *testing.T) {
	c := OS().Caps()
	ps := c.PageSize
	r := reserveT(t, 8*c.Granularity, Options{})
	if err := r.Commit(r.Base()+ps+1, ps); err != nil { // touches pages 1 and 2
		t.Fatal(err)
	}
	if want := (Range{r.Base() + ps, 2 * ps}); r.CommittedRange() != want {
		t.Fatalf("committed %v, want %v", r.CommittedRange(), want)
	}
	mem(r)[ps] = 1
	mem(r)[3*ps-1] = 2
	if err := r.Decommit(r.Base()+ps+1, 2*ps-1); err != nil { // page 2 only
		t.Fatal(err)
	}
	if want := (Range{r.Base() + ps, ps}); r.CommittedRange() != want {
		t.Fatalf("committed %v, want %v", r.CommittedRange(), want)
	}
	if mem(r)[ps] != 1 {
		t.Fatalf("the partial page lost its contents")
	}
	validT(t, r)
}

func TestReserveAlign(t *testing.T) {
	c := OS().Caps()
	tests := []struct {
		name  string
		align uintptr
	}{
		{"default", 0}, {"page", c.PageSize}, {"granule", c.Granularity}, {"64 KiB", 64 * oneKiB},
		{"1 MiB", oneMiB}, {"2 MiB", 2 * oneMiB}, {"32 MiB", 32 * oneMiB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reserveT(t, 3*c.Granularity, Options{Align: tt.align})
			want := max(tt.align, c.Granularity)
			if r.Base()%want != 0 {
				t.Fatalf("base %#x not aligned to %#x", r.Base(), want)
			}
			if err := r.Commit(r.Base(), r.Size()); err != nil {
				t.Fatal(err)
			}
			mem(r)[r.Size()-1] = 1
		})
	}
}

func TestHugePages(t *testing.T) {
	c := OS().Caps()
	if c.HugePageSize == 0 {
		r := reserveT(t, c.Granularity, Options{HugePages: true})
		if r.HugePages() || r.Unit() != c.PageSize {
			t.Fatalf("HugePages granted on a host without them")
		}
		t.Skip("the host has no huge pages (Caps.HugePageSize is 0)")
	}
	h := c.HugePageSize
	r := reserveT(t, h+1, Options{HugePages: true, Owner: "huge"})
	validT(t, r)
	if !r.HugePages() || r.Unit() != h || r.Size() != 2*h || r.Base()%h != 0 {
		t.Fatalf("huge reservation %v unit %#x huge %v", r.Range(), r.Unit(), r.HugePages())
	}
	if err := r.Commit(r.Base()+10, 1); err != nil {
		t.Fatal(err)
	}
	if r.Committed() != h {
		t.Fatalf("one byte should commit one huge page, committed %#x", r.Committed())
	}
	// Less than a huge page is not decommitted; a whole one is.
	if err := r.Decommit(r.Base(), h-c.PageSize); err != nil || r.Committed() != h {
		t.Fatalf("partial huge decommit: %v, committed %#x", err, r.Committed())
	}
	if err := r.Decommit(r.Base(), h); err != nil || r.Committed() != 0 {
		t.Fatalf("whole huge decommit: %v, committed %#x", err, r.Committed())
	}
	if err := r.Extend(Above, 1); err != nil && !errors.Is(err, ErrAddressTaken) {
		t.Fatal(err)
	} else if err == nil && r.Size() != 3*h {
		t.Fatalf("huge Extend should add a whole huge page: %v", r.Range())
	}
	validT(t, r)
}

// oneVmemPrefix checks that the message reads well: one "vmem: " at the
// start, and the space's name.
func oneVmemPrefix(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "vmem: ") || strings.Count(msg, "vmem:") != 1 {
		t.Errorf("message %q should start with a single \"vmem: \"", msg)
	}
}

func TestReserveBadInput(t *testing.T) {
	c := OS().Caps()
	tests := []struct {
		name    string
		size    uintptr
		o       Options
		wantErr error
	}{
		{"zero", 0, Options{}, ErrInvalidSize},
		{"max uintptr", ^uintptr(0), Options{}, ErrInvalidSize},
		{"overflows when rounded", ^uintptr(0) - c.Granularity + 2, Options{}, ErrInvalidSize},
		{"over MaxInt", math.MaxInt + 1, Options{}, ErrNoMemory},
		{"huge rounding overflows", ^uintptr(0) - 10, Options{HugePages: true}, ErrInvalidSize},
		{"align 3", c.Granularity, Options{Align: 3}, ErrInvalidAlign},
		{"align not a power of two", c.Granularity, Options{Align: 3 * c.Granularity}, ErrInvalidAlign},
		{"align too large", c.Granularity, Options{Align: c.MaxAlign << 1}, ErrInvalidAlign},
		{"align top bit", c.Granularity, Options{Align: 1 << (unsafe.Sizeof(uintptr(0))*8 - 1)}, ErrInvalidAlign},
		{"align all bits", c.Granularity, Options{Align: ^uintptr(0)}, ErrInvalidAlign},
	}
	if unsafe.Sizeof(uintptr(0)) == 8 {
		// On 32-bit hosts 2 GiB may well be free.
		tests = append(tests, struct {
			name    string
			size    uintptr
			o       Options
			wantErr error
		}{"more than the address space", math.MaxInt &^ (c.Granularity - 1), Options{}, ErrNoMemory})
	}
	before := len(Live())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OS().Reserve(tt.size, tt.o)
			if err == nil {
				releaseT(t, r)
				t.Fatalf("Reserve(%#x, %+v) succeeded: %v", tt.size, tt.o, r.Range())
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if r != nil {
				t.Fatalf("a failed Reserve returned a reservation")
			}
			oneVmemPrefix(t, err)
		})
	}
	if after := len(Live()); after != before {
		t.Errorf("failed Reserves changed the registry: %d → %d", before, after)
	}
}

func TestOpsBadInput(t *testing.T) {
	c := OS().Caps()
	g := c.Granularity
	r := reserveT(t, 4*g, Options{})
	base, end := r.Base(), r.Base()+r.Size()
	if err := r.Commit(base, g); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"commit zero", func() error { return r.Commit(base, 0) }, ErrInvalidSize},
		{"commit below", func() error { return r.Commit(base-c.PageSize, c.PageSize) }, ErrOutOfRange},
		{"commit straddling the base", func() error { return r.Commit(base-1, 2) }, ErrOutOfRange},
		{"commit past the end", func() error { return r.Commit(end, 1) }, ErrOutOfRange},
		{"commit straddling the end", func() error { return r.Commit(end-1, 2) }, ErrOutOfRange},
		{"commit wraps", func() error { return r.Commit(base, ^uintptr(0)) }, ErrInvalidSize},
		{"commit at zero", func() error { return r.Commit(0, c.PageSize) }, ErrOutOfRange},
		{"commit foreign address", func() error { return r.Commit(uintptr(unsafe.Pointer(&c)), 1) }, ErrOutOfRange},
		{"decommit zero", func() error { return r.Decommit(base, 0) }, ErrInvalidSize},
		{"decommit past the end", func() error { return r.Decommit(end, g) }, ErrOutOfRange},
		{"decommit wraps", func() error { return r.Decommit(end-1, ^uintptr(0)) }, ErrInvalidSize},
		{"decommit max address", func() error { return r.Decommit(^uintptr(0), 1) }, ErrInvalidSize},
		{"decommit last address", func() error { return r.Decommit(^uintptr(0)-1, 1) }, ErrOutOfRange},
		{"extend by zero", func() error { return r.Extend(Above, 0) }, ErrInvalidSize},
		{"extend overflowing", func() error { return r.Extend(Above, ^uintptr(0)) }, ErrInvalidSize},
		{"extend over MaxInt", func() error { return r.Extend(Below, math.MaxInt+1) }, ErrNoMemory},
		{"extend below zero", func() error { return r.Extend(Below, base) }, ErrAddressTaken},
		{"extend bad direction", func() error { return r.Extend(Direction(7), g) }, ErrInvalidDirection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := r.Range()
			err := tt.op()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			oneVmemPrefix(t, err)
			if r.Range() != before || r.Committed() != g {
				t.Fatalf("a failed call changed the reservation: %v committed %#x", r.Range(), r.Committed())
			}
			validT(t, r)
		})
	}
}

func TestUseAfterRelease(t *testing.T) {
	g := OS().Caps().Granularity
	r := reserveT(t, 2*g, Options{})
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	base := r.Base()
	tests := []struct {
		name string
		op   func() error
	}{
		{"release twice", r.Release},
		{"commit", func() error { return r.Commit(base, g) }},
		{"decommit", func() error { return r.Decommit(base, g) }},
		{"extend below", func() error { return r.Extend(Below, g) }},
		{"extend above", func() error { return r.Extend(Above, g) }},
		{"commit zero", func() error { return r.Commit(base, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, ErrReleased) {
				t.Fatalf("got %v, want ErrReleased", err)
			}
			oneVmemPrefix(t, err)
		})
	}
}

func TestExtend(t *testing.T) {
	c := OS().Caps()
	g := c.Granularity
	var r *Reservation
	var hole, old Range
	// The hole is the process's to take: another thread's allocation can
	// land in it before Extend (seen under Wine on a loaded machine), so a
	// failed Extend into a hole no longer free is tried again elsewhere.
	for try := 0; ; try++ {
		r, hole = inHole(t, 4*g, 2*g, 4*g, Options{Owner: "extend"})
		if err := r.Commit(r.Base(), 2*g); err != nil {
			t.Fatal(err)
		}
		old = r.Range()
		copy(mem(r), "kept across extensions")
		err := r.Extend(Below, 3*g)
		if err == nil {
			break
		}
		if try == 4 || isFree(t, Range{old.Base - 3*g, 3 * g}) {
			t.Fatal(err)
		}
		releaseT(t, r)
	}
	validT(t, r)
	if r.Base() != old.Base-3*g || r.Size() != 5*g || len(r.Pieces()) != 2 {
		t.Fatalf("after Extend below: %v pieces %v", r.Range(), r.Pieces())
	}
	if r.CommittedRange() != old {
		t.Fatalf("Extend moved the committed interval: %v", r.CommittedRange())
	}
	if err := r.Extend(Above, 4*g-1); err != nil { // rounds to 4 granules
		t.Fatal(err)
	}
	validT(t, r)
	if r.Range().End() != hole.End() || len(r.Pieces()) != 3 {
		t.Fatalf("after Extend above: %v pieces %v (hole %v)", r.Range(), r.Pieces(), hole)
	}
	got := string(mem(r)[old.Base-r.Base():][:22])
	if got != "kept across extensions" {
		t.Fatalf("contents moved: %q", got)
	}
	// Commit across every piece and use it.
	if err := r.Commit(r.Base(), r.Size()); err != nil {
		t.Fatal(err)
	}
	b := mem(r)
	b[0], b[len(b)-1] = 1, 2
	found := false
	for _, in := range Live() {
		if in.ID == r.id {
			found = true
			if in.Range() != r.Range() || len(in.Pieces) != 3 || in.Committed != r.Size() {
				t.Fatalf("registry says %+v, reservation %v", in, r.Range())
			}
		}
	}
	if !found {
		t.Fatalf("extended reservation not listed")
	}
	// Release gives back every piece.
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	if !isFree(t, Range{hole.Base + g, hole.Size - g}) {
		t.Fatalf("released pieces are still mapped")
	}
}

func TestExtendTaken(t *testing.T) {
	c := OS().Caps()
	g := c.Granularity
	tests := []struct {
		name    string
		dir     Direction
		blocker func(hole Range) Range // what another user holds
		n       uintptr
	}{
		{"below, right next to it", Below, func(h Range) Range { return Range{h.Base + 2*g, 2 * g} }, 2 * g},
		{"below, further down", Below, func(h Range) Range { return Range{h.Base, g} }, 4 * g},
		{"above, right next to it", Above, func(h Range) Range { return Range{h.Base + 6*g, g} }, g},
		{"above, further up", Above, func(h Range) Range { return Range{h.Base + 9*g, g} }, 4 * g},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, hole := inHole(t, 4*g, 2*g, 4*g, Options{Owner: "taken"})
			blk := tt.blocker(hole)
			if err := host.p.reserveAt(addrPtr(blk.Base), blk.Size, false); err != nil {
				t.Skipf("could not place the blocker: %v", err)
			}
			defer host.p.release(addrPtr(blk.Base), []Range{blk})
			if err := r.Commit(r.Base(), g); err != nil {
				t.Fatal(err)
			}
			before, pieces, live := r.Range(), r.Pieces(), liveEntry(r)
			err := r.Extend(tt.dir, tt.n)
			if !errors.Is(err, ErrAddressTaken) {
				t.Fatalf("got %v, want ErrAddressTaken", err)
			}
			oneVmemPrefix(t, err)
			if r.Range() != before || len(r.Pieces()) != len(pieces) || r.Committed() != g {
				t.Fatalf("failed Extend changed the reservation: %v %v", r.Range(), r.Pieces())
			}
			if got := liveEntry(r); got.Range() != live.Range() || len(got.Pieces) != len(live.Pieces) {
				t.Fatalf("failed Extend changed the registry: %+v → %+v", live, got)
			}
			if isFree(t, blk) {
				t.Fatalf("the blocker was unmapped")
			}
			// The part of the hole that was free is still free: nothing leaked.
			var free Range
			if tt.dir == Below {
				free = Range{blk.End(), before.Base - blk.End()}
			} else {
				free = Range{before.End(), blk.Base - before.End()}
			}
			if free.Size > 0 && !isFree(t, free) {
				t.Fatalf("failed Extend left something mapped in %v", free)
			}
			validT(t, r)
		})
	}
}

func liveEntry(r *Reservation) Info {
	for _, in := range Live() {
		if in.ID == r.id {
			return in
		}
	}
	return Info{}
}
