package heap

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// Policy says how a heap grows once its reserve is used up. Inside the
// reserve every policy commits on demand. See heap.go for the overview.
type Policy uint8

const (
	// Default is this package's policy: first extend the current
	// reservation in place (below, then above, on spaces that place new
	// mappings top-down; the other way round elsewhere), else reserve a new
	// range at least as large as everything reserved so far. The heap's
	// size doubles with each new range, so the number of separate ranges
	// stays logarithmic in the heap's size. Big blocks are served inside the
	// heap's reservations.
	Default Policy = iota
	// NT is faithful to the Windows heap (RtlpExtendHeap): each new
	// segment is a separate reservation of SegmentReserve bytes (1 MiB by
	// default), which doubles after every segment up to SegmentCap (8 MiB by
	// default, what PoC.HeapReserve shows), and blocks larger than
	// HugeBlock (508 KiB in 32-bit spaces, 1016 KiB in 64-bit ones) get a
	// reservation of their own, as VirtualAlloc blocks do.
	NT
	// Fixed grows in separate reservations of SegmentReserve bytes each
	// (1 MiB by default), or of the request when larger.
	Fixed
)

func (p Policy) String() string {
	switch p {
	case Default:
		return "default"
	case NT:
		return "nt"
	case Fixed:
		return "fixed"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// Options are the parameters of a heap: RtlCreateHeap's ReserveSize,
// CommitSize and RTL_HEAP_PARAMETERS, and HeapCreate's maximum size, in Go
// form. The zero value is a growable heap with the Default policy in the
// host's address space. Sizes are rounded up to the space's page size or
// allocation granularity; negative sizes and contradictory combinations
// (each field's doc says which) are rejected with ErrInvalidSize, in one
// error naming both fields and their values.
type Options struct {
	// ---- What Go programs set: a name, how much address space to keep in
	// one piece, a cap, zeroing, one goroutine or many, huge pages, debug
	// modes for tests.

	// Name names the heap in errors and its reservations in vmem's
	// registry (and, where the kernel can, in the process's memory map).
	// Empty means "heap-N". A name is at most MaxNameLen bytes of printable
	// UTF-8 (no control characters, so no newlines or terminal escapes),
	// and not one that maps give to system regions ("Go heap", "[heap]",
	// "glibc arena", "process heap N") nor one ending in " (metadata)"
	// (see MetadataOwner); others are refused with ErrInvalidName. Two
	// heaps may share a name.
	Name string
	// Reserve is the address space reserved in one piece at creation; the
	// heap stays one range until it is used up. Zero starts with one
	// segment of SegmentReserve bytes, like HeapCreate(0, 0, 0).
	Reserve int
	// Maximum, when positive, caps the heap's memory: it makes a
	// fixed-size heap (HeapCreate with a maximum size), Maximum bytes are
	// reserved at creation and the heap never grows, so Alloc fails with
	// a *NoMemoryError when they are used up. Unlike Windows it serves blocks of any size that fit.
	// The growth options (SegmentReserve, SegmentCap, HugeBlock) mean
	// nothing to a fixed heap and are rejected with it.
	Maximum int
	// CommitLimit, when positive, bounds the memory the heap commits for
	// its blocks (Stats.Committed; its metadata, Stats.MetaCommitted, a
	// few hundred KiB, is not counted): an allocation that would commit
	// past it makes the heap decommit what it holds free (as Compact),
	// then calls Reclaim if set, and fails with a *NoMemoryError wrapping
	// ErrCommitLimit if neither makes room. Unlike Maximum it leaves the
	// heap growable: address space is still reserved as needed. It may not
	// be below Commit. SetCommitLimit changes it later.
	CommitLimit int
	// Reclaim, with CommitLimit, is called when an allocation meets the
	// limit: with no lock of the heap held, on the goroutine of that
	// allocation, with the size it asked. It should Free blocks of h (a
	// cache evicts) and report whether it freed any; after each call that
	// did the heap decommits what is free and tries again, up to
	// maxReclaims times. It must not call Destroy.
	Reclaim func(h *Heap, need int) bool
	// Tags keeps a tag byte per small block (and a map entry per tagged
	// large one) so that AllocTag can say what blocks hold: live bytes per
	// tag in Stats.Tags, and Leaks. It costs a byte of metadata per small
	// block.
	Tags bool
	// Zero makes every allocation return zeroed memory (HEAP_ZERO_MEMORY).
	Zero bool
	// NoSerialize makes a heap for one goroutine at a time
	// (HEAP_NO_SERIALIZE): no locks and no pinning at all, one cache. Calls
	// must not overlap (a call that meets another gets ErrConcurrentUse);
	// the caller synchronises if goroutines take turns. Without it, the
	// heap is safe for concurrent use and keeps a cache per P (see
	// heap.go).
	NoSerialize bool
	// HugePages asks for transparent huge pages on the heap's reservations:
	// they are aligned to 2 MiB and commit and decommit whole huge pages.
	HugePages bool
	// Debug switches on debug modes (see Debug): tail canaries, free
	// fills, a reuse quarantine. Modes in the environment variable
	// ZEBRA_DEBUG (DebugEnv) are added to it.
	Debug Debug
	// QuarantineBytes is the quarantine's budget with DebugQuarantine:
	// freed blocks wait until more than this many bytes wait. Zero means
	// 16 MiB.
	QuarantineBytes int
	// Space is the address space the heap reserves from: vmem.OS() when
	// nil, or an emulated window.
	Space vmem.Space

	// ---- RtlCreateHeap's parameters (CommitSize and RTL_HEAP_PARAMETERS),
	// kept for fidelity with the Windows heap: how it commits, grows and
	// decommits. The defaults suit Go programs; the NT policy gives NT's.

	// Commit is committed at creation, at the start of the first segment.
	// It may not exceed Reserve or Maximum when they are set; with neither,
	// a Commit above SegmentReserve makes the first segment Commit bytes
	// (RtlCreateHeap likewise raises the reserve to the commit).
	Commit int
	// Policy says how the heap grows past its reserve.
	Policy Policy
	// SegmentReserve is the size of the first segment when Reserve is zero,
	// and the size of new segments for the NT (initial size) and Fixed
	// policies. Zero means 1 MiB.
	SegmentReserve int
	// SegmentCommit is the least the heap commits at a time, ahead of use
	// (NT's SegmentCommit). Zero means 2 pages with NT and 64 KiB otherwise.
	SegmentCommit int
	// SegmentCap caps the segment size: the NT policy's doubling stops
	// there (zero means 8 MiB), and the Default policy's growth steps never
	// exceed it (zero means no cap). It may not be below SegmentReserve.
	SegmentCap int
	// DecommitFreeBlock and DecommitTotalFree are NT's decommit thresholds:
	// a free range of at least DecommitFreeBlock bytes is decommitted when
	// the heap holds more than DecommitTotalFree free bytes. Zero means
	// NT's values (one page and 64 KiB) with the NT policy, and 256 KiB and
	// 8 MiB otherwise. math.MaxInt never decommits (Compact still does).
	DecommitFreeBlock, DecommitTotalFree int
	// HugeBlock is the size above which a block gets a reservation of its
	// own (NT's VirtualMemoryThreshold). Zero means, with the NT policy,
	// 508 KiB in 32-bit spaces (whose vmem.Caps.MaxAddress is at most
	// 4 GiB: 32-bit hosts and the Win32 windows) and 1016 KiB in 64-bit
	// ones, and never otherwise
	// (math.MaxInt also means never). A fixed heap (Maximum > 0) never
	// makes such reservations.
	HugeBlock int
}

// config is Options after defaults, validation and rounding.
type config struct {
	name        string
	owner       string // name in maps: name, or "name #N" (claimOwner)
	space       vmem.Space
	caps        vmem.Caps
	page        uintptr // the space's page size: the unit of the page table
	max         uintptr // the largest request: limitFor(page)
	reserve     uintptr // first segment's size (0 = segReserve)
	commit      uintptr
	fixed       bool
	policy      Policy
	segReserve  uintptr
	segCommit   uintptr
	segCap      uintptr
	decFree     uintptr // DecommitFreeBlock; maxSize means never
	decTotal    uintptr
	huge        uintptr // HugeBlock; maxSize means never
	zero        bool
	hugePages   bool
	noSerialize bool
	debug       Debug
	quarantine  uintptr // QuarantineBytes with DebugQuarantine
	commitLimit uintptr // CommitLimit; 0 means none (SetCommitLimit changes Heap.commitLimit)
	reclaim     func(*Heap, int) bool
	tags        bool
	pageShift   uint8 // log2(page)
}

var heapSeq atomic.Uint64

// maxSize bounds every size the heap accepts on any space: math.MaxInt
// rounded down to 64 KiB, so that a size up to it, rounded up to a page or
// padded for an alignment of up to 1 GiB, still fits a uintptr. On 32-bit
// hosts it is 2 GiB less 64 KiB, so heaps and blocks above 1 GiB fit the
// 3 and 4 GiB windows. A heap's own limit (config.max) is lower where the
// page table is: see maxPages.
const maxSize = uintptr(math.MaxInt) &^ (1<<16 - 1)

// maxPages is the most pages a heap can describe: the page table numbers
// pages in 32 bits (16 TiB of 4 KiB pages).
const maxPages = 1<<32 - 1

// limitFor returns the largest request a heap with pages of the given size
// can ever serve: maxSize, or maxPages pages when that is less.
func limitFor(page uintptr) uintptr {
	if uint64(maxSize)/uint64(page) > maxPages {
		return uintptr(uint64(maxPages) * uint64(page))
	}
	return maxSize
}

const is32bit = unsafe.Sizeof(uintptr(0)) == 4

// ntHugeBlock is NT's default VirtualMemoryThreshold for the process a
// space stands for: 508 KiB when its user space ends at or below 4 GiB (a
// 32-bit process, also when a window emulates one on a 64-bit host), else
// 1016 KiB. Spaces that do not report Caps.MaxAddress go by the host's
// word size.
func ntHugeBlock(c vmem.Caps) uintptr {
	small := is32bit
	if c.MaxAddress != 0 {
		small = uint64(c.MaxAddress) <= 1<<32
	}
	if small {
		return 508 << 10
	}
	return 1016 << 10
}

func (o Options) config() (config, error) {
	c := config{name: o.Name, space: o.Space, policy: o.Policy, zero: o.Zero, hugePages: o.HugePages, noSerialize: o.NoSerialize}
	env, err := debugFromEnv()
	if err != nil {
		return c, fmt.Errorf("heap %q: %w", o.Name, err)
	}
	c.debug = o.Debug | env
	switch {
	case c.debug&^(DebugAll|DebugCallers) != 0:
		return c, fmt.Errorf("heap %q: %w: unknown debug modes %v", o.Name, ErrInvalidSize, c.debug&^(DebugAll|DebugCallers))
	case o.QuarantineBytes < 0:
		return c, fmt.Errorf("heap %q: %w: QuarantineBytes is negative", o.Name, ErrInvalidSize)
	case o.QuarantineBytes > 0 && c.debug&DebugQuarantine == 0:
		return c, fmt.Errorf("heap %q: %w: QuarantineBytes without DebugQuarantine", o.Name, ErrInvalidSize)
	case c.debug&DebugQuarantine != 0:
		c.quarantine = uintptr(o.QuarantineBytes)
		if c.quarantine == 0 {
			c.quarantine = defaultQuarantine
		}
	}
	if c.name == "" {
		c.name = fmt.Sprintf("heap-%d", heapSeq.Add(1))
	} else if err := checkName(c.name); err != nil {
		return c, fmt.Errorf("heap %q: %w: %w", c.name, ErrInvalidName, err)
	}
	if c.space == nil {
		c.space = vmem.OS()
	}
	c.caps = c.space.Caps()
	c.page = c.caps.PageSize
	if c.page == 0 || c.page&(c.page-1) != 0 || c.page > 1<<16 {
		return c, fmt.Errorf("heap %q: %w: space %s has page size %d", c.name, ErrInvalidSize, c.space.Name(), c.page)
	}
	c.pageShift = uint8(bits.TrailingZeros(uint(c.page)))
	c.max = limitFor(c.page)
	for _, f := range []struct {
		name string
		v    int
	}{
		{"Reserve", o.Reserve}, {"Commit", o.Commit}, {"Maximum", o.Maximum}, {"CommitLimit", o.CommitLimit},
		{"SegmentReserve", o.SegmentReserve}, {"SegmentCommit", o.SegmentCommit},
		{"SegmentCap", o.SegmentCap}, {"DecommitFreeBlock", o.DecommitFreeBlock},
		{"DecommitTotalFree", o.DecommitTotalFree}, {"HugeBlock", o.HugeBlock},
	} {
		if f.v < 0 {
			return c, fmt.Errorf("heap %q: %w: Options.%s is negative (%d)", c.name, ErrInvalidSize, f.name, f.v)
		}
		if uintptr(f.v) > maxSize && f.v != math.MaxInt {
			return c, fmt.Errorf("heap %q: %w: Options.%s = %d is too large", c.name, ErrTooLarge, f.name, f.v)
		}
	}
	if o.Policy > Fixed {
		return c, fmt.Errorf("heap %q: %w: unknown policy %d", c.name, ErrInvalidSize, o.Policy)
	}
	nt := o.Policy == NT
	pick := func(v int, def uintptr) uintptr {
		switch {
		case v == 0:
			return def
		case v == math.MaxInt:
			return maxSize
		}
		return uintptr(v)
	}
	c.segReserve = pick(o.SegmentReserve, 1<<20)
	if nt {
		c.segCommit = pick(o.SegmentCommit, 2*c.page)
		c.segCap = pick(o.SegmentCap, 8<<20)
		c.decFree = pick(o.DecommitFreeBlock, c.page)
		c.decTotal = pick(o.DecommitTotalFree, 64<<10)
		c.huge = pick(o.HugeBlock, ntHugeBlock(c.caps))
	} else {
		c.segCommit = pick(o.SegmentCommit, 64<<10)
		c.segCap = pick(o.SegmentCap, maxSize)
		c.decFree = pick(o.DecommitFreeBlock, 256<<10)
		c.decTotal = pick(o.DecommitTotalFree, 8<<20)
		c.huge = pick(o.HugeBlock, maxSize)
	}
	if err := o.contradiction(c); err != nil {
		return c, fmt.Errorf("heap %q: %w: %w", c.name, ErrInvalidSize, err)
	}
	c.reserve = uintptr(o.Reserve)
	c.commit = uintptr(o.Commit)
	c.commitLimit, c.reclaim, c.tags = uintptr(o.CommitLimit), o.Reclaim, o.Tags
	if o.Maximum > 0 {
		c.fixed = true
		c.reserve = uintptr(o.Maximum)
		c.huge = maxSize
	}
	return c, nil
}

// contradiction returns the first pair of options that cannot both hold,
// naming both fields and their values, or nil. c holds the defaults already
// picked, so that a field left at zero is compared by its default value
// (and the message says so).
//
// Commit may exceed SegmentReserve when Reserve is zero: the first segment
// then grows to Commit, as RtlCreateHeap rounds the reserve up to the
// commit. With an explicit Reserve or Maximum, Commit must fit it.
func (o Options) contradiction(c config) error {
	field := func(name string, v int, def uintptr) string {
		if v == 0 {
			return fmt.Sprintf("Options.%s (default %s)", name, sizeText(uint64(def)))
		}
		return fmt.Sprintf("Options.%s (%s)", name, sizeText(uint64(v)))
	}
	switch {
	case o.Maximum > 0 && o.Reserve > o.Maximum:
		return fmt.Errorf("%s exceeds %s: a fixed heap reserves exactly its maximum",
			field("Reserve", o.Reserve, 0), field("Maximum", o.Maximum, 0))
	case o.Maximum > 0 && o.Commit > o.Maximum:
		return fmt.Errorf("%s exceeds %s", field("Commit", o.Commit, 0), field("Maximum", o.Maximum, 0))
	case o.Maximum == 0 && o.Reserve > 0 && o.Commit > o.Reserve:
		return fmt.Errorf("%s exceeds %s: the commit is made in the first segment",
			field("Commit", o.Commit, 0), field("Reserve", o.Reserve, 0))
	case o.Maximum > 0 && o.HugeBlock != 0 && o.HugeBlock != math.MaxInt:
		return fmt.Errorf("%s with %s: a fixed heap never reserves huge blocks apart",
			field("HugeBlock", o.HugeBlock, 0), field("Maximum", o.Maximum, 0))
	case o.Maximum > 0 && (o.SegmentReserve != 0 || o.SegmentCap != 0):
		name, v := "SegmentReserve", o.SegmentReserve
		if v == 0 {
			name, v = "SegmentCap", o.SegmentCap
		}
		return fmt.Errorf("%s with %s: a fixed heap never adds segments",
			field(name, v, 0), field("Maximum", o.Maximum, 0))
	case o.CommitLimit > 0 && o.Commit > o.CommitLimit:
		return fmt.Errorf("%s exceeds %s", field("Commit", o.Commit, 0), field("CommitLimit", o.CommitLimit, 0))
	case o.Reclaim != nil && o.CommitLimit == 0:
		return errors.New("Options.Reclaim without Options.CommitLimit: it is called only at the limit")
	case c.segCap < c.segReserve:
		return fmt.Errorf("%s is below %s: segments could not reach their first size",
			field("SegmentCap", o.SegmentCap, c.segCap), field("SegmentReserve", o.SegmentReserve, c.segReserve))
	}
	return nil
}

// MaxNameLen is the longest heap name, in bytes: with MetadataOwner's
// " (metadata)" it stays within the 80 bytes Linux gives a mapping's name
// (PR_SET_VMA_ANON_NAME), and it keeps a map's owner column readable.
const MaxNameLen = 64

// reservedPrefix is the prefix of the Windows process heaps' owner names in
// maps ("process heap 0", "process heap 1"…).
const reservedPrefix = "process heap "

// checkName returns why name cannot name a heap, or nil.
func checkName(name string) error {
	if err := checkPrintable(name); err != nil {
		return err
	}
	return checkReserved(name)
}

// checkPrintable checks what every name the package keeps must be: at
// most MaxNameLen bytes of printable UTF-8, so that it can reach a terminal
// or a page as it is.
func checkPrintable(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("name is %d bytes long, more than %d", len(name), MaxNameLen)
	}
	if !utf8.ValidString(name) {
		return errors.New("name is not valid UTF-8")
	}
	for i, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("name holds the unprintable character %U at byte %d", r, i)
		}
	}
	return nil
}

// checkReserved refuses the names of other owners in maps.
func checkReserved(name string) error {
	// The owner names maps give to other allocators' memory (the list
	// vmmap.IsSystemOwner reads): a heap taking one would be counted as
	// the system's, or hide it.
	for _, n := range vmem.SystemOwners() {
		if strings.EqualFold(name, n) {
			return fmt.Errorf("name %q is reserved for a system owner in maps", n)
		}
	}
	if strings.HasPrefix(strings.ToLower(name), reservedPrefix) {
		return fmt.Errorf("names starting with %q are reserved for the Windows process heaps in maps", reservedPrefix)
	}
	if suffix := MetadataOwner(""); strings.HasSuffix(name, suffix) {
		return fmt.Errorf("names ending in %q are reserved for heaps' bookkeeping", suffix)
	}
	return nil
}
