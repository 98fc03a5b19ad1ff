//go:build linux || darwin || freebsd

package vmem

import (
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// faultPrims passes every call to the host's primitives, except that the
// failAt-th call of the primitive named fail (counting from 1) fails the
// way the kernel does when vm.max_map_count is reached: ENOMEM, before
// doing anything.
type faultPrims struct {
	prims
	fail   string
	failAt int
	calls  map[string]int
	// recommit makes caps report RecommitAfterDecommit, so Reservation
	// behaves as on Windows; commits then records every commit that
	// succeeded, and decommits every decommit.
	recommit  bool
	commits   []Range
	decommits []Range
}

func (f *faultPrims) caps() Caps {
	c := f.prims.caps()
	c.RecommitAfterDecommit = c.RecommitAfterDecommit || f.recommit
	return c
}

func (f *faultPrims) hit(call string, p unsafe.Pointer, n uintptr) error {
	f.calls[call]++
	if call == f.fail && f.calls[call] == f.failAt {
		return osError(call, p, n, unix.ENOMEM)
	}
	return nil
}

func (f *faultPrims) reserve(size, align uintptr, huge bool) (unsafe.Pointer, error) {
	if err := f.hit("reserve", nil, size); err != nil {
		return nil, err
	}
	return f.prims.reserve(size, align, huge)
}

func (f *faultPrims) reserveAt(p unsafe.Pointer, size uintptr, huge bool) error {
	if err := f.hit("reserveAt", p, size); err != nil {
		return err
	}
	return f.prims.reserveAt(p, size, huge)
}

func (f *faultPrims) commit(p unsafe.Pointer, n uintptr) error {
	if err := f.hit("commit", p, n); err != nil {
		return err
	}
	if err := f.prims.commit(p, n); err != nil {
		return err
	}
	f.commits = append(f.commits, Range{uintptr(p), n})
	return nil
}

func (f *faultPrims) uncommit(p unsafe.Pointer, n uintptr) error {
	if err := f.hit("uncommit", p, n); err != nil {
		return err
	}
	return f.prims.uncommit(p, n)
}

func (f *faultPrims) decommit(p unsafe.Pointer, n uintptr) error {
	if err := f.hit("decommit", p, n); err != nil {
		return err
	}
	if err := f.prims.decommit(p, n); err != nil {
		return err
	}
	f.decommits = append(f.decommits, Range{uintptr(p), n})
	return nil
}

func (f *faultPrims) release(p unsafe.Pointer, pieces []Range) error {
	if err := f.hit("release", p, pieces[len(pieces)-1].End()-pieces[0].Base); err != nil {
		return err
	}
	return f.prims.release(p, pieces)
}

func (f *faultPrims) restore(p unsafe.Pointer, n uintptr, huge bool, owner string) {
	if rs, ok := f.prims.(restorer); ok {
		rs.restore(p, n, huge, owner)
	}
}

func newFault(fail string, at int) *faultPrims {
	return &faultPrims{prims: host.p, fail: fail, failAt: at, calls: map[string]int{}}
}

func wantENOMEM(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrNoMemory) || !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("got %v, want ErrNoMemory wrapping ENOMEM", err)
	}
	oneVmemPrefix(t, err)
}

func TestFaultReserve(t *testing.T) {
	before := len(Live())
	f := newFault("reserve", 1)
	r, err := reserve(f, "faulty", 4*pageSize, Options{Owner: "never"})
	if r != nil {
		t.Fatalf("failed Reserve returned %v", r.Range())
	}
	wantENOMEM(t, err)
	if len(Live()) != before {
		t.Fatalf("failed Reserve registered something")
	}
	// The next one works.
	r, err = reserve(f, "faulty", 4*pageSize, Options{})
	if err != nil {
		t.Fatal(err)
	}
	releaseT(t, r)
}

// TestFaultCommit fails the commit of each part a Commit may need and checks
// that the watermark does not move and that nothing was left committed.
func TestFaultCommit(t *testing.T) {
	g := pageSize
	tests := []struct {
		name      string
		start     Range   // committed before, in pages from the base
		commit    Range   // what to commit, in pages
		failAt    int     // which commit call fails (1 = the first of this Commit)
		untouched []Range // pages that must stay uncommitted after the failure
	}{
		{"empty", Range{}, Range{2, 3}, 1, []Range{{2, 3}}},
		{"above", Range{0, 2}, Range{0, 6}, 1, []Range{{2, 4}}},
		{"below", Range{4, 2}, Range{1, 4}, 1, []Range{{1, 3}}},
		{"both sides, upper fails", Range{4, 2}, Range{1, 7}, 2, []Range{{1, 3}, {6, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFault("", 0)
			r, err := reserve(f, "faulty", 16*g, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer releaseT(t, r)
			if tt.start.Size > 0 {
				if err := r.Commit(r.Base()+tt.start.Base*g, tt.start.Size*g); err != nil {
					t.Fatal(err)
				}
			}
			before := r.CommittedRange()
			f.fail, f.failAt, f.calls = "commit", tt.failAt, map[string]int{}
			err = r.Commit(r.Base()+tt.commit.Base*g, tt.commit.Size*g)
			wantENOMEM(t, err)
			if r.CommittedRange() != before || r.Committed() != before.Size {
				t.Fatalf("watermark moved: %v → %v", before, r.CommittedRange())
			}
			validT(t, r)
			for _, u := range tt.untouched {
				if !faults(r.Base() + u.Base*g) {
					t.Fatalf("page %d was left committed after the failure", u.Base)
				}
			}
			// Nothing outside the interval was left committed: a second
			// attempt must commit those pages again.
			f.fail, f.calls = "", map[string]int{}
			if err := r.Commit(r.Base()+tt.commit.Base*g, tt.commit.Size*g); err != nil {
				t.Fatal(err)
			}
			if f.calls["commit"] != len(tt.untouched) {
				t.Fatalf("retry made %d commit calls, want %d", f.calls["commit"], len(tt.untouched))
			}
			for _, u := range tt.untouched {
				mem(r)[u.Base*g] = 1 // committed now: must not fault
			}
		})
	}
}

// TestFaultRecommit fails each commit of a Commit that must also commit a
// hole again (Windows semantics, emulated with Caps.RecommitAfterDecommit):
// whichever fails, the hole must end up decommitted, as it is still
// recorded, and the watermark must not move. The recommit used to come
// first, so a failed widening left the hole committed.
func TestFaultRecommit(t *testing.T) {
	g := pageSize
	hole := Range{5, 1} // in pages: committed [4, 8), decommitted [5, 6)
	tests := []struct {
		name   string
		commit Range // pages
		failAt int
	}{
		{"lower widening fails", Range{1, 10}, 1},
		{"upper widening fails", Range{1, 10}, 2},
		{"recommit fails", Range{1, 10}, 3},
		{"only the recommit, which fails", Range{5, 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFault("", 0)
			f.recommit = true
			r, err := reserve(f, "faulty", 16*g, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer releaseT(t, r)
			if err := r.Commit(r.Base()+4*g, 4*g); err != nil {
				t.Fatal(err)
			}
			if err := r.Decommit(r.Base()+hole.Base*g, hole.Size*g); err != nil {
				t.Fatal(err)
			}
			before, committed := r.CommittedRange(), r.Committed()
			f.fail, f.failAt, f.calls = "commit", tt.failAt, map[string]int{}
			f.commits, f.decommits = nil, nil
			wantENOMEM(t, r.Commit(r.Base()+tt.commit.Base*g, tt.commit.Size*g))
			if r.CommittedRange() != before || r.Committed() != committed {
				t.Fatalf("interval %v (%d bytes) → %v (%d bytes)", before, committed, r.CommittedRange(), r.Committed())
			}
			validT(t, r)
			// The hole's state: committed by a successful call and not
			// decommitted since means it is committed while recorded as
			// a hole.
			h := Range{r.Base() + hole.Base*g, hole.Size * g}
			committedLast := false
			for _, c := range f.commits {
				if c.Base < h.End() && h.Base < c.End() {
					committedLast = true
				}
			}
			for _, d := range f.decommits {
				if d.Base <= h.Base && h.End() <= d.End() {
					committedLast = false
				}
			}
			if committedLast {
				t.Fatalf("the hole %v was committed again (commits %v, decommits %v) by a Commit that failed", h, f.commits, f.decommits)
			}
			// A retry works and fills the hole.
			f.fail = ""
			if err := r.Commit(r.Base()+tt.commit.Base*g, tt.commit.Size*g); err != nil {
				t.Fatal(err)
			}
			validT(t, r)
		})
	}
}

func TestFaultDecommit(t *testing.T) {
	g := pageSize
	tests := []struct {
		name      string
		fail      string
		off, n    uintptr // pages
		wantErr   bool
		wantRange Range // committed interval after, in pages
	}{
		{"madvise fails in a hole", "decommit", 2, 2, true, Range{0, 8}},
		{"madvise fails at the top", "decommit", 6, 2, true, Range{0, 8}},
		{"uncommit fails at the top: pages dropped, interval kept", "uncommit", 6, 2, false, Range{0, 8}},
		{"uncommit fails at the bottom", "uncommit", 0, 2, false, Range{0, 8}},
		{"nothing fails", "", 6, 2, false, Range{0, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFault("", 0)
			r, err := reserve(f, "faulty", 16*g, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer releaseT(t, r)
			if err := r.Commit(r.Base(), 8*g); err != nil {
				t.Fatal(err)
			}
			b := mem(r)
			for i := range 8 {
				b[uintptr(i)*g] = 9
			}
			f.fail, f.failAt = tt.fail, 1
			err = r.Decommit(r.Base()+tt.off*g, tt.n*g)
			if tt.wantErr {
				wantENOMEM(t, err)
				if b[tt.off*g] != 9 {
					t.Fatalf("a failed decommit lost the contents")
				}
			} else if err != nil {
				t.Fatal(err)
			}
			want := Range{r.Base() + tt.wantRange.Base*g, tt.wantRange.Size * g}
			if r.CommittedRange() != want {
				t.Fatalf("committed %v, want %v", r.CommittedRange(), want)
			}
			validT(t, r)
		})
	}
}

func TestFaultRelease(t *testing.T) {
	f := newFault("release", 1)
	r, err := reserve(f, "faulty", 4*pageSize, Options{Owner: "sticky"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(r.Base(), pageSize); err != nil {
		t.Fatal(err)
	}
	mem(r)[0] = 7
	err = r.Release()
	wantENOMEM(t, err)
	if r.Released() || liveEntry(r).ID != r.id || mem(r)[0] != 7 {
		t.Fatalf("a failed Release changed the reservation: released %v, listed %v", r.Released(), liveEntry(r).ID != 0)
	}
	if err := r.Release(); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if liveEntry(r).ID != 0 || !r.Released() {
		t.Fatalf("released reservation still listed")
	}
}

func TestFaultExtend(t *testing.T) {
	r, _ := inHole(t, 4*pageSize, 4*pageSize, 4*pageSize, Options{})
	f := newFault("reserveAt", 1)
	f.prims = r.p
	r.p = f
	before, live := r.Range(), liveEntry(r)
	err := r.Extend(Below, 2*pageSize)
	wantENOMEM(t, err)
	if r.Range() != before || len(liveEntry(r).Pieces) != len(live.Pieces) {
		t.Fatalf("failed Extend changed the reservation")
	}
	if err := r.Extend(Below, 2*pageSize); err != nil {
		t.Fatalf("retry: %v", err)
	}
	validT(t, r)
}
