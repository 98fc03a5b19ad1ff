package heap

import (
	"fmt"
	"testing"

	"github.com/zebra-heap/zebra/vmem"
)

// TestDefaultFillsA32BitWindowLikeNT fills heaps growing together in a
// 2 GiB window with a typical process's layout, as `zebra demo --total
// 920MiB` and `zebra demo --heaps 48 --total 16MiB` do, with its 300-byte
// blocks: NT heaps fit, so Default heaps must fit too. Before stepCap,
// Default doubled its reservations without bound and the first heap held
// 1 GiB of address space for 920 MiB of blocks, leaving the second no room;
// before the cap was shared among the heaps of a space and their metadata
// planned for their share of it (config.plan), 48 Default heaps reserved
// 900 MiB of metadata and tails of up to 16 MiB each, and ran out at 15 MiB.
func TestDefaultFillsA32BitWindowLikeNT(t *testing.T) {
	if is32bit {
		t.Skip("a 2 GiB window does not fit a 32-bit host")
	}
	const block = 300
	for _, tc := range []struct {
		policy Policy
		heaps  int
		total  int
	}{
		{NT, 2, 920 << 20},
		{Default, 2, 920 << 20},
		{Default, 3, 600 << 20},
		{NT, 48, 16 << 20},
		{Default, 48, 16 << 20},
	} {
		t.Run(fmt.Sprintf("%v/%d heaps", tc.policy, tc.heaps), func(t *testing.T) {
			w, err := vmem.NewWindow(vmem.Win32().WithTypicalProcess())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			hs := make([]*Heap, tc.heaps)
			for i := range hs {
				if hs[i], err = New(Options{Space: w, Policy: tc.policy}); err != nil {
					t.Fatal(err)
				}
				defer hs[i].Destroy()
			}
			for held := 0; held < tc.total; held += block {
				for i, h := range hs {
					if _, err := h.Alloc(block); err != nil {
						t.Fatalf("%d heaps: heap %d at %d MiB of %d MiB: %v", tc.heaps, i, held>>20, tc.total>>20, err)
					}
				}
			}
		})
	}
}

func TestStepCap(t *testing.T) {
	for _, tc := range []struct {
		caps   vmem.Caps
		others int
		want   uintptr
	}{
		{vmem.Caps{MaxAddress: 0x7FFF0000, Granularity: 64 << 10}, 1, 0x7FF0000},
		{vmem.Caps{MaxAddress: 0x7FFF0000, Granularity: 64 << 10}, 0, 0x7FF0000},
		{vmem.Caps{MaxAddress: 0x7FFF0000, Granularity: 64 << 10}, 2, 0x3FF0000},
		{vmem.Caps{MaxAddress: 0x7FFF0000, Granularity: 64 << 10}, 47, 0x2B0000},
		{vmem.Caps{MaxAddress: 0xFFFF0000, Granularity: 64 << 10}, 1, 0xFFF0000},
		{vmem.Caps{MaxAddress: 0, Granularity: 4 << 10}, 48, maxSize},
		{vmem.Caps{MaxAddress: 1 << 16, Granularity: 64 << 10}, 1, 64 << 10},
		{vmem.Caps{MaxAddress: 1 << 20, Granularity: 64 << 10}, 1000, 64 << 10},
	} {
		if got := stepCap(tc.caps, tc.others); got != tc.want {
			t.Errorf("stepCap(MaxAddress %#x, %d other heaps) = %#x, want %#x", tc.caps.MaxAddress, tc.others, got, tc.want)
		}
	}
}
