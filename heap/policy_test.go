package heap

import (
	"slices"
	"testing"

	"github.com/zebra-heap/zebra/vmem"
)

// win32 returns an emulated 2 GiB Windows address space, closed after the
// test.
func win32(t testing.TB) *vmem.Window {
	t.Helper()
	w, err := vmem.NewWindow(vmem.Win32())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// inUse is Stats().InUse without the cost of measuring residency.
func inUse(h *Heap) uint64 {
	return h.Stats().InUse
}

// fillTo allocates n-byte blocks in h until it holds total bytes.
func fillTo(t testing.TB, h *Heap, n int, total uint64) {
	t.Helper()
	for inUse(h) < total {
		for i := 0; i < 1000; i++ {
			if _, err := h.Alloc(n); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func sizesMiB(rs []vmem.Range) []uintptr {
	var out []uintptr
	for _, r := range rs {
		out = append(out, r.Size>>20)
	}
	return out
}

// TestNTInterleaves reproduces PoC.HeapReserve: two growable heaps with
// the NT policy, allocating alternately, grow in segments of 1, 2, 4, 8, 8…
// MiB that interleave in the address space — the zebra.
func TestNTInterleaves(t *testing.T) {
	w := win32(t)
	a := mustNew(t, Options{Name: "A", Space: w, Policy: NT})
	b := mustNew(t, Options{Name: "B", Space: w, Policy: NT})
	for step := uint64(1); step <= 40; step++ {
		fillTo(t, a, 300, step<<20)
		fillTo(t, b, 300, step<<20)
	}
	for _, h := range []*Heap{a, b} {
		segs := h.Segments()
		slices.SortFunc(segs, func(x, y vmem.Range) int { return int(x.Base>>16) - int(y.Base>>16) })
		got := sizesMiB(segs)
		want := []uintptr{1, 2, 4, 8, 8, 8, 8, 8}
		if len(got) > len(want) {
			want = append(want, 8)
		}
		if !slices.Equal(got, want[:len(got)]) || len(got) < 6 {
			t.Errorf("%s: segments of %v MiB, want %v", h.Name(), got, want)
		}
		mustValidate(t, h)
	}
	// Every segment of one heap is followed by one of the other.
	type seg struct {
		base  uintptr
		owner string
	}
	var all []seg
	for _, h := range []*Heap{a, b} {
		for _, r := range h.Segments() {
			all = append(all, seg{r.Base, h.Name()})
		}
	}
	slices.SortFunc(all, func(x, y seg) int { return int(x.base>>16) - int(y.base>>16) })
	for i := 1; i < len(all); i++ {
		if all[i].owner == all[i-1].owner {
			t.Errorf("segments %d and %d both belong to %s: no zebra", i-1, i, all[i].owner)
		}
	}
	if st := a.Stats(); st.Ranges != st.Segments {
		t.Errorf("A: %d ranges for %d segments; NT segments are separate", st.Ranges, st.Segments)
	}
}

// TestNTHugeBlocks: with NT, a block above the threshold gets its own
// reservation, and a heap with a reserve gets NT segments beyond it.
func TestNTAfterReserve(t *testing.T) {
	w := win32(t)
	h := mustNew(t, Options{Name: "R", Space: w, Policy: NT, Reserve: 16 << 20})
	fillTo(t, h, 300, 16<<20+3<<20)
	got := sizesMiB(h.Segments())
	if !slices.Equal(got, []uintptr{16, 1, 2, 4}) && !slices.Equal(got, []uintptr{16, 1, 2}) {
		t.Errorf("segments %v MiB, want 16 then 1, 2(, 4)", got)
	}
	p, err := h.Alloc(2 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.HugeBlocks != 1 {
		t.Errorf("a 2 MiB block: %d huge blocks, want 1", st.HugeBlocks)
	}
	if err := h.Free(p); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, h)
}

// TestReserveIsOneRange: a heap with reserve R stays one range until R is
// used, whatever the policy.
func TestReserveIsOneRange(t *testing.T) {
	for _, p := range []Policy{Default, NT, Fixed} {
		t.Run(p.String(), func(t *testing.T) {
			w := win32(t)
			other := mustNew(t, Options{Name: "other", Space: w, Policy: NT})
			h := mustNew(t, Options{Name: "reserved", Space: w, Policy: p, Reserve: 32 << 20})
			for inUse(h) < 31<<20 {
				fillTo(t, h, 300, inUse(h)+1<<20)
				fillTo(t, other, 300, inUse(h))
				if st := h.Stats(); st.Ranges != 1 || st.Reserved != 32<<20 {
					t.Fatalf("at %d MiB in use: %d ranges, %d reserved", st.InUse>>20, st.Ranges, st.Reserved)
				}
			}
			mustValidate(t, h)
		})
	}
}

// TestDefaultFewRanges: with the Default policy a heap that grows 4× past
// its reserve is in at most 4 ranges, even when another heap grows at the
// same time.
func TestDefaultFewRanges(t *testing.T) {
	spaces := map[string]vmem.Space{"os": vmem.OS(), "win32": win32(t)}
	for name, space := range spaces {
		t.Run(name, func(t *testing.T) {
			other := mustNew(t, Options{Name: "other", Space: space, Policy: NT})
			h := mustNew(t, Options{Name: "default", Space: space, Reserve: 8 << 20})
			for inUse(h) < 32<<20 {
				fillTo(t, h, 3000, inUse(h)+1<<20)
				fillTo(t, other, 300, inUse(h)/4)
			}
			st := h.Stats()
			t.Logf("%d segments, %d ranges, %d MiB reserved", st.Segments, st.Ranges, st.Reserved>>20)
			if st.Ranges > 4 {
				t.Errorf("%d ranges after growing 4× past the reserve: %v", st.Ranges, h.Ranges())
			}
			mustValidate(t, h)
		})
	}
}

func TestFixedPolicySegments(t *testing.T) {
	w := win32(t)
	h := mustNew(t, Options{Name: "fixed", Space: w, Policy: Fixed, SegmentReserve: 2 << 20})
	fillTo(t, h, 1000, 7<<20)
	got := sizesMiB(h.Segments())
	for _, s := range got {
		if s != 2 {
			t.Errorf("segments %v MiB, want all 2", got)
			break
		}
	}
}

// TestDestroyReturnsWindow: after Destroy the window has the heap's
// address space back in one piece.
func TestDestroyReturnsWindow(t *testing.T) {
	w := win32(t)
	before := w.Largest()
	h, err := New(Options{Name: "gone", Space: w, Reserve: 150 << 20})
	if err != nil {
		t.Fatal(err)
	}
	fillTo(t, h, 300, 100<<20)
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	if after := w.Largest(); after != before {
		t.Errorf("largest free block %d before, %d after Destroy", before, after)
	}
	for _, info := range vmem.Live() {
		if info.Owner == "gone" || info.Owner == "gone (metadata)" {
			t.Errorf("reservation %v of the destroyed heap is still live", info.Range())
		}
	}
}
