package vmmap

import (
	"path"
	"slices"
	"strings"

	"github.com/zebra-heap/zebra/vmem"
)

// Recognising jemalloc and mimalloc in another process's maps.
//
// Neither allocator names its mappings on a kernel without
// CONFIG_ANON_VMA_NAME, so what /proc/PID/maps and smaps show is
// anonymous private memory. Two things together make an attribution,
// and neither alone does; both rules are heuristics, and the README and
// `zebra map --explain` call them so:
//
//   - the process maps the allocator's shared library (libjemalloc.so*,
//     libmimalloc.so*: an image whose file name starts with that name).
//     A program that links the allocator statically, as Rust's and Go's
//     bindings often do, is not recognised;
//   - the mappings have the shape the allocator gives them (below). It
//     needs smaps: both allocators map with MAP_NORESERVE, which only
//     smaps' VmFlags ("nr") shows, and which glibc's thread stacks, the
//     Go runtime and a JVM's committed heap do not use (seen in the
//     fixtures: their mappings are "ac").
//
// jemalloc (5.x, with the kernel overcommitting, vm.overcommit_memory 0
// or 1, where it adds MAP_NORESERVE and never maps PROT_NONE): a run of
// contiguous read-write anonymous private "nr" mappings of at least
// jemallocMinRun. jemalloc grows the address space it retains in size
// classes from 2 MiB up (opt.retain, exp_grow) and maps its own metadata
// in base blocks of at least 2 MiB, and the kernel merges neighbouring
// mappings, so smaller runs are taken as someone else's.
//
// mimalloc (2.x): a run of contiguous anonymous private "nr" mappings
// that starts committed at a mimallocSegment-aligned address and covers a
// whole number of segments: each segment is reserved at once and
// committed from its start, its uncommitted tail left PROT_NONE.
// A segment pair at a 64 MiB boundary looks exactly like a glibc arena;
// in mimalloc's hint range, where the kernel places nothing on its own,
// such a run is taken as mimalloc's.

// JemallocOwner and MimallocOwner name the memory of jemalloc and mimalloc
// recognised in a process that maps their shared library.
const (
	JemallocOwner = vmem.OwnerJemalloc
	MimallocOwner = vmem.OwnerMimalloc
)

// jemallocMinRun is the smallest run of mappings taken as jemalloc's: its
// smallest growth of retained address space and its base block, 2 MiB
// (HUGEPAGE on x86-64 and arm64).
const jemallocMinRun = 2 << 20

// mimallocSegment is MI_SEGMENT_SIZE of mimalloc 2.x on 64-bit targets,
// which is also the segments' alignment: 32 MiB.
const mimallocSegment = 32 << 20

// mimallocHints is where mimalloc 2.x asks the kernel to place its
// aligned segments (from 2 TiB up, below 30 TiB): far below the kernel's
// own top-down placement under the stack, so a glibc arena is never
// there.
var mimallocHints = AddrRange{2 << 40, 30 << 40}

// mapsLibrary reports whether the process maps the shared library lib
// ("libjemalloc.so"): an image whose file name is lib or lib followed by
// a version ("libjemalloc.so.2").
func mapsLibrary(images map[string]bool, lib string) bool {
	for p := range images {
		p, _ = deleted(p)
		if base := path.Base(p); base == lib || strings.HasPrefix(base, lib+".") {
			return true
		}
	}
	return false
}

// noReserve reports whether r was mapped with MAP_NORESERVE (smaps
// VmFlags "nr"); false without smaps.
func noReserve(r Region) bool { return slices.Contains(r.Flags, "nr") }

// recogniseAllocators attributes the memory of jemalloc and mimalloc in a
// process that maps their libraries, among the anonymous private mappings
// no other rule has claimed (and, for mimalloc, the glibc-arena look-alikes
// in its hint range). See the top of this file for the shapes.
func recogniseAllocators(rs []Region, images map[string]bool) {
	if mapsLibrary(images, "libmimalloc.so") {
		free := func(i int) bool {
			r := rs[i]
			return noReserve(r) && (isAnonPrivate(r) ||
				r.Owner == GlibcArenaOwner && r.Path == "" && mimallocHints.Start <= r.Start && r.End <= mimallocHints.End)
		}
		markRuns(rs, free, MimallocOwner, func(i, j int) bool {
			return rs[i].State == StateCommitted && rs[i].Start%mimallocSegment == 0 &&
				rs[j].End%mimallocSegment == 0
		})
	}
	if mapsLibrary(images, "libjemalloc.so") {
		free := func(i int) bool {
			return isAnonPrivate(rs[i]) && noReserve(rs[i]) && rs[i].Perms == "rw-p"
		}
		markRuns(rs, free, JemallocOwner, func(i, j int) bool {
			return rs[j].End-rs[i].Start >= jemallocMinRun
		})
	}
}

// markRuns finds the maximal runs of contiguous regions for which in
// holds and gives the regions of each run that ok accepts (ok gets the
// run's first and last index) to owner, as Heap, one block per run.
func markRuns(rs []Region, in func(int) bool, owner string, ok func(i, j int) bool) {
	for i := 0; i < len(rs); i++ {
		if !in(i) {
			continue
		}
		j := i
		for j+1 < len(rs) && in(j+1) && rs[j+1].Start == rs[j].End {
			j++
		}
		if ok(i, j) {
			for k := i; k <= j; k++ {
				rs[k].Type, rs[k].Owner, rs[k].Base = Heap, owner, rs[i].Start
			}
		}
		i = j
	}
}
