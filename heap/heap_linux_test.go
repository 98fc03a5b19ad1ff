package heap

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// rss returns the process's resident set size from /proc/self/statm.
func rss(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	var size, res uint64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		t.Fatal(err)
	}
	return res * uint64(os.Getpagesize())
}

// mapped reports whether /proc/self/maps shows a mapping that overlaps
// [lo, hi).
func mapped(t *testing.T, lo, hi uintptr) bool {
	t.Helper()
	for _, m := range selfMappings(t) {
		if m[0] < hi && lo < m[1] {
			return true
		}
	}
	return false
}

// selfMappings returns the address ranges of /proc/self/maps, in order.
func selfMappings(t *testing.T) [][2]uintptr {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]uintptr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a, b uintptr
		if _, err := fmt.Sscanf(strings.Fields(sc.Text())[0], "%x-%x", &a, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]uintptr{a, b})
	}
	return out
}

func TestReserve1GiBCostsNoRSS(t *testing.T) {
	runtime.GC()
	before := rss(t)
	h := mustNew(t, Options{Name: "big", Reserve: 1 << 30})
	p, err := h.Alloc(100)
	if err != nil {
		t.Fatal(err)
	}
	*(*byte)(p) = 1
	after := rss(t)
	st := h.Stats()
	t.Logf("RSS %d KiB -> %d KiB; %+v", before>>10, after>>10, st)
	if st.Reserved != 1<<30 || st.Ranges != 1 {
		t.Errorf("reserved %d in %d ranges, want 1 GiB in 1", st.Reserved, st.Ranges)
	}
	if after > before && after-before >= 1<<20 {
		t.Errorf("reserving 1 GiB raised RSS by %d KiB", (after-before)>>10)
	}
}

func TestDestroyUnmaps(t *testing.T) {
	for _, quarantine := range []bool{false, true} {
		t.Run(fmt.Sprint("quarantine ", quarantine), func(t *testing.T) {
			if !quarantine {
				noAddressQuarantine(t)
			}
			destroyUnmaps(t, quarantine)
		})
	}
}

// destroyUnmaps checks that Destroy unmaps every range of a heap, or, with
// the address-space quarantine, leaves each one mapped without access
// until the quarantine is turned off.
func destroyUnmaps(t *testing.T, quarantine bool) {
	h, err := New(Options{Name: "unmapped", Reserve: 64 << 20, Policy: NT, HugeBlock: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	fillTo(t, h, 300, 70<<20) // past the reserve: NT segments too
	if _, err := h.Alloc(3 << 20); err != nil {
		t.Fatal(err)
	}
	ranges := h.Ranges()
	for _, r := range ranges {
		if !mapped(t, r.Base, r.End()) {
			t.Fatalf("%v is not in /proc/self/maps while the heap lives", r)
		}
	}
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	if quarantine {
		for _, r := range ranges {
			if !mapped(t, r.Base, r.End()) || !inaccessible(t, r.Base, r.End()) {
				t.Errorf("%v is not held inaccessible after Destroy", r)
			}
		}
		old := SetAddressQuarantine(0)
		defer SetAddressQuarantine(old)
	}
	// The kernel may hand a freed hole to the next mmap at once (the Go
	// runtime's, or the race detector's): only a mapping with the bounds
	// of one of the heap's own is the heap's.
	for _, r := range ranges {
		if mappedExactly(t, r.Base, r.End()) {
			t.Errorf("%v is still in /proc/self/maps after Destroy", r)
		}
	}
}

// inaccessible reports whether every mapping inside [lo, hi) in
// /proc/self/maps is ---p.
func inaccessible(t *testing.T, lo, hi uintptr) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		var a, e uintptr
		var perms string
		if _, err := fmt.Sscanf(line, "%x-%x %s", &a, &e, &perms); err != nil {
			continue
		}
		if a < hi && lo < e && perms != "---p" {
			return false
		}
	}
	return true
}

func mappedExactly(t *testing.T, lo, hi uintptr) bool {
	t.Helper()
	next := lo
	for _, m := range selfMappings(t) {
		if m[0] == next && m[1] <= hi {
			next = m[1]
		}
	}
	return next == hi
}

// touchAll writes every page of the blocks so they become resident.
func touchAll(ps []unsafe.Pointer, n int) {
	for _, p := range ps {
		b := unsafe.Slice((*byte)(p), n)
		for i := 0; i < n; i += 1024 {
			b[i] = 1
		}
	}
}

func TestDecommitLowersRSS(t *testing.T) {
	skipUnderDebug(t)
	tests := []struct {
		name    string
		o       Options
		compact bool
	}{
		{"thresholds", Options{DecommitFreeBlock: 64 << 10, DecommitTotalFree: 1 << 20}, false},
		{"nt defaults", Options{Policy: NT, HugeBlock: 1 << 30}, false},
		{"compact", Options{DecommitFreeBlock: math.MaxInt}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, tt.o)
			var ps []unsafe.Pointer
			for i := 0; i < 32; i++ {
				p, err := h.Alloc(512 << 10)
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, p)
			}
			touchAll(ps, 512<<10)
			full := h.Stats().Resident
			for _, p := range ps {
				h.Free(p)
			}
			if tt.compact {
				if got := h.Stats().Resident; got < full/2 {
					t.Fatalf("without thresholds freeing alone dropped RSS from %d to %d", full, got)
				}
				h.Compact()
			}
			got := h.Stats().Resident
			t.Logf("resident %d KiB full, %d KiB after free", full>>10, got>>10)
			if full < 15<<20 || got > 2<<20 {
				t.Errorf("resident %d KiB full, %d KiB after free", full>>10, got>>10)
			}
			mustValidate(t, h)
			// Decommitted memory is usable again and reads as zero.
			p, err := h.Calloc(512<<10, 1)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range unsafe.Slice((*byte)(p), 512<<10) {
				if c != 0 {
					t.Fatalf("byte %d is %d", i, c)
				}
			}
		})
	}
}

// TestCompactLeavesMetadataAlone: a Compact of a heap that reserves 64 GiB
// and uses one block must not write a descriptor per page of the free run:
// the process's RSS stays put.
func TestCompactLeavesMetadataAlone(t *testing.T) {
	skip32(t)
	h := mustNew(t, Options{Name: "compact-64gib", Reserve: bigSize(64 << 30)})
	p, err := h.Alloc(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	clear(unsafe.Slice((*byte)(p), 1<<20))
	before := rss(t)
	if _, err := h.Compact(); err != nil {
		t.Fatal(err)
	}
	// Compact decommits the 1 MiB block's commit-ahead; anything else
	// would be descriptors written for never-used pages (16 bytes each:
	// 256 MiB for 64 GiB).
	if after := rss(t); after > before+256<<10 {
		t.Errorf("Compact raised RSS from %d KiB to %d KiB", before>>10, after>>10)
	}
}

// TestMappingsPerHeap: 16 heaps growing together to 8 MiB each, 1 KiB
// blocks round-robin, add at most two mappings each (a committed part and
// the rest of one reservation, thanks to lanes) and a handful shared by
// every heap (the metadata pool, the page map's leaf).
func TestMappingsPerHeap(t *testing.T) {
	skipUnderDebug(t)
	count := func() int {
		b, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(b, []byte("\n"))
	}
	const heaps, shared = 16, 6
	before := count()
	hs := make([]*Heap, heaps)
	for i := range hs {
		hs[i] = mustNew(t, Options{Name: fmt.Sprintf("lane-%d", i)})
	}
	for n := 0; n < 8<<20; n += 1 << 10 {
		for _, h := range hs {
			if _, err := h.Alloc(1 << 10); err != nil {
				t.Fatal(err)
			}
		}
	}
	if added := count() - before; added > 2*heaps+shared {
		t.Errorf("%d heaps of 8 MiB added %d mappings, want at most %d", heaps, added, 2*heaps+shared)
	}
}

// TestCommitLimitRSS fills a growable heap with a 64 MiB commit limit past
// it and checks the process's resident set: it grows by the limit at most
// (and 8 MiB for the test's own Go memory and the heap's metadata).
func TestCommitLimitRSS(t *testing.T) {
	const limit = 64 << 20
	before := rss(t)
	h, err := New(Options{Name: "limit-rss", CommitLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	fillToLimit(t, h, limit, rand.New(rand.NewPCG(1, 1)))
	if after := rss(t); after > before+limit+8<<20 {
		t.Fatalf("RSS grew by %d MiB with a 64 MiB commit limit", (after-before)>>20)
	}
}
