package heap

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// bigSize converts a size that needs 64 bits; 32-bit hosts get 0 and the
// tests that use it skip there (skip32).
func bigSize(n uint64) int {
	if strconv.IntSize < 64 {
		return 0
	}
	return int(n)
}

func skip32(t *testing.T) {
	if strconv.IntSize < 64 {
		t.Skip("needs a 64-bit address space")
	}
}

// raceEnabled is set by race_test.go in -race builds, whose shadow memory
// makes address-space limits meaningless.
var raceEnabled bool

// TestMetadataFollowsUse checks that bookkeeping follows what a heap uses,
// not what it reserves: at most 1/64 of the heap's reservations plus a few
// chunks of address space, and committed only for pages in use, through
// Compact too.
func TestMetadataFollowsUse(t *testing.T) {
	const slack = 512 << 10 // a few chunks and two guards
	tests := []struct {
		name       string
		o          Options
		fill       int // bytes allocated in 300-byte blocks
		maxCommit  uint64
		compactMax uint64 // metadata committed after Compact
	}{
		{"default heap, empty", Options{Name: "meta-default"}, 0, 512 << 10, 512 << 10},
		{"default heap, 256 MiB used", Options{Name: "meta-grown"}, 256 << 20, 8 << 20, 8 << 20},
		{"1 TiB reserve, one block", Options{Name: "meta-1tib", Reserve: bigSize(1 << 40)}, 300, 1 << 20, 1 << 20},
		{"64 GiB reserve, one block", Options{Name: "meta-64gib", Reserve: bigSize(64 << 30)}, 300, 1 << 20, 1 << 20},
		{"fixed 64 GiB, one block", Options{Name: "meta-fixed", Maximum: bigSize(64 << 30)}, 300, 1 << 20, 1 << 20},
	}
	skip32(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, tt.o)
			for n := 0; n < tt.fill; n += 300 {
				if _, err := h.Alloc(300); err != nil {
					t.Fatal(err)
				}
			}
			st := h.Stats()
			if limit := st.Reserved/64 + slack; st.MetaReserved > limit {
				t.Errorf("metadata reserves %d KiB for %d KiB of heap, want at most %d KiB", st.MetaReserved>>10, st.Reserved>>10, limit>>10)
			}
			if st.MetaCommitted > tt.maxCommit {
				t.Errorf("metadata commits %d KiB, want at most %d KiB (%v)", st.MetaCommitted>>10, tt.maxCommit>>10, st)
			}
			start := time.Now()
			if _, err := h.Compact(); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			st = h.Stats()
			if st.MetaCommitted > tt.compactMax || st.MetaResident > tt.compactMax {
				t.Errorf("after Compact (%v) metadata commits %d KiB, %d KiB resident, want at most %d KiB",
					took, st.MetaCommitted>>10, st.MetaResident>>10, tt.compactMax>>10)
			}
			mustValidate(t, h)
		})
	}
}

// manyHeapsEnv runs TestManyHeapsUnderAddressLimit's child.
const manyHeapsEnv = "ZEBRA_MANY_HEAPS_CHILD"

// TestManyHeapsUnderAddressLimit creates 1,000 default heaps, each with a
// block, in a child process whose address space is limited to 8 GiB
// (ulimit -v 8G): the heaps' bookkeeping must not exhaust it, nor starve
// the Go runtime.
func TestManyHeapsUnderAddressLimit(t *testing.T) {
	if os.Getenv(manyHeapsEnv) == "1" {
		if err := limitAddressSpace(8 << 30); err != nil {
			t.Fatal(err)
		}
		hs := make([]*Heap, 1000)
		for i := range hs {
			h, err := New(Options{Name: fmt.Sprintf("many-%d", i)})
			if err != nil {
				t.Fatalf("heap %d: %v", i, err)
			}
			if _, err := h.Alloc(300); err != nil {
				t.Fatalf("heap %d: %v", i, err)
			}
			hs[i] = h
		}
		st := hs[0].Stats()
		fmt.Printf("heap 0 of 1000: %v\n", st)
		for _, h := range hs {
			if err := h.Destroy(); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory does not fit an address-space limit")
	}
	if !canLimitAddressSpace {
		t.Skip("no address-space limit on this OS")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestManyHeapsUnderAddressLimit$", "-test.v")
	cmd.Env = append(os.Environ(), manyHeapsEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("1,000 heaps under an 8 GiB address-space limit: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
