package heap

import (
	"errors"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"", true}, // heap-N
		{"cache", true},
		{"données ✓", true},
		{strings.Repeat("n", MaxNameLen), true},
		{"Go heap 2", true},
		{"my [heap]", true},

		{strings.Repeat("n", MaxNameLen+1), false},
		{"two\nlines", false},
		{"tab\there", false},
		{"red \x1b[31mA\x1b[0m", false},
		{"bell\a", false},
		{"\u200b", false}, // zero-width space: invisible in a map
		{"bad \xff utf8", false},
		{"Go heap", false},
		{"go HEAP", false},
		{"[heap]", false},
		{"glibc arena", false},
		{"jemalloc arena", false},
		{"mimalloc arena", false},
		{"Java heap", false},
		{"JIT code", false},
		{"process heap 0", false},
		{"Process Heap 12", false},
		{"cache (metadata)", false},
	}
	for _, tt := range tests {
		_, err := Options{Name: tt.name}.config()
		if tt.ok && err != nil {
			t.Errorf("%q: %v, want accepted", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q: err = %v, want ErrInvalidName", tt.name, err)
		}
	}
}

// TestDuplicateNames checks that two heaps may share a name, each with its
// own reservations.
func TestDuplicateNames(t *testing.T) {
	a := mustNew(t, Options{Name: "twin"})
	b := mustNew(t, Options{Name: "twin"})
	defer a.Destroy()
	defer b.Destroy()
	if a.res[0].Base() == b.res[0].Base() {
		t.Errorf("two heaps named twin share base %#x", a.res[0].Base())
	}
}
