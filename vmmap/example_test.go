package vmmap_test

import (
	"fmt"
	"os"
	"time"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
)

// zebraSnapshot is the PoC.HeapReserve experiment in miniature: heaps A and B grew
// at the same time in 8 MiB segments that alternate, inside a 64 MiB span.
func zebraSnapshot() *vmmap.Snapshot {
	s := &vmmap.Snapshot{Source: "example", Span: vmmap.AddrRange{Start: 0x10000000, End: 0x14000000}}
	for i := uint64(0); i < 6; i++ {
		start := s.Span.Start + i*8<<20
		owner := []string{"heap A", "heap B"}[i%2]
		s.Regions = append(s.Regions, vmmap.Region{
			Start: start, End: start + 8<<20, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: owner,
		})
	}
	s.Regions = append(s.Regions, vmmap.Region{Start: 0x13000000, End: 0x14000000, Type: vmmap.Free})
	return s
}

func ExampleOwners() {
	s := zebraSnapshot()
	for _, o := range vmmap.Owners(s) {
		fmt.Printf("%s: %d stripes, alternation %d, %s\n", o.Owner, o.Stripes, o.Alternation, units.Bytes(o.Bytes))
	}
	fmt.Println("zebra score", vmmap.ZebraScore(s))
	// Output:
	// heap A: 3 stripes, alternation 2, 24 MiB
	// heap B: 3 stripes, alternation 2, 24 MiB
	// zebra score 5
}

// Destroying heap A frees 24 MiB, but in three holes: the largest free
// block is the 16 MiB above the zebra.
func ExampleFreeBlocks() {
	s := zebraSnapshot()
	var kept []vmmap.Region
	for _, r := range s.Regions {
		if r.Owner != "heap A" {
			kept = append(kept, r)
		}
	}
	s.Regions = kept
	s, _ = s.WithSpan(s.Span) // recompute the free gaps
	for _, r := range vmmap.FreeBlocks(s) {
		fmt.Printf("%#x %s\n", r.Start, units.Bytes(r.Size()))
	}
	// Output:
	// 0x13000000 16 MiB
	// 0x10000000 8 MiB
	// 0x11000000 8 MiB
	// 0x12000000 8 MiB
}

func ExampleSummarize() {
	s, err := vmmap.NewProc("testdata/anon/proc").Snapshot("4242")
	if err != nil {
		fmt.Println(err)
		return
	}
	sum := vmmap.Summarize(s)
	for _, t := range []vmmap.Type{vmmap.Heap, vmmap.GoHeap, vmmap.Free} {
		r := sum.Row(t)
		fmt.Printf("%-8s size %-10s committed %-8s resident %-8s blocks %d largest %s\n", t, units.Bytes(r.Size),
			units.Bytes(r.Committed), units.Bytes(r.Resident), r.Blocks, units.Bytes(r.Largest))
	}
	// Output:
	// Heap     size 22 MiB     committed 15 MiB   resident 10 MiB   blocks 7 largest 8 MiB
	// Go heap  size 64 MiB     committed 4 MiB    resident 4 MiB    blocks 1 largest 64 MiB
	// Free     size 127.2 TiB  committed 0 B      resident 0 B      blocks 7 largest 89.2 TiB
}

func ExampleNewProc() {
	s, err := vmmap.NewProc("testdata/arenas/proc").Snapshot("25938")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Source)
	fmt.Println("span", s.Span, "VMAs", s.VMAs, "of", s.MaxMapCount)
	for _, o := range vmmap.Owners(s) {
		fmt.Println(o.Owner, o.Ranges)
	}
	// Output:
	// linux pid 25938 (arenas)
	// span 0x5557eed13000-0x7fff39a47000 VMAs 40 of 65530
	// [heap] [0x55581ff9e000-0x55581ffbf000]
	// glibc arena [0x7f6100000000-0x7f6104000000 0x7f6104000000-0x7f6108000000 0x7f6108000000-0x7f610c000000 0x7f6110000000-0x7f6114000000]
}

func ExampleParseRange() {
	r, err := vmmap.ParseRange("0x7f0000000000-0x7f0040000000")
	fmt.Println(r, units.Bytes(r.Size()), err)
	_, err = vmmap.ParseRange("0x2000-0x1000")
	fmt.Println(err)
	// Output:
	// 0x7f0000000000-0x7f0040000000 1 GiB <nil>
	// invalid address range: "0x2000-0x1000" is empty
}

func ExampleDiff() {
	before := zebraSnapshot()
	after := zebraSnapshot()
	after.Regions = after.Regions[1:] // heap A's first segment released
	for _, c := range vmmap.Diff(before, after) {
		fmt.Println(c)
	}
	// Output:
	// vanished 0x10000000-0x10800000 Heap heap A, 8 MiB
}

func ExampleWriteJSON() {
	s := &vmmap.Snapshot{
		Source: "window demo", Taken: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Span: vmmap.AddrRange{Start: 0x10000, End: 0x30000}, Granularity: 65536,
		Regions: []vmmap.Region{
			{Start: 0x10000, End: 0x20000, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: "heap A", Committed: 65536},
			{Start: 0x20000, End: 0x30000, Type: vmmap.Free, State: vmmap.StateFree},
		},
	}
	vmmap.WriteJSON(os.Stdout, s)
	// Output:
	// {
	//   "schema": "zebra.vmmap/v1",
	//   "source": "window demo",
	//   "taken": "2026-01-01T00:00:00Z",
	//   "span": {
	//     "start": "0x10000",
	//     "end": "0x30000"
	//   },
	//   "granularity": 65536,
	//   "vmas": 0,
	//   "regions": [
	//     {
	//       "start": "0x10000",
	//       "end": "0x20000",
	//       "type": "Heap",
	//       "state": "committed",
	//       "owner": "heap A",
	//       "committed": 65536
	//     },
	//     {
	//       "start": "0x20000",
	//       "end": "0x30000",
	//       "type": "Free",
	//       "state": "free"
	//     }
	//   ]
	// }
}
