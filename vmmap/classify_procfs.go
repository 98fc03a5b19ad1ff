package vmmap

import (
	"slices"
	"strings"

	"github.com/zebra-heap/zebra/vmem"
)

// Classification of Linux mappings, in VMMap's terms. The kernel tells us a
// mapping's range, protection, file and sometimes a name; the rest is
// recognised by the layouts the common allocators leave:
//
//	[heap]                            Heap (owner "[heap]"): the brk heap
//	[stack]                           Stack (the main thread)
//	[vdso] [vsyscall]                 Image: code the kernel maps in
//	[vvar] [vvar_vclock]              Shareable: kernel data shared by all processes
//	[anon: Go: heap], [anon: Go: heap reservation]
//	                                  Go heap: the Go runtime names its mappings (Go 1.25+)
//	[anon: Go: …] with "stack"        Stack (goroutine stacks outside the heap, OS threads')
//	[anon: Go: …], any other name     Private Data, owner "Go runtime" (its indexes
//	                                  and metadata: goNamed in goruntime.go)
//	[anon:libc_malloc]                Heap, owner "libc_malloc": Android's C library
//	                                  allocator (bionic), a system owner
//	[anon:NAME]                       Heap owned by NAME (zebra heaps and other
//	                                  allocators name their memory this way), except
//	                                  names with "stack" (Stack) and ".bss" (Private
//	                                  Data, or Image as below)
//	[anon_shmem:NAME], SYSV shm, any shared anonymous mapping (also
//	  /dev/zero and /anon_hugepage, shared), memfd: and /dev/shm/ mapped
//	  shared (p/s bit 's')            Shareable
//	/anon_hugepage, private           Private Data (MAP_HUGETLB)
//	a file of which some mapping is executable
//	                                  Image (all mappings of that file; a
//	                                  memfd holding JIT code mapped private too)
//	any other file, including memfd: and /dev/shm/ mapped private
//	                                  Mapped File: a private mapping is a
//	                                  copy-on-write view of a file, shared
//	                                  with no one
//	anonymous, inside Go's first arena hint (0xc000000000 on most 64-bit
//	  targets, 0x4000000000 on arm64)  Go heap
//	anonymous, a run of contiguous mappings that starts reserved (---p) at
//	  a 64 MiB-aligned address, holds a committed one and covers a whole
//	  number of 64 MiB arenas         Go heap: Go 1.26's randomised arena
//	                                  (a heuristic, see goheap.go)
//	anonymous, 64 MiB-aligned rw-p followed by ---p up to the next 64 MiB
//	                                  Heap, owner "glibc arena" (a non-main malloc arena)
//	anonymous rw-p directly above a ---p guard of at most 64 KiB
//	                                  Stack (a pthread stack and its guard page)
//	anonymous executable              Private Data, owner "JIT code"
//	anonymous, below 32 GiB, a run of 16 MiB or more, in a process that
//	  maps libjvm.so                  Private Data, owner "Java heap"
//	anonymous MAP_NORESERVE (smaps "nr") rw-p, a run of 2 MiB or more,
//	  in a process that maps libjemalloc.so*
//	                                  Heap, owner "jemalloc arena"
//	anonymous MAP_NORESERVE, a run of whole 32 MiB segments that starts
//	  committed, in a process that maps libmimalloc.so*
//	                                  Heap, owner "mimalloc arena"
//	                                  (both heuristics: classify_alloc.go)
//	anonymous (or [anon:.bss]) rw-p directly after a writable mapping of an
//	  image                           Image, in the image's block: the
//	                                  program's or library's .bss, the part of
//	                                  its data segment beyond the file, which
//	                                  VMMap counts in the image
//	anonymous, in a Go program (its executable carries Go build
//	  information), spans of the exact sizes of the runtime's index
//	  reservations                    Private Data, owner "Go runtime"
//	                                  (a heuristic: goruntime.go)
//	other anonymous memory            Private Data
//
// A ---p mapping (no access) is Reserved, any other Committed.

// Go's heap arena hints (runtime/malloc.go): the first arena is tried at
// 0x00c0<<32, or 0x0040<<32 on arm64, and the next ones 1 TiB higher each.
// Only the first 256 GiB above each first hint is taken as Go's: the
// mappings of other programs are not placed there by the kernel.
var goArenaHints = []AddrRange{
	{0x00c0 << 32, 0x0100 << 32},
	{0x0040 << 32, 0x0080 << 32},
}

// glibcHeapMax is HEAP_MAX_SIZE of glibc's non-main arenas on 64-bit
// targets: 2 * DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB, and each arena heap is
// aligned to it.
const glibcHeapMax = 64 << 20

// maxGuard is the largest guard page taken as a pthread stack's.
const maxGuard = 64 << 10

// brkHeapOwner is the owner name of the brk heap, glibc's main arena.
const brkHeapOwner = vmem.OwnerBrkHeap

// GoHeapOwner is the owner name of regions attributed to the Go runtime's
// heap.
const GoHeapOwner = vmem.OwnerGoHeap

// GoRuntimeOwner is the owner name of the Go runtime's memory other than
// its heap (goruntime.go).
const GoRuntimeOwner = vmem.OwnerGoRuntime

// GlibcArenaOwner is the owner name of glibc's non-main malloc arenas.
const GlibcArenaOwner = vmem.OwnerGlibcArena

// BionicMallocOwner is the owner name of the memory Android's C library
// allocator names "[anon:libc_malloc]": the system's allocator, as glibc's
// arenas are, not a heap a program created.
const BionicMallocOwner = vmem.OwnerBionicMalloc

// JavaHeapOwner and JITCodeOwner name the Java heap of a JVM and the code
// that JIT compilers (the JVM's code cache, V8, .NET) write at run time.
const (
	JavaHeapOwner = vmem.OwnerJavaHeap
	JITCodeOwner  = vmem.OwnerJITCode
)

// javaHeapBelow is where a HotSpot JVM puts its heap when it compresses
// object pointers (heaps up to 32 GiB, the default): entirely below 32 GiB,
// so that a 32-bit offset scaled by 8 reaches every object.
const javaHeapBelow = 32 << 30

func classifyLinux(entries []smapsEntry) []Region {
	images := map[string]bool{}
	for _, e := range entries {
		if e.Inode != 0 && strings.HasPrefix(e.Path, "/") && e.Perms[2] == 'x' {
			images[e.Path] = true
		}
	}
	out := make([]Region, len(entries))
	for i, e := range entries {
		r := Region{
			Start: e.Start, End: e.End,
			Perms: e.Perms, Path: e.Path,
			State:        StateCommitted,
			Committed:    charged(e),
			RSS:          e.RSS,
			PSS:          e.PSS,
			Private:      e.PrivateClean + e.PrivateDirty,
			PrivateDirty: e.PrivateDirty,
			Shared:       e.SharedClean + e.SharedDirty,
			Swap:         e.Swap,
			AnonHuge:     e.AnonHuge,
			Flags:        e.Flags,
		}
		if strings.HasPrefix(e.Perms, "---") {
			r.State = StateReserved
		}
		r.Type, r.Owner = classifyPath(e, images)
		if i > 0 && isBSS(out[i-1], r) {
			r.Type, r.Base = Image, out[i-1].Block()
		}
		// An image's mappings form one block, from its first mapping on;
		// so do adjacent mappings of one [anon:NAME] (a reservation's
		// committed and reserved parts) and of the Go runtime.
		if i > 0 && out[i-1].End == r.Start && out[i-1].Type == r.Type &&
			(r.Type == Image && out[i-1].Path == r.Path ||
				r.Type == GoHeap ||
				strings.HasPrefix(r.Path, "[anon") && out[i-1].Path == r.Path) {
			r.Base = out[i-1].Block()
		}
		out[i] = r
	}
	recogniseLayouts(out)
	recogniseJIT(out, images)
	recogniseAllocators(out, images)
	return out
}

// recogniseJIT marks run-time code and, in a process that maps libjvm.so,
// the Java heap, among the anonymous private mappings left as Private
// Data: an executable anonymous mapping is code written at run time (the
// JVM's code cache, V8's code space), with the reservation directly above
// it; a run of anonymous private mappings of at least 16 MiB that starts
// committed and lies below javaHeapBelow is the JVM's heap. Without
// compressed pointers (heaps over 32 GiB) the heap is anywhere and stays
// Private Data.
func recogniseJIT(rs []Region, images map[string]bool) {
	jvm := mapsLibrary(images, "libjvm.so")
	anon := func(i int) bool { return i >= 0 && i < len(rs) && isAnonPrivate(rs[i]) }
	for i := 0; i < len(rs); i++ {
		if !anon(i) || rs[i].State != StateCommitted {
			continue
		}
		j := i
		for anon(j+1) && rs[j+1].Start == rs[j].End && rs[j+1].State == StateReserved {
			j++
		}
		owner := ""
		switch {
		case strings.Contains(rs[i].Perms, "x"):
			owner = JITCodeOwner
		case jvm && rs[j].End <= javaHeapBelow && rs[j].End-rs[i].Start >= 16<<20:
			owner = JavaHeapOwner
		default:
			continue
		}
		for k := i; k <= j; k++ {
			rs[k].Owner, rs[k].Base = owner, rs[i].Start
		}
		i = j
	}
}

// isBSS reports whether r, classified Private Data so far, is the .bss of
// the image mapped by prev: anonymous read-write private memory that starts
// where a writable mapping of an image file ends. The loader maps it there
// because .bss continues the data segment past the end of the file.
func isBSS(prev, r Region) bool {
	if r.Type != PrivateData || r.Perms != "rw-p" || prev.End != r.Start ||
		prev.Type != Image || !strings.HasPrefix(prev.Path, "/") || prev.Perms[1] != 'w' {
		return false
	}
	name, shm, named := anonName(r.Path)
	return r.Path == "" || named && !shm && strings.TrimSpace(name) == ".bss"
}

// classifyPath classifies a mapping by its name, protection and file.
func classifyPath(e smapsEntry, images map[string]bool) (Type, string) {
	shared := e.Perms[3] == 's'
	switch e.Path {
	case "":
		if shared {
			return Shareable, ""
		}
		return PrivateData, ""
	case "[heap]":
		return Heap, brkHeapOwner
	case "[stack]":
		return Stack, ""
	case "[vdso]", "[vsyscall]":
		return Image, ""
	case "[vvar]", "[vvar_vclock]":
		return Shareable, ""
	}
	if name, shm, ok := anonName(e.Path); ok {
		trimmed := strings.TrimSpace(name)
		switch {
		case shm:
			return Shareable, trimmed
		case strings.HasPrefix(trimmed, "Go:"):
			return goNamed(strings.TrimSpace(strings.TrimPrefix(trimmed, "Go:")))
		case strings.Contains(trimmed, "stack"):
			return Stack, ""
		case strings.Contains(trimmed, ".bss"):
			return PrivateData, ""
		}
		return Heap, trimmed
	}
	if strings.HasPrefix(e.Path, "[stack:") {
		return Stack, "" // thread stacks on kernels before 4.5
	}
	if strings.HasPrefix(e.Path, "[") {
		return PrivateData, "" // [uprobes] and names yet to come
	}
	path, _ := deleted(e.Path)
	switch {
	case strings.HasPrefix(path, "/SYSV"),
		shared && (strings.HasPrefix(path, "/memfd:") || strings.HasPrefix(path, "/dev/shm/") ||
			path == "/dev/zero" || path == "/anon_hugepage"):
		return Shareable, ""
	case path == "/anon_hugepage" && !shared:
		return PrivateData, "" // private MAP_HUGETLB memory
	case images[e.Path]:
		return Image, ""
	}
	return MappedFile, ""
}

// isAnonPrivate reports whether r is private memory without a name that no
// rule has claimed yet: an anonymous private mapping on Linux (shared
// anonymous mappings are Shareable already, so the p/s bit need not be
// looked at again), MEM_PRIVATE memory on Windows.
func isAnonPrivate(r Region) bool { return r.Type == PrivateData && r.Path == "" }

// goArenaRun reports whether the reserved, arena-aligned mapping rs[i]
// starts what looks like Go's randomised heap in another process, and
// returns the index of the run's last mapping. The run is every anonymous
// private mapping contiguous with rs[i] upwards; it must be more than one
// mapping, hold a committed one (Go commits its heap at the heap base) and
// cover a whole number of arenas: its start is aligned, so its end must be
// too.
func goArenaRun(rs []Region, i int, anon func(int) bool) (int, bool) {
	j, committed := i, false
	for anon(j+1) && rs[j+1].Start == rs[j].End {
		j++
		committed = committed || rs[j].State == StateCommitted
	}
	whole := (rs[j].End-rs[i].Start)%goArenaBytes == 0
	return j, j > i && committed && whole
}

// recogniseLayouts finds Go's arena, glibc arenas and pthread stacks among
// the anonymous private mappings left as Private Data.
func recogniseLayouts(rs []Region) {
	anon := func(i int) bool { return i >= 0 && i < len(rs) && isAnonPrivate(rs[i]) }
	for i := range rs {
		if !anon(i) {
			continue
		}
		r := &rs[i]
		for _, h := range goArenaHints {
			if r.Start >= h.Start && r.End <= h.End {
				r.Type, r.Owner = GoHeap, GoHeapOwner
			}
		}
		if r.Type == PrivateData && r.State == StateReserved && r.Start%goArenaBytes == 0 {
			// Go 1.26 places its heap at a random 64 MiB-aligned
			// address and leaves the pages below a random offset in
			// the first arena reserved: glibc arenas start committed.
			// A heuristic (see goheap.go): the whole run of
			// contiguous anonymous private mappings must be whole
			// arenas with some memory committed.
			if j, ok := goArenaRun(rs, i, anon); ok {
				for k := i; k <= j; k++ {
					rs[k].Type, rs[k].Owner, rs[k].Base = GoHeap, GoHeapOwner, r.Start
				}
			}
		}
		if r.Type != PrivateData {
			continue
		}
		// glibc arena: 64 MiB-aligned, committed part first, the rest
		// reserved, together exactly 64 MiB.
		if r.Start%glibcHeapMax == 0 && r.State == StateCommitted {
			end := r.Start + glibcHeapMax
			switch {
			case r.End == end:
				r.Type, r.Owner = Heap, GlibcArenaOwner
			case r.End < end && anon(i+1) && rs[i+1].Start == r.End &&
				rs[i+1].State == StateReserved && rs[i+1].End == end:
				r.Type, r.Owner = Heap, GlibcArenaOwner
				rs[i+1].Type, rs[i+1].Owner, rs[i+1].Base = Heap, GlibcArenaOwner, r.Start
			}
			if r.Type != PrivateData {
				continue
			}
		}
		// pthread stack: a small no-access guard directly below.
		if r.State == StateCommitted && anon(i-1) && rs[i-1].End == r.Start &&
			rs[i-1].State == StateReserved && rs[i-1].Size() <= maxGuard && r.Size() > rs[i-1].Size() {
			rs[i-1].Type, r.Type = Stack, Stack
			r.Base = rs[i-1].Start
		}
	}
}

// charged returns the bytes of a mapping that count towards the commit
// charge, what VMMap calls Committed: the whole mapping when the kernel
// accounts it (VmFlags "ac": private writable memory, shared anonymous
// memory, without MAP_NORESERVE), nothing for file-backed read-only or
// shared mappings, whose pages the file backs. Without VmFlags (maps
// without smaps) a private writable mapping is taken as accounted. What is
// resident is another figure: Region.RSS.
func charged(e smapsEntry) uint64 {
	size := e.End - e.Start
	if e.Flags != nil {
		if slices.Contains(e.Flags, "ac") {
			return size
		}
		return 0
	}
	if len(e.Perms) == 4 && e.Perms[1] == 'w' && e.Perms[3] == 'p' {
		return size
	}
	return 0
}
