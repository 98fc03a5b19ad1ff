package vmem

import (
	"errors"
	"fmt"
	"testing"
)

// FuzzReservation drives one reservation with a script of commits,
// decommits, writes and extensions, and checks it against a model of what
// every page must hold: after each step the invariants hold (validate),
// every page in the committed interval is usable and reads what the model
// says, and a page outside it faults.
//
// Each script step is three bytes: operation, offset and length, in pages
// of the current reservation.
func FuzzReservation(f *testing.F) {
	f.Add([]byte{0, 0, 4, 2, 1, 1, 1, 1, 2, 1, 0, 3})                      // commit, write, decommit a hole, decommit the bottom
	f.Add([]byte{0, 10, 2, 0, 2, 2, 2, 3, 1, 1, 0, 16})                    // commit in the middle, then below
	f.Add([]byte{3, 0, 4, 0, 0, 8, 2, 2, 1, 4, 0, 4, 1, 0, 20})            // extend below, commit across pieces
	f.Add([]byte{0, 0, 16, 2, 15, 1, 1, 15, 1, 0, 15, 1, 2, 15, 1})        // lower and raise the top
	f.Add([]byte{0, 5, 1, 1, 5, 1, 0, 9, 1, 1, 9, 1, 0, 1, 1, 2, 1, 1})    // restart at different places
	f.Add([]byte{0, 0, 255, 1, 255, 255, 4, 255, 4, 0, 255, 255, 2, 0, 1}) // out of range, extend above
	f.Add([]byte{0, 0, 8, 1, 2, 2, 0, 0, 8, 1, 6, 2})                      // refill a hole, lower the top
	ps := OS().Caps().PageSize
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > 3*64 {
			script = script[:3*64]
		}
		c := OS().Caps()
		g := c.Granularity / ps // pages per granule
		r, _ := inHole(t, 4*c.Granularity, 16*c.Granularity, 4*c.Granularity, Options{})
		model := make([]byte, r.Size()/ps) // per page: the byte at its start
		live := make([]bool, r.Size()/ps)  // per page: committed and not decommitted
		for i := 0; i+3 <= len(script); i += 3 {
			op, off, n := script[i]%5, uintptr(script[i+1]), uintptr(script[i+2])
			pages := r.Size() / ps
			addr := r.Base() + off*ps
			cr := r.CommittedRange()
			var err error
			switch op {
			case 0:
				err = r.Commit(addr, n*ps)
				if err == nil {
					// Pages newly inside the interval read zero.
					ncr := r.CommittedRange()
					for p := (ncr.Base - r.Base()) / ps; p < (ncr.End()-r.Base())/ps; p++ {
						a := r.Base() + p*ps
						if !cr.Contains(a) {
							model[p] = 0
							live[p] = true
						}
						if a+ps > addr && a < addr+n*ps {
							live[p] = true
						}
					}
				}
			case 1:
				err = r.Decommit(addr, n*ps)
				if err == nil && n > 0 {
					for p := off; p < off+n && p < pages; p++ {
						model[p] = 0
						live[p] = false
					}
					if c.RecommitAfterDecommit {
						if ncr := r.CommittedRange(); ncr.Size > 0 {
							err = r.Commit(ncr.Base, ncr.Size)
							for p := (ncr.Base - r.Base()) / ps; p < (ncr.End()-r.Base())/ps; p++ {
								live[p] = true
							}
						}
					}
				}
			case 2:
				if off < pages && cr.Contains(addr) {
					v := byte(i/3 + 1)
					mem(r)[off*ps] = v
					model[off] = v
				}
				continue
			case 3, 4:
				dir := Direction(op - 3)
				n %= 8 * g // stay inside the hole most of the time
				before := r.Size()
				err = r.Extend(dir, n*ps)
				if errors.Is(err, ErrAddressTaken) {
					err = nil // past the hole: fine
				}
				if grown := (r.Size() - before) / ps; grown > 0 {
					if dir == Below {
						model = append(make([]byte, grown), model...)
						live = append(make([]bool, grown), live...)
					} else {
						model = append(model, make([]byte, grown)...)
						live = append(live, make([]bool, grown)...)
					}
				}
			}
			if err != nil && !errors.Is(err, ErrOutOfRange) && !errors.Is(err, ErrInvalidSize) {
				t.Fatalf("step %d (op %d off %d n %d): %v", i/3, op, off, n, err)
			}
			validT(t, r)
			cr = r.CommittedRange()
			var want uintptr
			for p := range model {
				a := r.Base() + uintptr(p)*ps
				if cr.Contains(a) {
					if got := mem(r)[uintptr(p)*ps]; got != model[p] {
						t.Fatalf("step %d: page %d reads %d, want %d", i/3, p, got, model[p])
					}
				} else {
					model[p], live[p] = 0, false
				}
				if live[p] {
					want += ps
				}
			}
			if r.Committed() != want {
				t.Fatalf("step %d: Committed %#x, the model says %#x (interval %v, holes %v)",
					i/3, r.Committed(), want, cr, r.holes.list)
			}
			// One page on each side of the interval must fault.
			if cr.Base > r.Base() && !faults(cr.Base-ps) {
				t.Fatalf("step %d: page below the interval %v is accessible", i/3, cr)
			}
			if cr.End() < r.Range().End() && !faults(cr.End()) {
				t.Fatalf("step %d: page above the interval %v is accessible", i/3, cr)
			}
		}
	})
}

func TestHoles(t *testing.T) {
	type op struct {
		add    bool
		lo, hi uintptr
	}
	tests := []struct {
		name string
		ops  []op
		want []Range
	}{
		{"one", []op{{true, 10, 20}}, []Range{{10, 10}}},
		{"sorted", []op{{true, 30, 40}, {true, 10, 20}}, []Range{{10, 10}, {30, 10}}},
		{"adjacent merge", []op{{true, 10, 20}, {true, 20, 30}}, []Range{{10, 20}}},
		{"bridge", []op{{true, 10, 20}, {true, 30, 40}, {true, 15, 35}}, []Range{{10, 30}}},
		{"inside", []op{{true, 10, 40}, {true, 20, 30}}, []Range{{10, 30}}},
		{"cut middle", []op{{true, 10, 40}, {false, 20, 30}}, []Range{{10, 10}, {30, 10}}},
		{"cut across", []op{{true, 10, 20}, {true, 30, 40}, {false, 15, 35}}, []Range{{10, 5}, {35, 5}}},
		{"cut all", []op{{true, 10, 20}, {true, 30, 40}, {false, 0, 50}}, nil},
		{"cut nothing", []op{{true, 10, 20}, {false, 20, 30}, {false, 0, 10}}, []Range{{10, 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h holes
			for _, o := range tt.ops {
				if o.add {
					h.add(o.lo, o.hi)
				} else {
					h.cut(o.lo, o.hi)
				}
			}
			var sum uintptr
			for _, g := range h.list {
				sum += g.Size
			}
			if fmt.Sprint(h.list) != fmt.Sprint(tt.want) || sum != h.bytes {
				t.Fatalf("got %v (%d bytes counted, %d summed), want %v", h.list, h.bytes, sum, tt.want)
			}
		})
	}
}
