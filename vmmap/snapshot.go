package vmmap

import (
	"fmt"
	"time"
)

// Type is a region's VMMap type.
type Type uint8

const (
	Free        Type = iota // nobody owns the range
	Image                   // an executable or shared library (.exe/.dll, ELF with code)
	MappedFile              // a file mapped as data
	Shareable               // shared memory not backed by a regular file (shm, memfd, MAP_SHARED anon)
	Heap                    // a native heap: [heap], malloc arenas, zebra heaps
	GoHeap                  // the Go runtime's own heap and metadata (VMMap's "Managed Heap")
	Stack                   // thread stacks
	PrivateData             // other private memory
	PageTable               // kernel page tables (Windows only)
	Unusable                // Windows: the tail of a 64 KiB allocation granule no one can use
)

var typeNames = [...]string{
	Free: "Free", Image: "Image", MappedFile: "Mapped File", Shareable: "Shareable",
	Heap: "Heap", GoHeap: "Go heap", Stack: "Stack", PrivateData: "Private Data",
	PageTable: "Page Table", Unusable: "Unusable",
}

// Types lists every type in VMMap's order, for tables and legends.
var Types = []Type{Image, MappedFile, Shareable, Heap, GoHeap, Stack, PrivateData, PageTable, Unusable, Free}

// ParseType is the inverse of Type.String.
func ParseType(s string) (Type, error) {
	for i, n := range typeNames {
		if n == s {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown region type %q", ErrParse, s)
}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// State says whether a region's pages are usable.
type State uint8

const (
	StateFree      State = iota
	StateReserved        // owned, not accessible (PROT_NONE / MEM_RESERVE)
	StateCommitted       // accessible (Linux: any protection but none; Windows MEM_COMMIT)
)

// ParseState is the inverse of State.String.
func ParseState(s string) (State, error) {
	for _, st := range []State{StateFree, StateReserved, StateCommitted} {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown region state %q", ErrParse, s)
}

func (s State) String() string {
	switch s {
	case StateFree:
		return "free"
	case StateReserved:
		return "reserved"
	case StateCommitted:
		return "committed"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Region is a run of pages with the same type, state, protection and owner.
// Addresses are uint64 so that a 32-bit build can map a 64-bit process.
type Region struct {
	Start, End uint64 // [Start, End)
	Type       Type
	State      State
	Perms      string // "rwxp" on Linux; "RW", "RX", "R", "NA" … on Windows
	Path       string // mapped file, or the kernel's name ("[heap]", "[anon:x]")
	Owner      string // zebra heap name, "Go heap", thread name; "" when unknown

	// Base is the start of the allocation the region belongs to (Windows
	// AllocationBase; on Linux the first mapping of an image, a
	// reservation's piece, a glibc arena, a stack with its guard page).
	// Regions with the same Base form one block in the summary's Blocks
	// and Largest columns. Zero means the region is a block of its own.
	Base uint64

	// Memory counters in bytes. Committed is what counts towards the
	// commit charge, as in VMMap: the committed size on Windows; on Linux
	// the size of mappings the kernel accounts (smaps VmFlags "ac").
	// Resident memory (the working set) is RSS, with PSS, Private, Shared,
	// Swap and AnonHuge from smaps; Linux only.
	Committed    uint64
	RSS          uint64
	PSS          uint64
	Private      uint64 // private clean + private dirty
	PrivateDirty uint64
	Shared       uint64 // shared clean + shared dirty
	Swap         uint64
	AnonHuge     uint64   // AnonHugePages
	Flags        []string // smaps VmFlags; "guard" on Windows for PAGE_GUARD pages; shared between regions: read only
}

// Size returns End - Start.
func (r Region) Size() uint64 { return r.End - r.Start }

// Block returns the start of the region's allocation: Base, or Start when
// Base is zero.
func (r Region) Block() uint64 {
	if r.Base != 0 {
		return r.Base
	}
	return r.Start
}

// blockKey identifies the allocation r belongs to, for the Blocks column
// of the summary and of the CSV export and for Diff: its type and Block().
// A Free region is a block of its own whatever its Base.
func (r Region) blockKey() [2]uint64 {
	b := r.Block()
	if r.Type == Free {
		b = r.Start
	}
	return [2]uint64{uint64(r.Type), b}
}

// inSpan reports whether r overlaps the snapshot's span, or the span is
// empty (unknown), in which case every region counts.
func (s *Snapshot) inSpan(r Region) bool {
	return s.Span.Start >= s.Span.End || r.End > s.Span.Start && r.Start < s.Span.End
}

// Snapshot is an address space at one moment: regions in address order,
// with Free regions filling the gaps inside Span.
type Snapshot struct {
	Source  string    // "linux pid 1234 (name)", "window win32", "windows pid 42"
	PID     int       // 0 for an emulated window
	Command string    // process name, when known
	Taken   time.Time // when it was read
	// Span is the part of the address space the metrics measure: by
	// default from the lowest to the highest user mapping of a 64-bit
	// process, the whole window for an emulated one. Every output says
	// which span it used.
	Span        AddrRange
	Granularity uint64 // allocation granularity: 4 KiB on Linux, 64 KiB on Windows
	MaxMapCount int    // vm.max_map_count, or 0 when not applicable
	VMAs        int    // number of kernel mappings (lines of the maps file)
	// Regions lists every region read, in address order. Used regions
	// may lie outside Span, such as [vsyscall] in the kernel's half
	// above a Linux process's default span: they are part of the
	// address space, but Summarize and FreeBlocks measure only within
	// Span, and WithSpan drops them. Free regions lie only within Span.
	Regions []Region
}

// AddrRange is a half-open range of addresses.
type AddrRange struct{ Start, End uint64 }

// Size returns End - Start.
func (a AddrRange) Size() uint64 { return a.End - a.Start }

// Contains reports whether addr lies in the range.
func (a AddrRange) Contains(addr uint64) bool { return addr >= a.Start && addr < a.End }

func (a AddrRange) String() string { return fmt.Sprintf("%#x-%#x", a.Start, a.End) }
