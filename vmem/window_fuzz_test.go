package vmem

import (
	"errors"
	"testing"
)

// FuzzWindow drives a small window with a random sequence of reserves,
// releases, extensions, commits and decommits. After every step it checks
// the window's invariants (check) and compares each placement with a naive
// model: a map of the window's 64 KiB granules searched from the bottom
// (BottomUp) or the top (TopDown).
//
//	go test -fuzz=FuzzWindow -fuzztime=30s ./vmem
func FuzzWindow(f *testing.F) {
	f.Add([]byte{0, 0, 3, 0, 0, 5, 0, 1, 0, 1, 0, 0, 0, 0, 2})
	f.Add([]byte{1, 0, 7, 0, 0, 7, 0, 0, 7, 1, 1, 0, 0, 0, 3, 2, 0, 4, 3, 2, 9})
	f.Add([]byte{0, 0, 31, 0, 0, 31, 0, 0, 31, 0, 0, 31, 0, 0, 31, 1, 2, 0, 2, 1, 1, 3, 3, 4})
	f.Add([]byte{1, 4, 0, 2, 5, 1, 9, 3, 2, 8, 1, 1, 0, 0, 0, 2, 0, 3, 1, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) < 1 || len(ops) > 300 {
			return
		}
		const g = 64 * wkib
		const granules = 128 // 8 MiB
		p := Placement(ops[0] % 2)
		w, err := NewWindow(WindowConfig{Name: "fuzz", Low: g, High: g + granules*g, Granularity: g, Placement: p,
			Occupied: []Occupied{{Range: Range{g + 40*g, 3 * g}, Kind: KindImage, Name: "dll", Committed: true}}})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		var used [granules]bool
		for i := 40; i < 43; i++ {
			used[i] = true
		}
		mark := func(r *Reservation, v bool) {
			first := (w.Emulated(r.Base()) - g) / g
			for i := range r.Size() / g {
				used[first+i] = v
			}
		}
		var live []*Reservation
		pick := func(b byte) (*Reservation, int) {
			if len(live) == 0 {
				return nil, -1
			}
			i := int(b) % len(live)
			return live[i], i
		}
		for k := 1; k+2 < len(ops); k += 3 {
			op, a, b := ops[k]%6, ops[k+1], ops[k+2]
			switch op {
			case 0: // reserve (1+b%32) granules
				n := uintptr(1 + b%32)
				want, fits := modelPlace(used[:], int(n), p)
				r, err := w.Reserve(n*g-uintptr(a%2), Options{Owner: "f"})
				if !fits {
					var nf *NoFitError
					if !errors.As(err, &nf) {
						t.Fatalf("reserve %d granules: got %v, want a NoFitError", n, err)
					}
					break
				}
				if err != nil {
					t.Fatalf("reserve %d granules: %v (model fits at granule %d)", n, err, want)
				}
				if got := (w.Emulated(r.Base()) - g) / g; got != uintptr(want) {
					t.Fatalf("reserve %d granules %v: at granule %d, model says %d", n, p, got, want)
				}
				mark(r, true)
				live = append(live, r)
			case 1: // release
				r, i := pick(a)
				if r == nil {
					break
				}
				if err := r.Release(); err != nil {
					t.Fatal(err)
				}
				mark(r, false)
				live = append(live[:i], live[i+1:]...)
			case 2, 3: // extend below or above by 1+b%8 granules
				r, _ := pick(a)
				if r == nil {
					break
				}
				n := uintptr(1 + b%8)
				first := int((w.Emulated(r.Base()) - g) / g)
				last := first + int(r.Size()/g)
				dir, lo := Below, first-int(n)
				if op == 3 {
					dir, lo = Above, last
				}
				free := lo >= 0 && lo+int(n) <= granules
				for i := lo; free && i < lo+int(n); i++ {
					free = !used[i]
				}
				err := r.Extend(dir, n*g)
				if free != (err == nil) || (err != nil && !errors.Is(err, ErrAddressTaken)) {
					t.Fatalf("extend %v by %d granules from [%d, %d): model free %v, got %v", dir, n, first, last, free, err)
				}
				if err == nil {
					mark(r, true)
				}
			case 4, 5: // commit or decommit some pages
				r, _ := pick(a)
				if r == nil {
					break
				}
				ps := r.Unit()
				off := uintptr(b) * ps % r.Size()
				n := min(uintptr(1+a%16)*ps, r.Size()-off)
				if op == 4 {
					if err := r.Commit(r.Base()+off, n); err != nil {
						t.Fatal(err)
					}
					m := windowBytes(r, off, n)
					m[0], m[n-1] = b, a
					if m[0] != b || m[n-1] != a {
						t.Fatal("committed memory does not hold data")
					}
				} else if err := r.Decommit(r.Base()+off, n); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.check(); err != nil {
				t.Fatalf("after op %d at %d: %v", op, k, err)
			}
		}
		var sum uintptr
		for _, r := range live {
			sum += r.Size()
		}
		if sum+w.FreeBytes()+3*g != granules*g {
			t.Fatalf("reserved %#x + free %#x + occupied do not make the window", sum, w.FreeBytes())
		}
	})
}

// modelPlace is the placement rule written the obvious way: scan the
// granules from the bottom (or the top) for n free in a row.
func modelPlace(used []bool, n int, p Placement) (int, bool) {
	fits := func(i int) bool {
		for j := i; j < i+n; j++ {
			if used[j] {
				return false
			}
		}
		return true
	}
	if p == TopDown {
		for i := len(used) - n; i >= 0; i-- {
			if fits(i) {
				return i, true
			}
		}
		return 0, false
	}
	for i := 0; i+n <= len(used); i++ {
		if fits(i) {
			return i, true
		}
	}
	return 0, false
}
