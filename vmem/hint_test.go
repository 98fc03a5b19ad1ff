package vmem

import "testing"

// TestHint checks Options.Hint in the host space and in both window
// placements: a free, aligned hint is taken exactly; a hint on a range in
// use, a misaligned one and one past the window are ignored, and the
// reservation is placed as without a hint.
func TestHint(t *testing.T) {
	spaces := []struct {
		name  string
		space Space
	}{
		{"host", OS()},
		{"window bottom-up", testWindow(t, BottomUp)},
		{"window top-down", testWindow(t, TopDown)},
	}
	for _, sp := range spaces {
		t.Run(sp.name, func(t *testing.T) {
			g := sp.space.Caps().Granularity
			size := 4 * g
			// A free range: reserve three sizes, release them, hint at
			// the middle one.
			probe, err := sp.space.Reserve(3*size, Options{})
			if err != nil {
				t.Fatal(err)
			}
			free := probe.Base() + size
			if err := probe.Release(); err != nil {
				t.Fatal(err)
			}
			taken, err := sp.space.Reserve(size, Options{Owner: "taken"})
			if err != nil {
				t.Fatal(err)
			}
			defer taken.Release()
			tests := []struct {
				name  string
				hint  uintptr
				exact bool
			}{
				{"free", free, true},
				{"in use", taken.Base(), false},
				{"misaligned", free + g/2, false},
				{"wraps", ^uintptr(0) - g + 1, false},
			}
			if taken.Range().Contains(free) {
				t.Skipf("the space placed %v over the free range", taken.Range())
			}
			for _, tc := range tests {
				r, err := sp.space.Reserve(size, Options{Hint: tc.hint, Owner: "hinted"})
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if got := r.Base() == tc.hint; got != tc.exact {
					t.Errorf("%s: hint %#x gave base %#x", tc.name, tc.hint, r.Base())
				}
				if r.Range().Contains(taken.Base()) {
					t.Errorf("%s: reservation %v overlaps one in use", tc.name, r.Range())
				}
				if err := r.Release(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
