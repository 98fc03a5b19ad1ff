// Package vmem hands out address space: reserve it in one piece, commit it on
// demand, decommit what is no longer needed and release it in one piece.
//
// This is the layer github.com/pkjq/PoC.HeapReserve showed a heap needs:
// there a Windows heap created with a 150 MiB ReserveSize kept its address
// space in one piece while another heap growing beside it was cut into
// stripes. Everything above this package (the heap, the maps, the demo)
// talks to a [Space], never to mmap or VirtualAlloc directly.
//
// # Memory states
//
// Every page of address space is in one of five states, and every operation in
// this package is a move between two of them:
//
//	Free        nobody owns the range; the OS may place anything there.
//	Reserved    owned by a Reservation; no physical memory and no commit
//	            charge; touching it faults (Linux PROT_NONE, Windows MEM_RESERVE).
//	Committed   readable and writable; physical memory appears on first touch.
//	Decommitted owned and still accounted to the reservation, but its contents
//	            are gone and its physical memory returned to the OS.
//	Released    given back; the range is Free again.
//
//	Reserve:  Free → Reserved          Commit:   Reserved|Decommitted → Committed
//	Decommit: Committed → Decommitted  Release:  any owned state → Released (= Free)
//	Extend:   Free → Reserved, directly above or below an existing reservation
//
// # Implementations
//
// [OS] is the host operating system: Linux, macOS and FreeBSD through
// golang.org/x/sys/unix (mmap_unix.go, with one os_<goos>.go file each),
// Windows through golang.org/x/sys/windows. A [Window] is an emulated,
// bounded address space (for example the 2 GiB of a 32-bit Windows process)
// carved out of one real reservation, with Windows' or Linux's placement
// rule reproduced inside it. Memory in a window is real: only the range of
// addresses is bounded.
//
// The hosts differ where [Caps] says they do, and in a few places Caps
// cannot say:
//
//   - Decommit: Linux uses MADV_DONTNEED; macOS and FreeBSD map fresh
//     memory over the range (MAP_FIXED). On all three RSS falls at once and
//     decommitted pages read as zero. Windows uses MEM_DECOMMIT, and the
//     pages must be committed again (Caps.RecommitAfterDecommit).
//   - Extend: Linux places with MAP_FIXED_NOREPLACE, FreeBSD with
//     MAP_FIXED|MAP_EXCL (a taken range and a real shortage both read as
//     ENOMEM there; Extend reports ErrAddressTaken), macOS with an address
//     hint whose result is checked and undone if it landed elsewhere.
//   - Huge pages: Linux asks for transparent huge pages (MADV_HUGEPAGE) and
//     reports none when THP is off; FreeBSD promotes aligned 2 MiB runs by
//     itself; macOS and Windows have none (Caps.HugePageSize is 0).
//   - Owner names reach the OS's memory map only on Linux 5.17+ with
//     CONFIG_ANON_VMA_NAME ("[anon:owner]"); elsewhere only [Live] knows.
//
// # Few VMAs
//
// On Linux every change of protection splits a mapping (a VMA), and a process
// may hold only vm.max_map_count of them (65530 by default). So a Reservation
// keeps one committed interval, the watermark: Commit widens it with mprotect,
// Decommit inside it uses MADV_DONTNEED, and protections are never changed on
// holes. Where the watermark falls back, the range is replaced by fresh
// PROT_NONE memory rather than mprotect'ed: the kernel will not merge a VMA
// that was ever written with an untouched one, so mprotect would leave a VMA
// behind at every place the watermark once stood. A reservation therefore
// spans at most three VMAs (reserved, committed, reserved) whatever is
// committed, decommitted or extended, and two while the committed interval
// starts at the base, as it does for a heap that commits upward. (The kernel
// may also merge a reservation with a neighbouring mapping of the same kind.)
//
// # Errors
//
// Every error wraps one of the sentinels in errors.go, so callers can test
// with errors.Is; refusals by the OS also wrap the errno. Messages start with
// "vmem: " and the space's name once. Nothing in this package panics on bad
// input. A failed Reserve leaves nothing mapped and nothing registered; a
// failed Commit, Extend or Release leaves the reservation as it was (a
// failed Decommit may have dropped the contents of some of its pages).
//
// # Owners
//
// Every reservation may carry an owner name. A process-wide registry ([Live])
// lists live reservations so that maps can attribute regions the kernel cannot
// name. Only Reserve, Extend and Release touch the registry's lock; Commit and
// Decommit update the reservation's counters atomically, so heaps never share
// a lock on their allocation paths.
package vmem

import (
	"fmt"
	"unsafe"
)

// State is the state of a range of address space. See the package
// documentation for the moves between states.
type State uint8

const (
	Free State = iota
	Reserved
	Committed
	Decommitted
	Released
)

func (s State) String() string {
	switch s {
	case Free:
		return "free"
	case Reserved:
		return "reserved"
	case Committed:
		return "committed"
	case Decommitted:
		return "decommitted"
	case Released:
		return "released"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Caps describes what a Space can do, so that shared code asks about a
// capability instead of the operating system's name.
type Caps struct {
	// PageSize is the unit of Commit and Decommit.
	PageSize uintptr
	// Granularity is the unit and the alignment of reservations: 64 KiB on
	// Windows, the page size elsewhere.
	Granularity uintptr
	// HugePageSize is the size of a transparent huge page (the unit of
	// Commit and Decommit for reservations with Options.HugePages), or 0
	// when the space has none or they are switched off.
	HugePageSize uintptr
	// MaxAlign is the largest alignment Reserve accepts.
	MaxAlign uintptr
	// PartialRelease reports whether part of a reservation can be given
	// back (munmap can; VirtualFree(MEM_RELEASE) cannot).
	PartialRelease bool
	// RecommitAfterDecommit reports whether decommitted pages must be
	// committed again before use (Windows MEM_DECOMMIT). On Linux, macOS
	// and FreeBSD a decommitted page stays accessible and reads as zero.
	RecommitAfterDecommit bool
	// ExactPlacement reports whether the space can reserve at a given
	// address without disturbing what is there (MAP_FIXED_NOREPLACE,
	// VirtualAlloc at an address), which Extend needs.
	ExactPlacement bool
	// TopDown reports whether new reservations are placed below earlier
	// ones (Linux mmap) rather than at the lowest free address (Windows).
	TopDown bool
	// MaxAddress is the top of the user address space: no reservation
	// ends above it. Users size defaults from it, such as the heap's
	// HugeBlock (the emulated process's word size shows here, not the
	// host's) and its metadata. Windows reports it exactly
	// (GetSystemInfo); for a window it is High; on Linux, macOS and
	// FreeBSD it is the usual layout's value: 2^47 on 64-bit hosts and
	// 3 GiB on 32-bit ones, which kernels with other layouts (5-level
	// page tables, a 4 GiB compat space) may exceed.
	MaxAddress uintptr
}

// Range is a half-open range of addresses [Base, Base+Size).
type Range struct {
	Base uintptr
	Size uintptr
}

// End returns the first address after the range.
func (r Range) End() uintptr { return r.Base + r.Size }

// Contains reports whether addr lies inside the range.
func (r Range) Contains(addr uintptr) bool { return addr >= r.Base && addr-r.Base < r.Size }

func (r Range) String() string { return fmt.Sprintf("%#x-%#x", r.Base, r.End()) }

// Direction says on which side of a reservation Extend asks for space.
type Direction uint8

const (
	// Below asks for the range ending at the reservation's base. On Linux
	// new mappings are placed below earlier ones, so this side is often
	// free.
	Below Direction = iota
	// Above asks for the range starting at the reservation's end.
	Above
)

func (d Direction) String() string {
	switch d {
	case Below:
		return "below"
	case Above:
		return "above"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Options refine a Reserve call. The zero value asks for a plain reservation
// aligned to the space's granularity, without an owner.
type Options struct {
	// Align is the alignment of the reservation's base: a power of two, at
	// most Caps.MaxAlign. Zero means the granularity.
	Align uintptr
	// Owner names the reservation in the registry and, where the kernel
	// supports it, in the process's memory map.
	Owner string
	// HugePages asks for transparent huge pages: the reservation is aligned
	// to the huge page size and committed and decommitted in whole huge
	// pages. Spaces without huge pages ignore it.
	HugePages bool
	// Hint, when not zero, is the base the caller would like: the space
	// reserves there if the whole range is free and Hint is aligned as
	// the reservation must be, else places the range as it would without
	// a hint. Spaces that cannot place at an address
	// (Caps.ExactPlacement false) ignore it. A heap uses it to keep its
	// bookkeeping away from where it will extend in place.
	Hint uintptr
}

// Space is a place that hands out address space.
//
// Implementations are safe for concurrent use. The reservations they return
// are not: a Reservation belongs to one owner (typically a heap, under its own
// lock).
type Space interface {
	// Name describes the space, e.g. "linux" or "win32 (2 GiB, bottom-up)".
	Name() string
	// Caps reports what the space can do.
	Caps() Caps
	// Reserve moves size bytes (rounded up to the granularity) from Free to
	// Reserved, in one contiguous range.
	Reserve(size uintptr, o Options) (*Reservation, error)
}

// prims are the primitive moves a space's reservations are made of. Each
// implementation (per OS, and the emulated window) documents them once; the
// bookkeeping shared by all of them — rounding, the watermark, the registry,
// the pieces of an extended reservation — lives in Reservation.
//
// Preconditions: ranges are non-empty, aligned to the page size (reserve
// and reserveAt: to the granularity) and, for commit, uncommit and
// decommit, inside one piece. Errors name the failing call and range but no
// "vmem:" prefix (Reservation adds it with the space and the operation),
// wrap ErrNoMemory when the OS is out of memory or mappings and
// ErrAddressTaken when reserveAt finds the range in use, and leave no side
// effects.
type prims interface {
	caps() Caps
	// reserve returns a new Reserved range of size bytes aligned to align.
	reserve(size, align uintptr, huge bool) (unsafe.Pointer, error)
	// reserveAt reserves exactly [p, p+size) or fails with ErrAddressTaken
	// (or another error) without side effects.
	reserveAt(p unsafe.Pointer, size uintptr, huge bool) error
	// commit moves [p, p+n) to Committed.
	commit(p unsafe.Pointer, n uintptr) error
	// uncommit moves [p, p+n), at the top or bottom of the committed
	// interval, back to Reserved, returning its commit charge.
	uncommit(p unsafe.Pointer, n uintptr) error
	// decommit moves [p, p+n) from Committed to Decommitted.
	decommit(p unsafe.Pointer, n uintptr) error
	// release gives back the pieces of one reservation, in address order;
	// p points at the first piece's base.
	release(p unsafe.Pointer, pieces []Range) error
	// name labels [p, p+n) for the OS's memory map, best effort.
	name(p unsafe.Pointer, n uintptr, owner string)
}

// hinter is implemented by primitives that can reserve at a preferred
// address (Options.Hint): reserveHint reserves exactly [p, p+size), like
// reserveAt but for a new reservation, or fails without side effects.
type hinter interface {
	reserveHint(p unsafe.Pointer, size uintptr, huge bool) error
}

// holeTracker is implemented by primitives that record decommitted pages
// themselves (the window, for Regions). Where decommitted pages need no
// commit to be used again (Caps.RecommitAfterDecommit false), Reservation
// does not call commit for them, so it calls filled instead when Commit
// takes pages [p, p+n) out of the holes.
type holeTracker interface {
	filled(p unsafe.Pointer, n uintptr)
}

// restorer is implemented by primitives whose uncommit replaces the range
// and so loses its attributes (Linux: the huge-page advice and the name).
// Reservation calls restore after every successful uncommit.
type restorer interface {
	restore(p unsafe.Pointer, n uintptr, huge bool, owner string)
}
