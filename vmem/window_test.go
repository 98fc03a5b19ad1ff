package vmem

import (
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"sync"
	"testing"
	"unsafe"
)

// Window tests use their own unit names: other test files of the package
// belong to other authors.
const (
	wkib = uintptr(1) << 10
	wmib = uintptr(1) << 20
)

// testLow is the bottom of the small test windows: 1 MiB, so that offsets in
// the scripts read as MiB.
const testLow = 1 * wmib

// testWindow makes a 16 MiB window at [1 MiB, 17 MiB) with 64 KiB
// granularity and closes it when the test ends.
func testWindow(t testing.TB, p Placement, occ ...Occupied) *Window {
	t.Helper()
	w, err := NewWindow(WindowConfig{Name: "test-" + p.String(), Low: testLow, High: testLow + 16*wmib,
		Granularity: 64 * wkib, Placement: p, Occupied: occ})
	if err != nil {
		t.Fatalf("NewWindow: %v", err)
	}
	t.Cleanup(func() {
		if !w.gone {
			if err := w.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	checkWindow(t, w)
	return w
}

func checkWindow(t testing.TB, w *Window) {
	t.Helper()
	if err := w.check(); err != nil {
		t.Fatal(err)
	}
}

// windowAt returns the emulated base of r.
func windowAt(w *Window, r *Reservation) uintptr { return w.Emulated(r.Base()) }

// windowBytes views n bytes of a reservation at offset off.
func windowBytes(r *Reservation, off, n uintptr) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(r.Pointer(), off)), n)
}

func TestRangeSet(t *testing.T) {
	type op struct {
		add bool
		r   Range
	}
	tests := []struct {
		name string
		ops  []op
		want []Range
	}{
		{"empty", nil, nil},
		{"add one", []op{{true, Range{10, 5}}}, []Range{{10, 5}}},
		{"add empty", []op{{true, Range{10, 0}}}, nil},
		{"disjoint sorted", []op{{true, Range{30, 5}}, {true, Range{10, 5}}, {true, Range{20, 5}}},
			[]Range{{10, 5}, {20, 5}, {30, 5}}},
		{"touching merges", []op{{true, Range{10, 5}}, {true, Range{20, 5}}, {true, Range{15, 5}}},
			[]Range{{10, 15}}},
		{"overlap merges several", []op{{true, Range{10, 5}}, {true, Range{20, 5}}, {true, Range{30, 5}}, {true, Range{12, 20}}},
			[]Range{{10, 25}}},
		{"remove middle splits", []op{{true, Range{10, 30}}, {false, Range{20, 5}}},
			[]Range{{10, 10}, {25, 15}}},
		{"remove head", []op{{true, Range{10, 30}}, {false, Range{10, 5}}}, []Range{{15, 25}}},
		{"remove tail", []op{{true, Range{10, 30}}, {false, Range{35, 5}}}, []Range{{10, 25}}},
		{"remove all", []op{{true, Range{10, 30}}, {false, Range{10, 30}}}, nil},
		{"remove across", []op{{true, Range{10, 5}}, {true, Range{20, 5}}, {true, Range{30, 5}}, {false, Range{12, 20}}},
			[]Range{{10, 2}, {32, 3}}},
		{"remove absent", []op{{true, Range{10, 5}}, {false, Range{15, 5}}, {false, Range{0, 10}}}, []Range{{10, 5}}},
		{"remove superset", []op{{true, Range{10, 5}}, {true, Range{20, 5}}, {false, Range{0, 100}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s rangeSet
			for _, o := range tt.ops {
				if o.add {
					s.add(o.r)
				} else {
					s.remove(o.r)
				}
				if msg := s.valid(); msg != "" {
					t.Fatalf("after %+v: %s", o, msg)
				}
			}
			if len(s.rs) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(s.rs, tt.want) {
				t.Errorf("got %v, want %v", s.rs, tt.want)
			}
		})
	}
}

func TestRangeSetQueries(t *testing.T) {
	var s rangeSet
	s.add(Range{10, 10})
	s.add(Range{30, 10})
	tests := []struct {
		r                Range
		covers, overlaps bool
		clip             []Range
	}{
		{Range{10, 10}, true, true, []Range{{10, 10}}},
		{Range{12, 3}, true, true, []Range{{12, 3}}},
		{Range{5, 10}, false, true, []Range{{10, 5}}},
		{Range{20, 10}, false, false, nil},
		{Range{15, 20}, false, true, []Range{{15, 5}, {30, 5}}},
		{Range{0, 10}, false, false, nil},
		{Range{40, 5}, false, false, nil},
	}
	for _, tt := range tests {
		if got := s.covers(tt.r); got != tt.covers {
			t.Errorf("covers(%v) = %v, want %v", tt.r, got, tt.covers)
		}
		if got := s.overlaps(tt.r); got != tt.overlaps {
			t.Errorf("overlaps(%v) = %v, want %v", tt.r, got, tt.overlaps)
		}
		if got := s.clip(tt.r); !reflect.DeepEqual(got, tt.clip) {
			t.Errorf("clip(%v) = %v, want %v", tt.r, got, tt.clip)
		}
	}
	if s.total() != 20 || s.largest() != 10 {
		t.Errorf("total %d largest %d, want 20 and 10", s.total(), s.largest())
	}
}

func TestNewWindowInvalid(t *testing.T) {
	g := 64 * wkib
	ok := WindowConfig{Name: "x", Low: g, High: 17 * g, Granularity: g}
	with := func(f func(*WindowConfig)) WindowConfig { c := ok; f(&c); return c }
	occ := func(os ...Occupied) WindowConfig { c := ok; c.Occupied = os; return c }
	tests := []struct {
		name    string
		cfg     WindowConfig
		wantErr error
	}{
		{"valid", ok, nil},
		{"valid occupied", occ(Occupied{Range: Range{g, g}}, Occupied{Range: Range{2 * g, g}, Committed: true}), nil},
		{"granularity not a power of two", with(func(c *WindowConfig) { c.Granularity = 3 * g }), ErrInvalidWindow},
		{"granularity below the page size", with(func(c *WindowConfig) { c.Granularity = 512 }), ErrInvalidWindow},
		{"low equals high", with(func(c *WindowConfig) { c.High = c.Low }), ErrInvalidWindow},
		{"low above high", with(func(c *WindowConfig) { c.Low, c.High = c.High, c.Low }), ErrInvalidWindow},
		{"smaller than granularity", with(func(c *WindowConfig) { c.High = c.Low + g/2 }), ErrInvalidWindow},
		{"low zero", with(func(c *WindowConfig) { c.Low = 0 }), ErrInvalidWindow},
		{"low unaligned", with(func(c *WindowConfig) { c.Low = g + 4096 }), ErrInvalidWindow},
		{"high unaligned", with(func(c *WindowConfig) { c.High = 17*g + 4096 }), ErrInvalidWindow},
		{"unknown placement", with(func(c *WindowConfig) { c.Placement = 7 }), ErrInvalidWindow},
		{"occupied empty", occ(Occupied{Range: Range{g, 0}}), ErrInvalidWindow},
		{"occupied below", occ(Occupied{Range: Range{0, g}}), ErrInvalidWindow},
		{"occupied above", occ(Occupied{Range: Range{17 * g, g}}), ErrInvalidWindow},
		{"occupied past the top", occ(Occupied{Range: Range{16 * g, 2 * g}}), ErrInvalidWindow},
		{"occupied huge", occ(Occupied{Range: Range{2 * g, ^uintptr(0) &^ (g - 1)}}), ErrInvalidWindow},
		{"occupied unaligned", occ(Occupied{Range: Range{g + 1, g}}), ErrInvalidWindow},
		{"occupied unknown kind", occ(Occupied{Range: Range{g, g}, Kind: 99}), ErrInvalidWindow},
		{"occupied overlap", occ(Occupied{Range: Range{4 * g, 2 * g}, Name: "a"}, Occupied{Range: Range{5 * g, g}, Name: "b"}), ErrInvalidWindow},
		{"occupied duplicate", occ(Occupied{Range: Range{4 * g, g}}, Occupied{Range: Range{4 * g, g}}), ErrInvalidWindow},
		{"typical process in a small window", ok.WithTypicalProcess(), ErrInvalidWindow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWindow(tt.cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewWindow: got %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				checkWindow(t, w)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Log(err)
			}
		})
	}
}

// windowStep is one move of a placement script: reserve size bytes as id (and
// expect it at offset want from the window's bottom), or release id.
type windowStep struct {
	op   string // "reserve", "release" or "nofit"
	id   string
	size uintptr
	want uintptr // offset from testLow; for "nofit", the largest free block
}

func runWindowScript(t *testing.T, w *Window, script []windowStep) {
	t.Helper()
	live := map[string]*Reservation{}
	for i, s := range script {
		switch s.op {
		case "reserve":
			r, err := w.Reserve(s.size, Options{Owner: s.id})
			if err != nil {
				t.Fatalf("windowStep %d: reserve %s %d: %v", i, s.id, s.size, err)
			}
			if got := windowAt(w, r) - testLow; got != s.want {
				t.Errorf("windowStep %d: %s placed at +%#x, want +%#x", i, s.id, got, s.want)
			}
			live[s.id] = r
		case "release":
			if err := live[s.id].Release(); err != nil {
				t.Fatalf("windowStep %d: release %s: %v", i, s.id, err)
			}
		case "nofit":
			_, err := w.Reserve(s.size, Options{})
			var nf *NoFitError
			if !errors.As(err, &nf) || !errors.Is(err, ErrNoMemory) {
				t.Fatalf("windowStep %d: reserve %d: got %v, want a *NoFitError", i, s.size, err)
			}
			if nf.Asked != s.size || nf.Largest != s.want || nf.Free != w.FreeBytes() || nf.Space != w.Name() {
				t.Errorf("windowStep %d: got %+v, want Asked %#x Largest %#x Free %#x", i, *nf, s.size, s.want, w.FreeBytes())
			}
		}
		checkWindow(t, w)
	}
}

// TestWindowPlacement runs scripts in which first fit, best fit, the
// highest fit and "below the previous placement" all choose differently, so
// each rule is pinned down.
func TestWindowPlacement(t *testing.T) {
	tests := []struct {
		name   string
		p      Placement
		script []windowStep
	}{
		{"bottom-up", BottomUp, []windowStep{
			{"reserve", "A", 1 * wmib, 0},
			{"reserve", "B", 3 * wmib, 1 * wmib},
			{"reserve", "C", 1 * wmib, 4 * wmib},
			{"reserve", "D", 2 * wmib, 5 * wmib},
			{"reserve", "E", 1 * wmib, 7 * wmib},
			{"release", "B", 0, 0}, // hole [1, 4)
			{"release", "D", 0, 0}, // hole [5, 7)
			// First fit takes the lowest hole; best fit would take [5, 7).
			{"reserve", "F", 2 * wmib, 1 * wmib},
			// 100 KiB rounds to 128 KiB at the next 64 KiB boundary.
			{"reserve", "G", 100 * wkib, 3 * wmib},
			// [3M+128K, 4M) is too small for 1 MiB: the next hole.
			{"reserve", "H", 1 * wmib, 5 * wmib},
			{"reserve", "I", 64 * wkib, 3*wmib + 128*wkib},
			{"nofit", "", 9 * wmib, 8 * wmib}, // free: [3M+192K, 4M), [6M, 7M), [8M, 16M)
			{"reserve", "J", 8 * wmib, 8 * wmib},
			{"nofit", "", 2 * wmib, 1 * wmib},
		}},
		{"top-down", TopDown, []windowStep{
			{"reserve", "A", 1 * wmib, 15 * wmib},
			{"reserve", "B", 3 * wmib, 12 * wmib},
			{"reserve", "C", 1 * wmib, 11 * wmib},
			{"reserve", "D", 2 * wmib, 9 * wmib},
			{"reserve", "E", 1 * wmib, 8 * wmib},
			{"release", "B", 0, 0}, // hole [12, 15)
			{"release", "D", 0, 0}, // hole [9, 11)
			// The highest fit is the top of B's hole; best fit would take
			// [9, 11), first fit [0, 2), "below the previous" [6, 8).
			{"reserve", "F", 2 * wmib, 13 * wmib},
			{"reserve", "G", 100 * wkib, 13*wmib - 128*wkib},
			{"reserve", "H", 1 * wmib, 10 * wmib},
			{"reserve", "I", 4 * wmib, 4 * wmib},
			{"nofit", "", 5 * wmib, 4 * wmib}, // free: [0, 4), [9, 10), [12, 13-128K)
			{"release", "A", 0, 0},
			{"reserve", "J", 1 * wmib, 15 * wmib}, // back at the very top
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runWindowScript(t, testWindow(t, tt.p), tt.script)
		})
	}
}

func TestWindowAlignedPlacement(t *testing.T) {
	for _, p := range []Placement{BottomUp, TopDown} {
		t.Run(p.String(), func(t *testing.T) {
			w := testWindow(t, p)
			if _, err := w.Reserve(64*wkib, Options{}); err != nil {
				t.Fatal(err)
			}
			r, err := w.Reserve(1*wmib, Options{Align: 2 * wmib})
			if err != nil {
				t.Fatal(err)
			}
			want := 2 * wmib // the lowest 2 MiB boundary above 1 MiB + 64 KiB
			if p == TopDown {
				want = 14 * wmib // the highest 2 MiB boundary with 1 MiB below 17 MiB
			}
			if got := windowAt(w, r); got != want {
				t.Errorf("aligned reservation at %#x, want %#x", got, want)
			}
			if r.Base()%(2*wmib) != 0 {
				t.Errorf("real base %#x is not 2 MiB aligned", r.Base())
			}
			checkWindow(t, w)
		})
	}
}

func TestWindowCaps(t *testing.T) {
	for _, p := range []Placement{BottomUp, TopDown} {
		w := testWindow(t, p)
		c, hc := w.Caps(), OS().Caps()
		if c.Granularity != 64*wkib || c.PageSize != hc.PageSize || c.HugePageSize != 0 ||
			c.PartialRelease || !c.ExactPlacement || c.TopDown != (p == TopDown) ||
			c.RecommitAfterDecommit != hc.RecommitAfterDecommit || c.MaxAlign < c.Granularity {
			t.Errorf("%v: caps %+v (host %+v)", p, c, hc)
		}
		if w.Name() != "test-"+p.String() || w.Config().Placement != p {
			t.Errorf("name %q config %+v", w.Name(), w.Config())
		}
	}
}

func TestWindowReserveInvalid(t *testing.T) {
	w := testWindow(t, BottomUp)
	tests := []struct {
		name    string
		size    uintptr
		o       Options
		wantErr error
	}{
		{"zero", 0, Options{}, ErrInvalidSize},
		{"overflow", ^uintptr(0), Options{}, ErrInvalidSize},
		{"larger than the window", 17 * wmib, Options{}, ErrNoMemory},
		{"huge", uintptr(1) << 31, Options{}, ErrNoMemory},
		{"align not a power of two", 64 * wkib, Options{Align: 3 * 64 * wkib}, ErrInvalidAlign},
		{"align above MaxAlign", 64 * wkib, Options{Align: 2 * w.Caps().MaxAlign}, ErrInvalidAlign},
		{"align unsatisfiable", 14 * wmib, Options{Align: w.Caps().MaxAlign}, ErrNoMemory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := w.Reserve(tt.size, tt.o)
			if !errors.Is(err, tt.wantErr) || r != nil {
				t.Fatalf("got %v, %v; want %v", r, err, tt.wantErr)
			}
			t.Log(err)
			checkWindow(t, w)
		})
	}
	if w.FreeBytes() != 16*wmib || w.Largest() != 16*wmib {
		t.Errorf("failed reserves left free %d largest %d", w.FreeBytes(), w.Largest())
	}
}

func TestWindowNoFitError(t *testing.T) {
	w := testWindow(t, BottomUp, Occupied{Range: Range{testLow + 5*wmib, 1 * wmib}, Name: "dll"})
	// Free: [0, 5) and [6, 16): ask for 10 MiB and a bit.
	_, err := w.Reserve(10*wmib+1, Options{})
	var nf *NoFitError
	if !errors.As(err, &nf) {
		t.Fatalf("got %v, want a *NoFitError", err)
	}
	want := NoFitError{Space: w.Name(), Asked: 10*wmib + 64*wkib, Largest: 10 * wmib, Free: 15 * wmib}
	if *nf != want {
		t.Errorf("got %+v, want %+v", *nf, want)
	}
	if !errors.Is(err, ErrNoMemory) {
		t.Errorf("%v does not wrap ErrNoMemory", err)
	}
	t.Log(err)
}

func TestWindowCommitDecommit(t *testing.T) {
	w := testWindow(t, BottomUp)
	r, err := w.Reserve(1*wmib, Options{Owner: "cd"})
	if err != nil {
		t.Fatal(err)
	}
	ps := r.Unit()
	if err := r.Commit(r.Base(), 4*ps); err != nil {
		t.Fatal(err)
	}
	b := windowBytes(r, 0, 4*ps)
	for i := range b {
		if b[i] != 0 {
			t.Fatalf("fresh committed byte %d is %d", i, b[i])
		}
		b[i] = byte(i)
	}
	if err := r.Decommit(r.Base()+ps, ps); err != nil {
		t.Fatal(err)
	}
	checkWindow(t, w)
	e := windowAt(w, r)
	want := []WindowRegion{
		{Range{e, ps}, Committed, KindPrivate, "cd", false},
		{Range{e + ps, ps}, Decommitted, KindPrivate, "cd", false},
		{Range{e + 2*ps, 2 * ps}, Committed, KindPrivate, "cd", false},
		{Range{e + 4*ps, 1*wmib - 4*ps}, Reserved, KindPrivate, "cd", false},
		{Range{e + 1*wmib, 15 * wmib}, Free, 0, "", false},
	}
	if got := w.Regions(); !reflect.DeepEqual(got, want) {
		t.Errorf("regions:\n got %v\nwant %v", got, want)
	}
	if w.Caps().RecommitAfterDecommit {
		if err := r.Commit(r.Base()+ps, ps); err != nil {
			t.Fatal(err)
		}
	}
	for i := ps; i < 2*ps; i++ {
		if b[i] != 0 {
			t.Fatalf("decommitted byte %d reads %d, want 0", i, b[i])
		}
	}
	if b[0] != 0 || b[2*ps+1] != byte(2*ps+1) {
		t.Errorf("pages next to the decommitted one changed: %d %d", b[0], b[2*ps+1])
	}
	// Released and reserved again, the range is zero: release decommits.
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	r2, err := w.Reserve(1*wmib, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Base() != r.Base() {
		t.Fatalf("bottom-up did not reuse the range: %#x vs %#x", r2.Base(), r.Base())
	}
	if err := r2.Commit(r2.Base(), 4*ps); err != nil {
		t.Fatal(err)
	}
	for i, c := range windowBytes(r2, 0, 4*ps) {
		if c != 0 {
			t.Fatalf("byte %d of a reused range reads %d, want 0", i, c)
		}
	}
	// Decommitting everything returns the range to Reserved.
	if err := r2.Decommit(r2.Base(), r2.Size()); err != nil {
		t.Fatal(err)
	}
	if got := w.Regions()[0]; got.State != Reserved || got.Range.Size != 1*wmib {
		t.Errorf("after decommitting all: %+v", got)
	}
	checkWindow(t, w)
}

func TestWindowExtend(t *testing.T) {
	w := testWindow(t, BottomUp)
	res := func(size uintptr, owner string) *Reservation {
		r, err := w.Reserve(size, Options{Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := res(1*wmib, "a"), res(1*wmib, "b"), res(1*wmib, "c")
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		r        *Reservation
		dir      Direction
		n        uintptr
		wantErr  error
		wantBase uintptr // offset from testLow after the call
		wantSize uintptr
	}{
		{"below into a's hole", b, Below, 1 * wmib, nil, 0, 2 * wmib},
		{"below past Low", b, Below, 64 * wkib, ErrAddressTaken, 0, 2 * wmib},
		{"above into c", b, Above, 64 * wkib, ErrAddressTaken, 0, 2 * wmib},
		{"c above to the top", c, Above, 13 * wmib, nil, 2 * wmib, 14 * wmib},
		{"c above past the top", c, Above, 64 * wkib, ErrAddressTaken, 2 * wmib, 14 * wmib},
		{"c below into b", c, Below, 64 * wkib, ErrAddressTaken, 2 * wmib, 14 * wmib},
		{"zero", b, Below, 0, ErrInvalidSize, 0, 2 * wmib},
		{"overflow", b, Above, ^uintptr(0), ErrInvalidSize, 0, 2 * wmib},
		{"released", a, Above, 64 * wkib, ErrReleased, 0, 1 * wmib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Extend(tt.dir, tt.n)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Extend: got %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				t.Log(err)
			}
			if got := w.Emulated(tt.r.Base()) - testLow; got != tt.wantBase && !tt.r.Released() {
				t.Errorf("base +%#x, want +%#x", got, tt.wantBase)
			}
			if tt.r.Size() != tt.wantSize {
				t.Errorf("size %#x, want %#x", tt.r.Size(), tt.wantSize)
			}
			checkWindow(t, w)
		})
	}
	// b is two pieces: commit across the boundary and use it.
	if len(b.Pieces()) != 2 {
		t.Fatalf("b has pieces %v", b.Pieces())
	}
	if err := b.Commit(b.Base(), b.Size()); err != nil {
		t.Fatal(err)
	}
	mem := windowBytes(b, 0, b.Size())
	for i := range mem {
		mem[i] = 0xAB
	}
	var pieces []WindowRegion
	for _, rg := range w.Regions() {
		if rg.Owner == "b" {
			pieces = append(pieces, rg)
		}
	}
	if len(pieces) != 2 || pieces[0].State != Committed || pieces[0].Range.Size != 1*wmib {
		t.Errorf("b's regions: %v", pieces)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if w.Largest() != 2*wmib {
		t.Errorf("largest after releasing b: %#x, want 2 MiB (coalesced)", w.Largest())
	}
	checkWindow(t, w)
}

func TestWindowClose(t *testing.T) {
	w, err := NewWindow(WindowConfig{Name: "closing", Low: testLow, High: testLow + 16*wmib, Granularity: 64 * wkib})
	if err != nil {
		t.Fatal(err)
	}
	var rs []*Reservation
	for i := range 5 {
		r, err := w.Reserve(uintptr(i+1)*wmib, Options{Owner: fmt.Sprint("r", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Commit(r.Base(), 64*wkib); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if err := rs[2].Release(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkWindow(t, w)
	for i, r := range rs {
		if !r.Released() {
			t.Errorf("r%d is not released", i)
		}
		if err := r.Commit(r.Base(), 1); !errors.Is(err, ErrReleased) {
			t.Errorf("r%d.Commit after Close: %v", i, err)
		}
		if err := r.Extend(Above, 1); !errors.Is(err, ErrReleased) {
			t.Errorf("r%d.Extend after Close: %v", i, err)
		}
		if err := r.Release(); !errors.Is(err, ErrReleased) {
			t.Errorf("r%d.Release after Close: %v", i, err)
		}
	}
	for _, in := range Live() {
		if in.Space == "closing" || in.Owner == "window: closing" {
			t.Errorf("still registered after Close: %+v", in)
		}
	}
	if _, err := w.Reserve(64*wkib, Options{}); !errors.Is(err, ErrReleased) {
		t.Errorf("Reserve after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrReleased) {
		t.Errorf("second Close: %v", err)
	}
	if w.Regions() != nil || w.Largest() != 0 || w.FreeBytes() != 0 || w.Emulated(rs[0].Base()) != 0 {
		t.Errorf("closed window still shows space")
	}
}

func TestWindowRegistry(t *testing.T) {
	w := testWindow(t, TopDown)
	r, err := w.Reserve(3*wmib, Options{Owner: "heap A"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(r.Base(), 1*wmib); err != nil {
		t.Fatal(err)
	}
	var mine, host bool
	for _, in := range Live() {
		switch {
		case in.Space == w.Name() && in.Owner == "heap A":
			mine = true
			if in.Range() != r.Range() || in.Committed != 1*wmib {
				t.Errorf("registry entry %+v, want range %v committed 1 MiB", in, r.Range())
			}
		case in.Owner == "window: "+w.Name():
			host = true
			if !in.Range().Contains(r.Base()) || !in.Range().Contains(r.Range().End()-1) {
				t.Errorf("host range %v does not contain %v", in.Range(), r.Range())
			}
		}
	}
	if !mine || !host {
		t.Errorf("registry lists the reservation: %v, the window: %v", mine, host)
	}
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	for _, in := range Live() {
		if in.Space == w.Name() {
			t.Errorf("released reservation still listed: %+v", in)
		}
	}
}

func TestWindowRegions(t *testing.T) {
	w := testWindow(t, BottomUp,
		Occupied{Range: Range{testLow + 1*wmib, 1 * wmib}, Kind: KindImage, Name: "a.dll", Committed: true},
		Occupied{Range: Range{testLow, 64 * wkib}, Kind: KindStack, Name: "stack"},
	)
	// The 1 MiB reservation does not fit below a.dll (only 960 KiB are
	// free there), so bottom-up puts it above a.dll at +2M.
	r, err := w.Reserve(1*wmib, Options{Owner: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(r.Base()+64*wkib, 128*wkib); err != nil {
		t.Fatal(err)
	}
	L := testLow
	if e := windowAt(w, r); e != L+2*wmib {
		t.Fatalf("reservation at %#x, want %#x", e, L+2*wmib)
	}
	got := w.Regions()
	want := []WindowRegion{
		{Range{L, 64 * wkib}, Reserved, KindStack, "stack", true},
		{Range{L + 64*wkib, 1*wmib - 64*wkib}, Free, 0, "", false},
		{Range{L + 1*wmib, 1 * wmib}, Committed, KindImage, "a.dll", true},
		{Range{L + 2*wmib, 64 * wkib}, Reserved, KindPrivate, "h", false},
		{Range{L + 2*wmib + 64*wkib, 128 * wkib}, Committed, KindPrivate, "h", false},
		{Range{L + 2*wmib + 192*wkib, 1*wmib - 192*wkib}, Reserved, KindPrivate, "h", false},
		{Range{L + 3*wmib, 13 * wmib}, Free, 0, "", false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("regions:\n got %v\nwant %v", got, want)
	}
	// Occupied committed memory is real.
	b := unsafe.Slice((*byte)(w.pointer(L+1*wmib)), 1*wmib)
	b[0], b[len(b)-1] = 1, 2
	if b[0]+b[len(b)-1] != 3 {
		t.Error("occupied committed memory does not hold data")
	}
}

// TestWindowRegionsAfterRecommit decommits pages inside the committed
// interval and commits them again: Regions must agree with the
// Reservation, which on Linux, macOS and FreeBSD commits nothing for them
// (the pages stay accessible) and so used to leave them Decommitted in the
// window's picture.
func TestWindowRegionsAfterRecommit(t *testing.T) {
	g := 64 * wkib
	tests := []struct {
		name     string
		decommit []Range // offsets in the reservation
		commit   Range
	}{
		{"one hole, all of it", []Range{{2 * g, g}}, Range{2 * g, g}},
		{"one hole, part of it", []Range{{2 * g, 2 * g}}, Range{3 * g, g}},
		{"two holes, one commit", []Range{{g, g}, {3 * g, g}}, Range{0, 6 * g}},
		{"hole and a widening", []Range{{4 * g, g}}, Range{4 * g, 4 * g}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWindow(t, BottomUp)
			r, err := w.Reserve(1*wmib, Options{Owner: "h"})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Commit(r.Base(), 6*g); err != nil {
				t.Fatal(err)
			}
			for _, d := range tt.decommit {
				if err := r.Decommit(r.Base()+d.Base, d.Size); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Commit(r.Base()+tt.commit.Base, tt.commit.Size); err != nil {
				t.Fatal(err)
			}
			checkWindow(t, w)
			var committed, decommitted uintptr
			for _, rg := range w.Regions() {
				switch {
				case rg.Owner != "h":
				case rg.State == Committed:
					committed += rg.Range.Size
				case rg.State == Decommitted:
					decommitted += rg.Range.Size
				}
			}
			cr := r.CommittedRange()
			if committed != r.Committed() || committed+decommitted != cr.Size {
				t.Errorf("Regions: %d committed + %d decommitted; Reservation: %d committed in an interval of %d",
					committed, decommitted, r.Committed(), cr.Size)
			}
		})
	}
}

func TestWindowPresets(t *testing.T) {
	tests := []struct {
		name      string
		cfg       WindowConfig
		low, high uintptr
	}{
		{"win32", Win32(), 0x10000, 0x7FFF0000},
		{"win32-3gb", Win32LargeAddressAware(), 0x10000, 0xBFFF0000},
		{"wow64", WOW64(), 0x10000, 0xFFFF0000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			if c.Name != tt.name || c.Low != tt.low || c.High != tt.high || c.Granularity != 64*wkib || c.Placement != BottomUp {
				t.Errorf("preset %+v", c)
			}
			for _, ps := range []uintptr{4 * wkib, 16 * wkib, 64 * wkib} {
				typ := c.WithTypicalProcess()
				if err := typ.validate(Caps{PageSize: ps}); err != nil {
					t.Errorf("typical layout with %d-byte pages: %v", ps, err)
				}
			}
			if len(c.Occupied) != 0 || len(c.WithTypicalProcess().Occupied) != len(typicalProcess) {
				t.Errorf("WithTypicalProcess changed its receiver or lost ranges")
			}
		})
	}
}

func TestWindowTypicalProcess(t *testing.T) {
	if bits.UintSize == 32 {
		t.Skip("a 2 GiB window needs a 64-bit host")
	}
	w, err := NewWindow(Win32().WithTypicalProcess())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	checkWindow(t, w)
	var occupied, committed uintptr
	for _, rg := range w.Regions() {
		if rg.Occupied {
			occupied += rg.Range.Size
			if rg.State == Committed {
				committed += rg.Range.Size
			}
		}
	}
	if occupied != 8*wmib+512*wkib || committed != occupied-2*0xF0000 {
		t.Errorf("occupied %#x committed %#x", occupied, committed)
	}
	// The largest free block lies between app.exe and KernelBase.dll.
	if got, want := w.Largest(), uintptr(0x75A40000-0x00430000); got != want {
		t.Errorf("largest %#x, want %#x", got, want)
	}
	// The first 64 KiB reservation goes to the first free granule.
	r, err := w.Reserve(1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := windowAt(w, r); got != 0x00240000 {
		t.Errorf("first reservation at %#x, want 0x00240000", got)
	}
	// Stack memory is committed where the layout says so.
	top := unsafe.Slice((*byte)(w.pointer(0x00120000)), 64*wkib)
	top[len(top)-1] = 7
}

// TestWindowConcurrent runs owners in parallel with readers; run it with
// -race.
func TestWindowConcurrent(t *testing.T) {
	w := testWindow(t, BottomUp)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				r, err := w.Reserve(uintptr(1+(g+i)%3)*64*wkib, Options{Owner: fmt.Sprint("g", g)})
				if err != nil {
					errs <- err
					return
				}
				if err := r.Commit(r.Base(), 4096); err != nil {
					errs <- err
					return
				}
				*(*byte)(r.Pointer()) = byte(g)
				if err := r.Extend(Above, 64*wkib); err != nil && !errors.Is(err, ErrAddressTaken) {
					errs <- err
					return
				}
				if err := r.Release(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			w.Regions()
			w.Largest()
			Live()
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkWindow(t, w)
	if w.FreeBytes() != 16*wmib {
		t.Errorf("free %#x after all released", w.FreeBytes())
	}
}

func BenchmarkWindowReserveRelease(b *testing.B) {
	for _, p := range []Placement{BottomUp, TopDown} {
		b.Run(p.String(), func(b *testing.B) {
			w, err := NewWindow(WindowConfig{Low: 64 * wkib, High: 64*wkib + 1024*wmib, Granularity: 64 * wkib, Placement: p})
			if err != nil {
				b.Skip(err)
			}
			defer w.Close()
			// 4000 reservations with every other one released: 2000
			// holes to search.
			var keep []*Reservation
			for i := range 4000 {
				r, err := w.Reserve(64*wkib, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if i%2 == 0 {
					r.Release()
				} else {
					keep = append(keep, r)
				}
			}
			b.ResetTimer()
			for range b.N {
				r, err := w.Reserve(128*wkib, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Release(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
