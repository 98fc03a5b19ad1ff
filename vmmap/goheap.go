package vmmap

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Recognising the Go runtime's heap.
//
// Go 1.25+ names its mappings "[anon: Go: heap]" where the kernel allows
// (classify_procfs.go). Otherwise the heap is found by its layout: the
// runtime reserves its heap in arenas (heapArenaBytes: 64 MiB on 64-bit
// targets but Windows, 4 MiB there and on 32-bit ones), aligned to their
// size, growing upwards from a hint address. Before
// Go 1.26 the first hint was fixed (goArenaHints); Go 1.26 randomises it.
// In the calling process the heap is exactly the arenas around the address
// of a heap object (markGoHeap); in other processes it is the fixed hints or
// the shape of a randomised arena (goArenaRun in classify_procfs.go). That
// shape is a heuristic: any program that reserves 64 MiB-aligned address
// space and commits part of it above the start looks the same.

// Two arena sizes, because the process read and the process reading may
// differ: a 32-bit or Windows build of this package reading a 64-bit Linux
// process's maps must look for that process's arenas, not its own.

// goArenaBytes is the runtime's heapArenaBytes on 64-bit Linux, the size
// and alignment of the arenas recognised in other processes' maps (the
// only maps read without knowing the reader's runtime).
const goArenaBytes = 64 << 20

// selfArenaBytes is heapArenaBytes of the running runtime, which mirrors
// runtime/malloc.go's own expression: 64 MiB on 64-bit targets, 4 MiB on
// Windows and on 32-bit targets. markGoHeap uses it on the calling
// process's own snapshot, on Linux and Windows alike.
var selfArenaBytes = func() uint64 {
	if runtime.GOOS == "windows" || unsafe.Sizeof(uintptr(0)) == 4 {
		return 4 << 20
	}
	return 64 << 20
}()

// heapSink is atomic so that concurrent calls of Self do not race.
var heapSink atomic.Pointer[[64]byte]

// goHeapAddr returns an address inside the calling process's Go heap: that
// of a fresh object the compiler must place on the heap (it escapes to a
// global), unlike a package-level variable, which may be static data.
func goHeapAddr() uint64 {
	p := new([64]byte)
	heapSink.Store(p)
	a := uint64(uintptr(unsafe.Pointer(p)))
	heapSink.Store(nil)
	return a
}

// markGoHeap marks as Go heap the regions inside the aligned arenas,
// entirely covered by anonymous private mappings, that are connected to the
// arena holding addr. Regions that stick out of those arenas are left
// alone, so that a neighbouring mapping is never swallowed.
func markGoHeap(rs []Region, addr uint64) {
	// Unclaimed private memory, or memory the Linux rules took for the Go
	// heap, or for a glibc arena, by its address or shape
	// (classify_procfs.go): a Go heap whose random base falls on a 64 MiB
	// boundary starts committed and looks exactly like a glibc arena.
	// Here the address of a live heap object settles it.
	anon := func(r Region) bool {
		return isAnonPrivate(r) || (r.Type == GoHeap || r.Owner == GlibcArenaOwner) && r.Path == ""
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
	lo := (rs[i].Start + selfArenaBytes - 1) &^ (selfArenaBytes - 1)
	hi := rs[j].End &^ (selfArenaBytes - 1)
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
