//go:build windows

package vmem

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zebra-heap/zebra/internal/winapi"
)

// These tests check the Windows primitives against what VirtualQuery says
// about the address space. They run on Windows and, in CI, under Wine
// (.ci/wine-setup).

const (
	winKiB = uintptr(1) << 10
	winMiB = uintptr(1) << 20
)

// winRegion is what VirtualQuery reports for the region containing an address.
type winRegion struct {
	state     uint32 // MEM_FREE, MEM_RESERVE or MEM_COMMIT
	allocBase uintptr
	base      uintptr
	size      uintptr
}

func winQuery(t *testing.T, addr uintptr) winRegion {
	t.Helper()
	var mbi windows.MemoryBasicInformation
	if err := windows.VirtualQuery(addr, &mbi, unsafe.Sizeof(mbi)); err != nil {
		t.Fatalf("VirtualQuery(%#x): %v", addr, err)
	}
	return winRegion{mbi.State, mbi.AllocationBase, mbi.BaseAddress, mbi.RegionSize}
}

func winStateName(s uint32) string {
	switch s {
	case winapi.MemFree:
		return "MEM_FREE"
	case windows.MEM_RESERVE:
		return "MEM_RESERVE"
	case windows.MEM_COMMIT:
		return "MEM_COMMIT"
	}
	return fmt.Sprintf("state %#x", s)
}

// winSpan is a range of a reservation, as offsets from its base, and the state
// VirtualQuery must report for every page of it.
type winSpan struct {
	off, size uintptr
	state     uint32
}

// winStates checks that VirtualQuery reports each span's state for the
// whole span, walking region by region.
func winStates(t *testing.T, base uintptr, spans []winSpan) {
	t.Helper()
	for _, s := range spans {
		for a := base + s.off; a < base+s.off+s.size; {
			r := winQuery(t, a)
			if r.state != s.state {
				t.Errorf("at %#x (offset %#x): %s, want %s", a, a-base, winStateName(r.state), winStateName(s.state))
				break
			}
			a = r.base + r.size
		}
	}
}

func TestWindowsCaps(t *testing.T) {
	c := OS().Caps()
	want := Caps{
		PageSize:              4 * winKiB,
		Granularity:           64 * winKiB,
		HugePageSize:          0,
		MaxAlign:              1 << 30,
		PartialRelease:        false,
		RecommitAfterDecommit: true,
		ExactPlacement:        true,
		TopDown:               false,
		MaxAddress:            sysInfo.MaximumApplicationAddress + 1,
	}
	if c != want {
		t.Errorf("Caps() = %+v\nwant %+v", c, want)
	}
	if got := OS().Name(); got != "windows" {
		t.Errorf("Name() = %q, want windows", got)
	}
}

// TestWindowsLifecycle walks one reservation through every state and checks
// after each step what VirtualQuery reports and what the memory holds.
func TestWindowsLifecycle(t *testing.T) {
	r, err := OS().Reserve(1*winMiB, Options{Owner: "lifecycle"})
	if err != nil {
		t.Fatal(err)
	}
	base := r.Base()
	if base%(64*winKiB) != 0 {
		t.Errorf("base %#x is not aligned to 64 KiB", base)
	}
	if got := winQuery(t, base); got.allocBase != base {
		t.Errorf("allocation base %#x, want %#x", got.allocBase, base)
	}
	mem := unsafe.Slice((*byte)(r.Pointer()), r.Size())

	steps := []struct {
		name  string
		do    func() error
		want  []winSpan
		check func(t *testing.T)
	}{
		{
			name: "reserved",
			do:   func() error { return nil },
			want: []winSpan{{0, 1 * winMiB, windows.MEM_RESERVE}},
		},
		{
			name: "commit two pages at 64 KiB",
			do:   func() error { return r.Commit(base+64*winKiB, 8*winKiB) },
			want: []winSpan{
				{0, 64 * winKiB, windows.MEM_RESERVE},
				{64 * winKiB, 8 * winKiB, windows.MEM_COMMIT},
				{72 * winKiB, 1*winMiB - 72*winKiB, windows.MEM_RESERVE},
			},
			check: func(t *testing.T) {
				for i := 64 * winKiB; i < 72*winKiB; i++ {
					mem[i] = byte(i)
				}
				if mem[64*winKiB+5] != 5 {
					t.Error("write did not stick")
				}
			},
		},
		{
			name: "commit below widens the interval",
			do:   func() error { return r.Commit(base, 4*winKiB) },
			want: []winSpan{
				{0, 72 * winKiB, windows.MEM_COMMIT},
				{72 * winKiB, 1*winMiB - 72*winKiB, windows.MEM_RESERVE},
			},
			check: func(t *testing.T) {
				if got := r.CommittedRange(); got != (Range{base, 72 * winKiB}) {
					t.Errorf("CommittedRange = %v, want %v", got, Range{base, 72 * winKiB})
				}
			},
		},
		{
			name: "decommit inside the interval",
			do:   func() error { return r.Decommit(base+64*winKiB, 4*winKiB) },
			want: []winSpan{
				{0, 64 * winKiB, windows.MEM_COMMIT},
				{64 * winKiB, 4 * winKiB, windows.MEM_RESERVE},
				{68 * winKiB, 4 * winKiB, windows.MEM_COMMIT},
				{72 * winKiB, 1*winMiB - 72*winKiB, windows.MEM_RESERVE},
			},
			check: func(t *testing.T) {
				if i := 68*winKiB + 1; mem[i] != byte(i) {
					t.Error("decommit of the page below lost this page's contents")
				}
			},
		},
		{
			name: "recommit reads zero",
			do:   func() error { return r.Commit(base+64*winKiB, 4*winKiB) },
			want: []winSpan{
				{0, 72 * winKiB, windows.MEM_COMMIT},
				{72 * winKiB, 1*winMiB - 72*winKiB, windows.MEM_RESERVE},
			},
			check: func(t *testing.T) {
				for i := 64 * winKiB; i < 68*winKiB; i++ {
					if mem[i] != 0 {
						t.Fatalf("byte at offset %#x = %d after decommit and recommit, want 0", i, mem[i])
					}
				}
			},
		},
		{
			name: "decommit everything",
			do:   func() error { return r.Decommit(base, r.Size()) },
			want: []winSpan{{0, 1 * winMiB, windows.MEM_RESERVE}},
			check: func(t *testing.T) {
				if r.Committed() != 0 {
					t.Errorf("Committed = %d, want 0", r.Committed())
				}
			},
		},
		{
			name: "release",
			do:   r.Release,
			want: []winSpan{{0, 1 * winMiB, winapi.MemFree}},
		},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		t.Run(s.name, func(t *testing.T) {
			winStates(t, base, s.want)
			if s.check != nil {
				s.check(t)
			}
		})
	}
}

// winAdjacentPair reserves 1 MiB ranges until two of them touch, releases the
// others, and returns the pair in address order. Windows places reservations
// bottom-up at the first fit, so once the holes low in the address space are
// filled, consecutive reservations are neighbours.
func winAdjacentPair(t *testing.T) (lo, hi *Reservation) {
	t.Helper()
	var all []*Reservation
	defer func() {
		for _, r := range all {
			if r != lo && r != hi {
				if err := r.Release(); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	for range 256 {
		r, err := OS().Reserve(1*winMiB, Options{Owner: "pair"})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range all {
			switch {
			case o.Range().End() == r.Base():
				lo, hi = o, r
			case r.Range().End() == o.Base():
				lo, hi = r, o
			}
		}
		all = append(all, r)
		if lo != nil {
			return lo, hi
		}
	}
	t.Fatal("256 reservations of 1 MiB and no two adjacent")
	return nil, nil
}

// TestWindowsExtend makes room next to a reservation deliberately (two
// neighbours, one released), extends into it, and checks that the result
// is one reservation of two allocations that commits across the boundary
// and releases both.
func TestWindowsExtend(t *testing.T) {
	tests := []struct {
		name string
		dir  Direction
	}{
		{"above", Above},
		{"below", Below},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := winAdjacentPair(t)
			keep, gone := lo, hi
			if tt.dir == Below {
				keep, gone = hi, lo
			}
			// The neighbour is in place: extending into it must fail and
			// change nothing.
			if err := keep.Extend(tt.dir, 1*winMiB); !errors.Is(err, ErrAddressTaken) {
				t.Fatalf("Extend into a live neighbour: %v, want ErrAddressTaken", err)
			}
			if keep.Size() != 1*winMiB || len(keep.Pieces()) != 1 {
				t.Fatalf("failed Extend changed the reservation: size %#x, pieces %v", keep.Size(), keep.Pieces())
			}
			freed := gone.Range()
			if err := gone.Release(); err != nil {
				t.Fatal(err)
			}
			if err := keep.Extend(tt.dir, 1*winMiB); err != nil {
				t.Fatalf("Extend into the released neighbour: %v", err)
			}
			want := Range{lo.Base(), 2 * winMiB}
			if tt.dir == Below {
				want.Base = freed.Base
			}
			if keep.Range() != want {
				t.Fatalf("Range = %v, want %v", keep.Range(), want)
			}
			pieces := keep.Pieces()
			if len(pieces) != 2 || pieces[0].End() != pieces[1].Base {
				t.Fatalf("Pieces = %v, want two adjacent ranges", pieces)
			}
			for _, pc := range pieces {
				if got := winQuery(t, pc.Base+pc.Size/2).allocBase; got != pc.Base {
					t.Errorf("allocation base in piece %v = %#x, want %#x", pc, got, pc.Base)
				}
			}
			// Commit and write across the boundary between the pieces.
			mid := pieces[1].Base
			if err := keep.Commit(mid-8*winKiB, 16*winKiB); err != nil {
				t.Fatalf("Commit across pieces: %v", err)
			}
			winStates(t, mid-8*winKiB, []winSpan{{0, 16 * winKiB, windows.MEM_COMMIT}})
			p := unsafe.Add(keep.Pointer(), mid-8*winKiB-keep.Base())
			b := unsafe.Slice((*byte)(p), 16*winKiB)
			for i := range b {
				b[i] = 0xa5
			}
			if err := keep.Decommit(mid-8*winKiB, 16*winKiB); err != nil {
				t.Fatalf("Decommit across pieces: %v", err)
			}
			winStates(t, mid-8*winKiB, []winSpan{{0, 16 * winKiB, windows.MEM_RESERVE}})
			if err := keep.Release(); err != nil {
				t.Fatal(err)
			}
			winStates(t, want.Base, []winSpan{{0, want.Size, winapi.MemFree}})
			if err := keep.Release(); !errors.Is(err, ErrReleased) {
				t.Errorf("second Release: %v, want ErrReleased", err)
			}
		})
	}
}

func TestWindowsAlignedReserve(t *testing.T) {
	tests := []struct {
		name  string
		size  uintptr
		align uintptr
	}{
		{"granularity", 64 * winKiB, 64 * winKiB},
		{"1 MiB", 192 * winKiB, 1 * winMiB},
		{"16 MiB", 1 * winMiB, 16 * winMiB},
		{"1 GiB", 64 * winKiB, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OS().Reserve(tt.size, Options{Align: tt.align})
			if err != nil {
				t.Fatal(err)
			}
			if r.Base()%tt.align != 0 {
				t.Errorf("base %#x not aligned to %#x", r.Base(), tt.align)
			}
			// The probe used to find an aligned range must be gone: the
			// reservation is one allocation of exactly its size.
			got := winQuery(t, r.Base())
			if got.allocBase != r.Base() || got.size != tt.size || got.state != windows.MEM_RESERVE {
				t.Errorf("VirtualQuery = %+v, want one MEM_RESERVE winRegion of %#x at %#x", got, tt.size, r.Base())
			}
			if after := winQuery(t, r.Base()+tt.size); after.allocBase == r.Base() {
				t.Errorf("winRegion after the reservation belongs to it: %+v", after)
			}
			if err := r.Release(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWindowsBadInput(t *testing.T) {
	gran := 64 * winKiB
	tests := []struct {
		name    string
		size    uintptr
		o       Options
		wantErr error
	}{
		{"zero size", 0, Options{}, ErrInvalidSize},
		{"size overflows when rounded", ^uintptr(0) - 10, Options{}, ErrInvalidSize},
		{"larger than the address space", (^uintptr(0) / 2) &^ (gran - 1), Options{}, ErrNoMemory},
		{"alignment not a power of two", gran, Options{Align: 3 * gran}, ErrInvalidAlign},
		{"alignment above MaxAlign", gran, Options{Align: 1 << 31}, ErrInvalidAlign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OS().Reserve(tt.size, tt.o)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Reserve(%#x, %+v) = %v, want %v", tt.size, tt.o, err, tt.wantErr)
			}
			if r != nil {
				t.Errorf("Reserve returned a reservation with an error")
				r.Release()
			}
		})
	}
}

func TestWindowsReserveAtBadInput(t *testing.T) {
	r, err := OS().Reserve(128*winKiB, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	at := func(a uintptr) unsafe.Pointer { return pointerAt(a) }
	tests := []struct {
		name    string
		p       unsafe.Pointer
		size    uintptr
		wantErr error
	}{
		{"taken", r.Pointer(), 64 * winKiB, ErrAddressTaken},
		{"overlaps the end", unsafe.Add(r.Pointer(), 64*winKiB), 128 * winKiB, ErrAddressTaken},
		{"unaligned address", unsafe.Add(r.Pointer(), 4*winKiB), 64 * winKiB, ErrInvalidAlign},
		{"unaligned size", unsafe.Add(r.Pointer(), 128*winKiB), 4 * winKiB, ErrInvalidAlign},
		{"page zero", nil, 64 * winKiB, ErrAddressTaken},
		{"past the top", at(sysInfo.MaximumApplicationAddress + 1 - 64*winKiB), 128 * winKiB, ErrAddressTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hostPrims{}.reserveAt(tt.p, tt.size, false)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("reserveAt(%p, %#x) = %v, want %v", tt.p, tt.size, err, tt.wantErr)
			}
			if err == nil {
				windows.VirtualFree(uintptr(tt.p), 0, windows.MEM_RELEASE)
			}
		})
	}
	// The failed attempts left the reservation as it was.
	if got := winQuery(t, r.Base()); got.allocBase != r.Base() || got.size != 128*winKiB {
		t.Errorf("reservation changed: %+v", got)
	}
}

// TestWindowsUseAfterRelease checks that a reservation refuses every
// operation once released, and that release refuses pieces that are no
// longer live allocations instead of freeing whatever lies there now.
func TestWindowsUseAfterRelease(t *testing.T) {
	r, err := OS().Reserve(256*winKiB, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pieces := r.Pieces()
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		do   func() error
	}{
		{"Release", r.Release},
		{"Commit", func() error { return r.Commit(pieces[0].Base, 4*winKiB) }},
		{"Decommit", func() error { return r.Decommit(pieces[0].Base, 4*winKiB) }},
		{"Extend", func() error { return r.Extend(Above, 64*winKiB) }},
	}
	for _, op := range ops {
		if err := op.do(); !errors.Is(err, ErrReleased) {
			t.Errorf("%s after Release: %v, want ErrReleased", op.name, err)
		}
	}
	if err := (hostPrims{}).release(pointerAt(pieces[0].Base), pieces); !errors.Is(err, ErrReleased) {
		t.Errorf("release of a freed piece: %v, want ErrReleased", err)
	}

	// A piece whose base is inside someone else's allocation.
	other, err := OS().Reserve(256*winKiB, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	inner := []Range{{other.Base() + 64*winKiB, 64 * winKiB}}
	if err := (hostPrims{}).release(pointerAt(inner[0].Base), inner); !errors.Is(err, ErrReleased) {
		t.Errorf("release inside another allocation: %v, want ErrReleased", err)
	}
	if got := winQuery(t, other.Base()); got.state != windows.MEM_RESERVE {
		t.Errorf("the other allocation is %s, want MEM_RESERVE", winStateName(got.state))
	}
}

// TestWindowsHugePagesIgnored: large pages are not supported, so asking for
// them gives an ordinary reservation committed in small pages.
func TestWindowsHugePagesIgnored(t *testing.T) {
	r, err := OS().Reserve(1*winMiB, Options{HugePages: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if r.HugePages() || r.Unit() != 4*winKiB {
		t.Errorf("HugePages() = %v, Unit() = %#x; want false, 4 KiB", r.HugePages(), r.Unit())
	}
}

// TestWindowsCommitLimit asks for far more commit than any test machine
// has, to see the refusal reported as ErrNoMemory.
func TestWindowsCommitLimit(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) < 8 {
		t.Skip("a 32-bit address space cannot hold a reservation beyond the commit limit")
	}
	size := uint64(256) << 30 // a variable: the constant would not compile for 386
	r, err := OS().Reserve(uintptr(size), Options{})
	if err != nil {
		t.Skipf("cannot reserve 256 GiB: %v", err)
	}
	defer r.Release()
	err = r.Commit(r.Base(), r.Size())
	if err == nil {
		t.Skip("256 GiB committed: the commit limit (or Linux overcommit under Wine) allows it")
	}
	if !errors.Is(err, ErrNoMemory) {
		t.Errorf("Commit(256 GiB) = %v, want ErrNoMemory", err)
	}
	t.Logf("refused: %v", err)
}

func TestWindowsErrorMapping(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr error
	}{
		{"not enough memory", windows.ERROR_NOT_ENOUGH_MEMORY, ErrNoMemory},
		{"out of memory", windows.ERROR_OUTOFMEMORY, ErrNoMemory},
		{"commitment limit", windows.ERROR_COMMITMENT_LIMIT, ErrNoMemory},
		{"pagefile quota", windows.ERROR_PAGEFILE_QUOTA, ErrNoMemory},
		{"wrapped", fmt.Errorf("x: %w", windows.ERROR_COMMITMENT_LIMIT), ErrNoMemory},
		{"invalid parameter", windows.ERROR_INVALID_PARAMETER, windows.ERROR_INVALID_PARAMETER},
		{"invalid address", windows.ERROR_INVALID_ADDRESS, windows.ERROR_INVALID_ADDRESS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := osError("op", 0x10000, 0x1000, tt.err)
			if !errors.Is(got, tt.wantErr) {
				t.Errorf("osError(%v) = %v, want it to wrap %v", tt.err, got, tt.wantErr)
			}
			var errno syscall.Errno
			if !errors.As(got, &errno) {
				t.Errorf("osError(%v) = %v lost the Windows error", tt.err, got)
			}
			if tt.wantErr != ErrNoMemory && errors.Is(got, ErrNoMemory) {
				t.Errorf("osError(%v) = %v, must not be ErrNoMemory", tt.err, got)
			}
		})
	}
}
