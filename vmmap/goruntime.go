package vmmap

import (
	"debug/buildinfo"
	"io"
	"sort"
	"strings"
)

// Recognising the Go runtime's memory other than its heap.
//
// Besides its heap arenas (goheap.go), the Go runtime maps memory for
// itself: the page allocator's summaries and scavenger index (address
// space reserved at start-up, committed page by page as the heap grows),
// the heap arena index, and small metadata (persistentalloc chunks, GC
// bits, OS thread stacks). Where the kernel allows, Go 1.25+ names each
// mapping ("[anon: Go: page summary]"), and the name settles it: goNamed.
// The runtime exports no addresses for the rest (runtime/metrics reports
// sizes only), so without names the big reservations are recognised by the
// sizes the runtime gives them (recogniseGoRuntime below), and only in a
// process known to be a Go program: one whose executable carries Go's
// build information (goProgram). A Go library loaded into a program of
// another language (-buildmode=c-shared) is not recognised.
//
// The shapes, on 64-bit Linux (heapAddrBits 48, 4 MiB page allocator
// chunks, 8-byte entries; runtime/mpagealloc_64bit.go and malloc.go):
//
//   - the index block: the runtime reserves, one after the other at
//     start-up, the five levels of page summaries (128 KiB, 1 MiB, 8 MiB,
//     64 MiB, 512 MiB) and the scavenger index (512 MiB), and the kernel
//     places them below one another, so their mappings merge into one
//     run: PROT_NONE, with the pages that index the heap committed in it.
//     Linux 6.7+ aligns the four larger reservations to 2 MiB, which can
//     leave a hole above them. The block is a span of that run from a
//     reserved mapping to a reserved mapping of exactly goIndexBytes, or
//     of goIndexBytes less the smallest levels (1096 MiB, when a hole cut
//     them off, or 1097 MiB, when the smallest level is wholly committed);
//   - the smallest levels, when a hole cut them off: within
//     goIndexHole above the block, a span from a reserved mapping to a
//     reserved mapping of exactly 1 MiB (the second level) or 1.125 MiB;
//   - the heap arena index: a read-write mapping of exactly 32 MiB (the
//     arena index's second level), or 33 MiB with the page allocator's
//     first 1 MiB chunk index merged, directly below the block, where the
//     kernel places it at the heap's first growth.
//
// The runtime's smaller allocations (persistentalloc chunks, GC bits, OS
// thread stacks) are committed memory of no recognisable size and stay
// Private Data. Nothing else in a Go process is known to make spans of
// these exact sizes, but a program's own mmap could; hence a heuristic.

// goNamed classifies a mapping the Go runtime named "Go: NAME": its heap
// ("heap", and "heap reservation" for address space reserved for the heap)
// is Go heap, its stacks are Stack, anything else is the runtime's own.
func goNamed(name string) (Type, string) {
	switch {
	case name == "heap" || name == "heap reservation":
		return GoHeap, GoHeapOwner
	case strings.Contains(name, "stack"):
		return Stack, ""
	}
	return PrivateData, GoRuntimeOwner
}

// Sizes of the Go runtime's reservations on 64-bit Linux (see above).
const (
	goSummaryBytes   = (1<<14 + 1<<17 + 1<<20 + 1<<23 + 1<<26) * 8 // page summaries, levels 0-4
	goScavIndexBytes = (1 << 26) * 8                               // scavenger index: 8 bytes per 4 MiB chunk
	goIndexBytes     = goSummaryBytes + goScavIndexBytes           // 1,097.125 MiB
	goSmallLevel     = (1 << 14) * 8                               // the first summary level, 128 KiB
	goSmallLevels    = goSmallLevel + (1<<17)*8                    // the first two, 1.125 MiB
	goHeapIndexBytes = (1 << 22) * 8                               // the arena index's second level, 32 MiB
	goChunkIndex     = 1 << 20                                     // one block of the page allocator's chunk index
	goIndexHole      = 4 << 20                                     // farthest the smallest levels lie above the block
)

// goProgram reports whether the executable of process pid
// (P/exe) carries Go's build information. A process whose executable
// cannot be read (another user's) is not taken for one.
func (p Proc) goProgram(pid string) bool {
	f, err := p.FS.Open(pid + "/exe")
	if err != nil {
		return false
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return false
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	_, err = buildinfo.Read(ra)
	return err == nil
}

// recogniseGoRuntime gives the Go runtime's reservations, among the
// anonymous private mappings no other rule has claimed, to
// GoRuntimeOwner. Call it only for a Go program (see the top of the file).
func recogniseGoRuntime(rs []Region) {
	free := func(i int) bool {
		return i >= 0 && i < len(rs) && isAnonPrivate(rs[i]) && rs[i].Owner == ""
	}
	lo, hi, ok := reservedSpan(rs, free, 0, []uint64{goIndexBytes - goSmallLevels, goIndexBytes - goSmallLevel, goIndexBytes})
	if !ok {
		return
	}
	markOwned(rs, lo, hi, GoRuntimeOwner)
	if b := lo - 1; free(b) && rs[b].End == rs[lo].Start && rs[b].Perms == "rw-p" &&
		(rs[b].Size() == goHeapIndexBytes || rs[b].Size() == goHeapIndexBytes+goChunkIndex) {
		markOwned(rs, b, b, GoRuntimeOwner)
	}
	if rs[hi].End-rs[lo].Start != goIndexBytes-goSmallLevels {
		return
	}
	top := rs[hi].End
	k := hi + 1
	for k < len(rs) && rs[k].Start < top+goIndexHole {
		k++
	}
	if lo2, hi2, ok := reservedSpan(rs[:k], free, hi+1, []uint64{goSmallLevels - goSmallLevel, goSmallLevels}); ok {
		markOwned(rs, lo2, hi2, GoRuntimeOwner)
	}
}

// reservedSpan finds, from rs[from] up, the first span of contiguous
// regions for which free holds that starts and ends with a reserved region
// and is one of sizes (ascending) long; it returns its first and last
// index. A process of tens of thousands of adjacent anonymous mappings
// (a JVM's, a .NET's, BenchmarkAtScale's) has runs of as many: each
// candidate start finds its ends by binary search within its run, not by
// walking it.
func reservedSpan(rs []Region, free func(int) bool, from int, sizes []uint64) (int, int, bool) {
	runEnd := -1 // the last index of the run of contiguous free regions holding lo
	for lo := from; lo < len(rs); lo++ {
		if !free(lo) {
			continue
		}
		if lo > runEnd {
			runEnd = lo
			for runEnd+1 < len(rs) && free(runEnd+1) && rs[runEnd+1].Start == rs[runEnd].End {
				runEnd++
			}
		}
		if rs[lo].State != StateReserved {
			continue
		}
		for _, n := range sizes {
			end := rs[lo].Start + n
			if end < rs[lo].Start {
				break // past the top of the address space
			}
			hi := lo + sort.Search(runEnd-lo+1, func(k int) bool { return rs[lo+k].End >= end })
			if hi <= runEnd && rs[hi].End == end && rs[hi].State == StateReserved {
				return lo, hi, true
			}
		}
	}
	return 0, 0, false
}

// markOwned gives rs[lo..hi] to owner as one block.
func markOwned(rs []Region, lo, hi int, owner string) {
	for k := lo; k <= hi; k++ {
		rs[k].Owner, rs[k].Base = owner, rs[lo].Start
	}
}
