package vmmap

import (
	"runtime"
	"strings"
)

// The explanation of the terminal view (Terminal with Explain): what the
// figures, the owners and the strip's letters and colours mean. The view
// itself only marks system owners and points here, so that the text is
// printed once, and in full only when asked for.

// ownerRules says how each system owner is recognised, for the
// explanation; "heuristic" marks the rules that go by layout alone (see
// classify_procfs.go, classify_alloc.go and goheap.go).
var ownerRules = map[string]string{
	brkHeapOwner:      "the brk heap, glibc's main arena (named so by the kernel)",
	GoHeapOwner:       "the Go runtime's heap: [anon: Go: heap] and [anon: Go: heap reservation] names, the address of a live object (this process), Go's arena hints, or, a heuristic, a run of whole 64 MiB arenas that starts reserved",
	GoRuntimeOwner:    "the Go runtime's own memory (indexes, metadata): [anon: Go: …] names other than its heap's and stacks'; or, a heuristic, in a process whose executable carries Go build information, the exact sizes of its page-summary and scavenger index reservations (1,096-1,097.125 MiB) and of its 32 MiB arena index directly below",
	BionicMallocOwner: "Android's C library allocator (bionic), which names its mappings [anon:libc_malloc]",
	GlibcArenaOwner:   "glibc's other malloc arenas: 64 MiB-aligned, committed, then reserved up to the next 64 MiB (a heuristic)",
	JemallocOwner:     "a heuristic, with libjemalloc.so mapped: read-write runs of 2 MiB or more mapped MAP_NORESERVE (smaps \"nr\"), as jemalloc maps when the kernel overcommits",
	MimallocOwner:     "a heuristic, with libmimalloc.so mapped: MAP_NORESERVE runs of whole 32 MiB segments that start committed",
	JavaHeapOwner:     "a heuristic, with libjvm.so mapped: anonymous runs of 16 MiB or more below 32 GiB (compressed pointers)",
	JITCodeOwner:      "executable anonymous memory: code written at run time (a JVM's code cache, V8)",
}

// typeMeanings say what each type holds, for the explanation's legend.
var typeMeanings = map[Type]string{
	Image:       "executables and libraries, with their .bss",
	MappedFile:  "files mapped privately or read-only",
	Shareable:   "memory shared with other processes",
	Heap:        "heaps: zebra heaps, the brk heap, C allocators' arenas",
	GoHeap:      "the Go runtime's heap",
	Stack:       "thread stacks and their guard pages",
	PrivateData: "other private memory",
	PageTable:   "kernel page tables",
	Unusable:    "the tail of a 64 KiB allocation granule no one can use",
	Free:        "no mapping",
}

// PossibleTypes returns the types a snapshot from s's source can hold, in
// the order of Types: a legend need not explain the others. Linux has no
// Unusable memory (its granularity is the page); no reader here reports
// Page Table memory, which VirtualQueryEx and procfs do not show.
func PossibleTypes(s *Snapshot) []Type {
	return possibleTypes(strings.HasPrefix(s.Source, "linux "))
}

// HostTypes returns the types a snapshot of a live process of this OS can
// hold, in the order of Types: as PossibleTypes, no Unusable memory but on
// Windows, whose allocation granularity is larger than its page.
func HostTypes() []Type { return possibleTypes(runtime.GOOS != "windows") }

func possibleTypes(pageGranular bool) []Type {
	var out []Type
	for _, t := range Types {
		if t == PageTable || pageGranular && t == Unusable {
			continue
		}
		out = append(out, t)
	}
	return out
}

// explain writes the explanation for s with the given line width.
func explain(p func(string, ...any), s *Snapshot, width int, color bool) {
	p("\nAbout this view\n")
	p("%s", fill("Committed counts towards the commit charge (on Linux, smaps' \"ac\" mappings); "+
		"Resident is the working set (RSS). Free space is measured within the span.", "  ", "  ", width))
	p("%s", fill("Zebra score: changes between zebra heaps walking up the address space (a heap and its "+
		"\"(metadata)\" reservations are one heap). Alternation: the gaps between an owner's stripes "+
		"that hold another zebra heap's memory.", "  ", "  ", width))
	var system []string
	for _, o := range Owners(s) {
		if o.System && ownerRules[o.Owner] != "" {
			system = append(system, o.Owner)
		}
	}
	if len(system) > 0 {
		p("%s", fill("System owners (marked *) are the memory of C libraries and runtimes, not heaps "+
			"a program created: they count neither in the zebra score nor in Alternation, and pictures "+
			"give them their type's colour. How those here were recognised:", "  ", "  ", width))
		for _, o := range system {
			p("%s", fill(o+": "+ownerRules[o], "    ", "      ", width))
		}
	}
	p("  The strip, one letter per cell (lower case: mostly reserved):\n")
	for _, t := range PossibleTypes(s) {
		p("   %s%c %s: %s\n", swatch(t.Color(), color), t.Letter(), t, typeMeanings[t])
	}
}

// systemMark is appended to a system owner's name in the owners table.
const systemMark = " *"

// ownerLabel is the owner's name in the owners table, marked when it is a
// system owner, clipped to n columns.
func ownerLabel(o OwnerStats, n int) string {
	if !o.System {
		return clipText(o.Owner, n)
	}
	return clipText(o.Owner, n-len(systemMark)) + systemMark
}
