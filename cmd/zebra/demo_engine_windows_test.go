//go:build windows

package main

import (
	"testing"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
)

// holesWhere returns the free blocks after the destroy inside the range
// the destroyed heap spanned before it. The demo's own span, from the
// lowest to the highest address of any heap, is useless under Wine, which
// puts sub-heaps of 128 MiB and more near the top of the address space:
// it would count terabytes of free space between.
func holesWhere(t *testing.T, r result, owner string) (n int, largest uint64) {
	t.Helper()
	var span vmmap.AddrRange
	for _, reg := range r.before.Regions {
		if reg.Owner == owner && reg.Type != vmmap.Free {
			if span.End == 0 {
				span.Start = reg.Start
			}
			span.Start, span.End = min(span.Start, reg.Start), max(span.End, reg.End)
		}
	}
	in, err := r.after.WithSpan(span)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range vmmap.FreeBlocks(in) {
		n++
		largest = max(largest, f.Size())
	}
	return n, largest
}

// TestDemoEngineNT runs the demo's scenarios on the real NT heap in this
// process (under Wine in CI) and checks PoC.HeapReserve's findings that hold
// there too: the reserved heap's reserve is one range, and destroying the
// heap without reserve frees address space in more than one piece, none
// as large as what it held.
func TestDemoEngineNT(t *testing.T) {
	c := defaultDemo(t, "--engine", "nt") // --space process by default
	for _, sc := range demoScenarios(c) {
		r, err := runScenario(c, sc, nil)
		if err != nil {
			t.Fatalf("%s: %v", sc.title, err)
		}
		holes, largest := holesWhere(t, r, heapName(0))
		t.Logf("%-20s ranges of %s %2d; where %s was: %2d free blocks, largest %s of %s freed; %v",
			r.Scenario, r.Survivor, r.SurvivorRanges, heapName(0), holes, units.Bytes(largest), units.Bytes(r.Freed), r.Elapsed)
		if r.Freed < c.total {
			t.Errorf("%s: the destroy freed %s, want at least %s", sc.title, units.Bytes(r.Freed), units.Bytes(c.total))
		}
		switch sc.key {
		case "windows", "windows-reserve":
			if holes < 2 || largest >= r.Freed {
				t.Errorf("%s: %d free blocks, largest %s of %s freed: want the freed space in pieces",
					sc.title, holes, units.Bytes(largest), units.Bytes(r.Freed))
			}
		}
		if sc.key == "windows-reserve" {
			o := survivorStats(t, r, r.before)
			var largest uint64
			for _, rg := range o.Ranges {
				largest = max(largest, rg.Size())
			}
			if largest < c.reserve {
				t.Errorf("%s: %s's largest range is %s, want its %s reserve in one range",
					sc.title, r.Survivor, units.Bytes(largest), units.Bytes(c.reserve))
			}
		}
	}
}
