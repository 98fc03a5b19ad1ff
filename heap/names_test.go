package heap

import (
	"errors"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/vmem"
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

// TestDuplicateNames checks that heaps may share a name, each with its own
// reservations and an owner name of its own in maps ("twin", "twin #2"…,
// the first free), which a destroyed heap gives back.
func TestDuplicateNames(t *testing.T) {
	a := mustNew(t, Options{Name: "twin"})
	b := mustNew(t, Options{Name: "twin"})
	c := mustNew(t, Options{Name: "twin"})
	defer a.Destroy()
	defer c.Destroy()
	if a.res[0].Base() == b.res[0].Base() {
		t.Errorf("two heaps named twin share base %#x", a.res[0].Base())
	}
	tests := []struct {
		h     *Heap
		owner string
	}{{a, "twin"}, {b, "twin #2"}, {c, "twin #3"}}
	for _, tt := range tests {
		if tt.h.Name() != "twin" || tt.h.Owner() != tt.owner {
			t.Errorf("heap named %q has owner %q, want %q", tt.h.Name(), tt.h.Owner(), tt.owner)
		}
		// Every reservation of the heap carries its owner name, so that
		// maps tell the heaps apart; in the host's space the heap's
		// metadata is in the shared pool, in no reservation of its own.
		mine := vmem.Select(func(owner, _ string, r vmem.Range) bool {
			return owner == tt.owner || owner == MetadataOwner(tt.owner)
		})
		data, meta := 0, 0
		for _, in := range mine {
			if in.Owner == tt.owner {
				data++
			} else {
				meta++
			}
		}
		if data == 0 || (meta > 0) == tt.h.meta.pooled {
			t.Errorf("%s: %d data and %d metadata reservations in vmem.Live (metadata pooled: %v)", tt.owner, data, meta, tt.h.meta.pooled)
		}
	}
	if err := b.Destroy(); err != nil {
		t.Fatal(err)
	}
	d := mustNew(t, Options{Name: "twin"})
	defer d.Destroy()
	if d.Owner() != "twin #2" {
		t.Errorf("after twin #2 was destroyed, a new twin is %q, want twin #2 again", d.Owner())
	}
	if (*Heap)(nil).Owner() != "" {
		t.Error("a nil heap has an owner")
	}
}

// TestOwnerAfterFailedNew: a New that fails gives its owner name back.
func TestOwnerAfterFailedNew(t *testing.T) {
	w, err := vmem.NewWindow(vmem.WindowConfig{Name: "owner-fail", Low: 1 << 20, High: 65 << 20, Granularity: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Two 40 MiB reserves do not fit a 64 MiB window: the second New
	// fails reserving, after it took its owner name ("solo-fail #2").
	first := mustNew(t, Options{Name: "solo-fail", Space: w, Reserve: 40 << 20})
	defer first.Destroy()
	if _, err := New(Options{Name: "solo-fail", Space: w, Reserve: 40 << 20}); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("a second 40 MiB reserve in a 64 MiB window: %v, want ErrNoMemory", err)
	}
	h := mustNew(t, Options{Name: "solo-fail", Space: w, Reserve: 1 << 20})
	defer h.Destroy()
	if h.Owner() != "solo-fail #2" {
		t.Errorf("after a failed New, the next same-named heap is %q, want solo-fail #2", h.Owner())
	}
}
