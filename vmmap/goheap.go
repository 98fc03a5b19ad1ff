package vmmap

import "unsafe"

// Recognising the Go runtime's heap.
//
// Go 1.25+ names its mappings "[anon: Go: heap]" where the kernel allows
// (classify_linux.go). Otherwise the heap is found by its layout: the
// runtime reserves its heap in arenas of 64 MiB (heapArenaBytes on 64-bit
// targets), aligned to 64 MiB, growing upwards from a hint address. Before
// Go 1.26 the first hint was fixed (goArenaHints); Go 1.26 randomises it.
// In the calling process the heap is exactly the arenas around the address
// of a heap object (markGoHeap); in other processes it is the fixed hints or
// the shape of a randomised arena (isGoArenaRun).

// goArenaBytes is the runtime's heapArenaBytes on 64-bit targets.
const goArenaBytes = 64 << 20

var heapSink *[64]byte

// goHeapAddr returns an address inside the calling process's Go heap: that
// of a fresh object the compiler must place on the heap (it escapes to a
// global), unlike a package-level variable, which may be static data.
func goHeapAddr() uint64 {
	p := new([64]byte)
	heapSink = p
	a := uint64(uintptr(unsafe.Pointer(p)))
	heapSink = nil
	return a
}

// markGoHeap marks as Go heap the regions inside the 64 MiB-aligned arenas,
// entirely covered by anonymous private mappings, that are connected to the
// arena holding addr. Regions that stick out of those arenas are left
// alone, so that a neighbouring mapping is never swallowed.
func markGoHeap(rs []Region, addr uint64) {
	anon := func(r Region) bool {
		return r.Type != Free && r.Path == "" && (r.Perms == "" || r.Perms[len(r.Perms)-1] == 'p')
	}
	at := -1
	for i, r := range rs {
		if r.Start <= addr && addr < r.End && anon(r) {
			at = i
		}
	}
	if at < 0 {
		return
	}
	// Grow [lo, hi) from the region holding addr over contiguous
	// anonymous private regions.
	i, j := at, at
	for i > 0 && anon(rs[i-1]) && rs[i-1].End == rs[i].Start {
		i--
	}
	for j+1 < len(rs) && anon(rs[j+1]) && rs[j+1].Start == rs[j].End {
		j++
	}
	lo := (rs[i].Start + goArenaBytes - 1) &^ (goArenaBytes - 1)
	hi := rs[j].End &^ (goArenaBytes - 1)
	if lo > addr || hi <= addr {
		return
	}
	for k := i; k <= j; k++ {
		if rs[k].Start >= lo && rs[k].End <= hi {
			rs[k].Type, rs[k].Owner = GoHeap, GoHeapOwner
			rs[k].Base = lo
		}
	}
}
