package vmem

import (
	"math/rand/v2"
	"testing"
)

// TestCommitCost checks CommitCost against what Commit then adds to
// Committed, after each step of scripted and random commit and decommit
// sequences, in pages of a 64-page reservation.
func TestCommitCost(t *testing.T) {
	type op struct {
		commit bool
		lo, n  uintptr // in pages
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"fresh", []op{{true, 10, 4}}},
		{"inside", []op{{true, 10, 10}, {true, 12, 2}}},
		{"above, with the gap", []op{{true, 10, 2}, {true, 20, 2}}},
		{"below, with the gap", []op{{true, 30, 2}, {true, 20, 2}}},
		{"over a hole", []op{{true, 10, 20}, {false, 14, 4}, {true, 12, 10}}},
		{"straddling the top", []op{{true, 10, 10}, {false, 12, 2}, {true, 15, 20}}},
		{"zero bytes", []op{{true, 10, 0}}},
	}
	s := OS()
	page := s.Caps().PageSize
	check := func(t *testing.T, r *Reservation, o op) {
		t.Helper()
		addr, n := r.Base()+o.lo*page, o.n*page
		if !o.commit {
			if err := r.Decommit(addr, n); err != nil {
				t.Fatal(err)
			}
			return
		}
		before, cost := r.Committed(), r.CommitCost(addr, n)
		if n == 0 {
			if cost != 0 {
				t.Fatalf("CommitCost of 0 bytes = %d", cost)
			}
			return
		}
		if err := r.Commit(addr, n); err != nil {
			t.Fatal(err)
		}
		if got := r.Committed() - before; got != cost {
			t.Fatalf("commit pages [%d, %d): CommitCost said %d pages, Committed grew by %d", o.lo, o.lo+o.n, cost/page, got/page)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.Reserve(64*page, Options{Owner: "commit-cost"})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Release()
			for _, o := range tt.ops {
				check(t, r, o)
			}
		})
	}
	t.Run("random", func(t *testing.T) {
		r, err := s.Reserve(64*page, Options{Owner: "commit-cost"})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
		rng := rand.New(rand.NewPCG(1, 2))
		for range 500 {
			lo := rng.UintN(64)
			check(t, r, op{rng.IntN(3) > 0, uintptr(lo), uintptr(rng.UintN(64-lo) + 1)})
		}
	})
	t.Run("released", func(t *testing.T) {
		r, err := s.Reserve(4*page, Options{Owner: "commit-cost"})
		if err != nil {
			t.Fatal(err)
		}
		base := r.Base()
		r.Release()
		if c := r.CommitCost(base, page); c != 0 {
			t.Fatalf("CommitCost on a released reservation = %d, want 0", c)
		}
	})
}
