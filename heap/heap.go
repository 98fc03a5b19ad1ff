package heap

// Design
//
// The heap is built from layers, each in files of its own, as an
// allocation passes through them from the top:
//
//	alloc.go     the API: Alloc, Free, Size, Realloc and their checks
//	pcache.go    per-P caches: a magazine of free blocks per size class
//	central.go   per-class central lists of slabs with blocks available
//	slab.go      slabs: 64 KiB of pages cut into blocks, state out of band
//	pagemap.go   the process's page map: address -> slab record, 2 loads
//	large.go     large blocks: runs of pages, freed ones cached committed
//	huge.go      huge blocks: a reservation each (NT's VirtualAlloc path)
//	pages.go     page runs: free runs in size bins, boundary tags, commit
//	grow.go      segments: growth past the reserve, by policy; lanes.go
//	meta.go      the bookkeeping's memory: page table, slab records;
//	             meta_pool.go, the process's pool of it
//
// Beside them: limit.go (the commit limit, checked where pages are
// committed, made room for at the API), tags.go (tags and leak reports),
// debug.go (debug modes around the API), ref.go (handles), arena.go.
//
// Small blocks (up to 16 KiB, the LFH's limit) come in size classes. An
// Alloc pins its goroutine to its P (pin_linkname.go: runtime.procPin, as
// sync.Pool does) and pops a block from that P's magazine of the class;
// a Free, pinned likewise, looks the block's slab up in the page map (its
// address with the low 16 bits cleared, two dependent loads), checks the
// block's state byte and pushes the block on its P's magazine. Neither takes a lock or an
// atomic read-modify-write; the goroutine never locks, calls the system,
// allocates Go memory or panics while pinned. An empty magazine takes half
// its capacity from the class's central lists, a full one gives half back,
// under the class's lock (central.go). A central list that runs dry takes
// a new slab from the page runs under the heap's lock.
//
// A slab is 64 KiB of pages aligned to 64 KiB, so a block's slab is a
// shift away and the block's index a multiplication by the class's
// reciprocal. Its record, out of band in the heap's metadata, holds a
// state byte per block (busy or free), which Free checks, so interior
// pointers and double frees are errors from the Free that makes them,
// cached blocks included; and a bitmap of the blocks the slab itself holds,
// which only the class's lock guards. Every record is sealed (a hash of
// the heap, the class, its base and its state pointer): a record
// overwritten behind the heap's back fails the seal, and the locked path
// reports ErrCorrupt instead of following a wild pointer.
//
// Large blocks are runs of pages. Free runs sit in size bins (one per page
// count up to 64 pages, then four per doubling) with boundary tags in the
// page table; allocation takes the best fit among a few candidates and
// splits it; freeing coalesces with both neighbours. A freed large block
// first goes to the run cache (large.go), committed, for the next request
// of as many pages or fewer: no system call in steady state. Blocks above
// HugeBlock get a reservation of their own.
//
// Everything the heap needs is out of band and off the Go heap, in its
// metadata: a page table with one 16-byte descriptor per page, numbered
// globally per heap, slab records, state bytes and the per-P caches,
// addressed by index in chunks so that tables grow without moving. In the
// host's space the chunks come from one pool for the process, so that a
// heap adds no mapping of its own for its bookkeeping; in emulated spaces
// each heap keeps its own metadata reservation, planned for its share of
// the space and placed on the side the space does not grow towards. Every
// metadata reservation keeps an uncommitted guard at each end: a write
// running off a neighbouring block faults instead of rewriting metadata.
// Walks stop at runs that leave their segment, ids past the tables read a
// scratch entry and poison the heap; the call that meets corruption
// returns ErrCorrupt, and so does every later call but Destroy.
//
// Commit (pages.go). Pages are committed when a run is handed out through
// the reservation's watermark, at least SegmentCommit and 256 KiB at a time
// (4 MiB with huge pages), and the pages committed ahead are marked so that
// the next runs need no system call; on Linux a reservation costs at most
// two mappings. The watermark is one interval, so a segment added below a
// reservation hands out its runs from the top and commits downward. Each
// descriptor remembers whether its page has been committed since it was
// last decommitted; a page that has not reads as zero, which spares zeroing
// fresh memory. A run leaving the run cache of at least DecommitFreeBlock
// bytes is decommitted while more than DecommitTotalFree bytes are free
// (NT's rule); Compact decommits every free run.
//
// Growth (grow.go) follows the Policy: Default extends the last reservation
// in place or reserves a new range as large as the whole heap so far; in
// the host's 64-bit space it starts in a lane of address space of its own
// (lanes.go), so that extending in place succeeds and a heap stays one
// reservation however many grow beside it. NT reserves segments of 1, 2,
// 4, 8, 8… MiB and gives blocks above HugeBlock a reservation of their own,
// exactly what makes the zebra of PoC.HeapReserve; Fixed reserves equal
// segments. A fixed heap (Maximum) never grows. Limits: a range added
// below is a separate segment, so a free run never spans the boundary
// (Largest is per segment), and page numbers are 32-bit, so a heap holds
// at most 2^32-1 pages (16 TiB of 4 KiB pages).
//
// Locks. The fast paths take none. Each class's lock guards its central
// list and its slabs' bitmaps; the heap's own lock guards the back end
// (page runs, segments, growth, huge blocks, slab records). Lock order:
// class, then heap. A block changes state only where it changes hands:
// inside its P's busy mark (a pinned goroutine working in its cache), or
// under its class's lock, which refills and spills hold while they move
// blocks between a slab and a cache. Whole-heap operations (Validate, Walk,
// Compact, Reset) take every lock, close the caches' gate and wait for the
// busy marks to clear (pcache.go), and move every cached block back to its
// slab, so they see each block where it belongs; Stats sums the caches'
// counters without stopping anyone. Destroy closes the gate as they do,
// then clears the slots and waits until every goroutine pinned before has
// unpinned (a stop of the world, which a pinned goroutine holds off) before
// it releases the caches and the slabs' records: a Free looks its block up
// inside its slot's busy mark for that reason, and paths that waited for a
// class's lock check the heap's state before they touch a block.
// Options.NoSerialize makes one cache and takes no lock at all; two
// calls that overlap on such a heap get ErrConcurrentUse. vmem's registry
// lock is taken only when the heap's address space changes.

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// MetadataOwner is the owner name of the reservations that hold the
// bookkeeping of the heap named name, as maps and vmem.Live show them.
func MetadataOwner(name string) string { return name + " (metadata)" }

// A Heap is a private heap outside the Go garbage-collected heap. It is safe
// for concurrent use unless made with Options.NoSerialize; Destroy must not
// run at the same time as other calls on the heap. See the package documentation for the rules of
// off-heap memory, and Options for its parameters.
type Heap struct {
	mu  sync.Mutex
	cfg config
	// state is stateOK, or why every call fails: destroyed, or metadata
	// found corrupt (the heap is poisoned: only Destroy still works).
	state atomic.Uint32
	// inCall marks a NoSerialize heap in use by a call; misused records
	// that two calls overlapped (errors.go).
	inCall  uint32
	misused bool
	// commitLimit is Options.CommitLimit as SetCommitLimit leaves it
	// (limit.go).
	commitLimit atomic.Uintptr
	// debugCalls counts the debug modes' calls in progress (debug.go).
	debugCalls atomic.Int32
	// tagUse counts live blocks per tag with Options.Tags; bigTags holds
	// the tags of large and huge blocks, under the heap's lock; callers
	// the allocation sites with DebugCallers (tags.go).
	tagUse  *tagCounts
	bigTags map[uintptr]bigTag
	callers callers
	// id tells the heap's slabs from other heaps' in the page map.
	id uint32
	// gate is 1 while a whole-heap operation keeps the caches closed.
	gate    atomic.Uint32
	slots   [maxSlots]atomic.Pointer[pcache]
	nslots  atomic.Int32 // 1 + the highest slot with a cache
	central [numClasses]central
	classes [numClasses]classInfo

	// spare holds, per class, the state bytes of dropped slabs for the
	// next; stateChunk and stateOff cut new ones from a metadata chunk.
	spare      [numClasses][]unsafe.Pointer
	stateChunk unsafe.Pointer
	stateOff   uintptr

	meta arena
	pt   pageTable
	st   slabTable

	res []*vmem.Reservation // the heap's reservations, in creation order
	// view is segs as Free and Size read it, without the heap's lock: a
	// copy published whenever segs changes.
	view atomic.Pointer[[]*segment]
	segs []*segment // sorted by address
	byGP []*segment // sorted by first page number
	huge map[uintptr]*hugeBlock
	// quar holds freed blocks back from reuse (DebugQuarantine), or nil.
	quar *quarantine
	// epoch keys DebugFree's records; Reset starts a new one.
	epoch atomic.Uint64
	// hugeFreed remembers released huge blocks (see huge.go).
	hugeFreed releasedHuge
	nextSeg   uintptr // the next growth segment's size (NT, Fixed)

	bins     [nbins]uint32 // free run lists: head gp+1
	nonempty [binWords]uint64

	// smallLimit is the largest request a size class serves: smallMax, or
	// less when HugeBlock or a fixed heap's size is smaller.
	smallLimit uintptr

	// runs is the run cache (large.go), oldest first; runBytes its size.
	runs     []cachedRun
	runBytes uintptr

	// big counts large and huge blocks since New, failures the calls
	// that could not be served (Counters).
	big      bigCounts
	failures atomic.Uint64
	// gens numbers large and huge blocks' generations (nextGen).
	gens uint16

	freePages uintptr // pages in free runs
	inUse     uintptr // bytes of busy large and huge blocks (small ones: the caches' and central lists' counters)
	blocks    int     // busy large and huge blocks
}

// A segment is a range of pages of one reservation.
type segment struct {
	res     *vmem.Reservation
	base    unsafe.Pointer
	size    uintptr
	gp0     uint32 // number of the first page
	npages  uint32
	touched uint32 // pages from the start ever handed out: Reset clears their descriptors
	// span is size as lookups without the heap's lock read it.
	span atomic.Uintptr
	// below marks a segment that Extend added below its reservation's
	// base: runs are carved from their top and commits reach downward, so
	// the reservation's committed interval, which lies above, grows down
	// only by what is used (see allocPages and commitRun).
	below bool
}

func (s *segment) addr() uintptr { return uintptr(s.base) }

// ptr returns the address of page gp of the segment.
func (s *segment) ptr(gp uint32, page uintptr) unsafe.Pointer {
	return unsafe.Add(s.base, uintptr(gp-s.gp0)*page)
}

// New creates a heap. New(Options{}) is a growable heap with the Default
// policy in the host's address space. New reserves the first segment
// (Reserve, Maximum or SegmentReserve bytes) and commits Commit bytes of it.
func New(o Options) (*Heap, error) {
	c, err := o.config()
	if err != nil {
		return nil, err
	}
	c.owner = claimOwner(c.name)
	h := &Heap{cfg: c, nextSeg: c.segReserve, classes: makeClasses(c.page, c.tags), id: heapIDs.Add(1)}
	if c.tags {
		h.tagUse, h.bigTags = new(tagCounts), make(map[uintptr]bigTag)
	}
	h.commitLimit.Store(c.commitLimit)
	if c.debug&DebugQuarantine != 0 {
		h.quar = newQuarantine(c.quarantine)
	}
	h.smallLimit = min(smallMax, c.huge, h.limit())
	h.meta = arena{space: c.space, owner: MetadataOwner(c.owner), hint: h.metaHint, pooled: usePool(c.space, c.caps)}
	first := c.reserve
	if first == 0 {
		first = max(c.segReserve, c.commit)
		if c.policy == NT {
			h.nextSeg = min(2*h.nextSeg, c.segCap)
		}
	}
	err = h.meta.start(c.plan(first, h.others()+1), c.page, c.caps.TopDown)
	var r *vmem.Reservation
	if err == nil {
		r, err = h.reserveAt(first, laneHint(&c, first))
	}
	if err == nil {
		err = h.addSegment(r, r.Pointer(), r.Size(), false)
	}
	if err == nil && c.commit > 0 {
		err = h.precommit(h.segs[0], c.commit)
	}
	if err != nil {
		h.releaseAll()
		releaseOwner(c.owner)
		return nil, h.noMemory("create", first, err)
	}
	register(h)
	return h, nil
}

// metaHint is the arena's hint for a new metadata reservation of size
// bytes in a large space: metaDistance (or 16 times the heap) below the
// heap's lowest segment where the space places top-down, as far above its
// highest elsewhere, so that the heap can still extend in place towards
// it. Small spaces get no hint: there the first reservation covers the
// heap's share of the space (plan).
func (h *Heap) metaHint(size uintptr) uintptr {
	c := h.cfg.caps
	if smallSpace(c) || len(h.segs) == 0 {
		return 0
	}
	var total uintptr
	for _, r := range h.res {
		total += r.Size()
	}
	d := uintptr(max(metaDistance, 16*uint64(min(total, maxSize/16)))) // small spaces returned above: fits
	g := c.Granularity
	lo := h.segs[0].addr()
	last := h.segs[len(h.segs)-1]
	hi := last.addr() + last.size
	if c.TopDown {
		if uint64(lo) < uint64(d)+uint64(size)+smallSpaceMax { // stay clear of the low 4 GiB
			return 0
		}
		return (lo - d - size) &^ (g - 1)
	}
	a := (hi + d + g - 1) &^ (g - 1)
	if a < hi || a+size < a || (c.MaxAddress != 0 && a+size > c.MaxAddress) {
		return 0
	}
	return a
}

// reserve asks the space for a new reservation carrying the heap's name.
func (h *Heap) reserve(size uintptr) (*vmem.Reservation, error) { return h.reserveAt(size, 0) }

// reserveAt is reserve with a hint (see vmem.Options.Hint; 0 for none).
func (h *Heap) reserveAt(size, hint uintptr) (*vmem.Reservation, error) {
	r, err := h.cfg.space.Reserve(size, vmem.Options{Owner: h.cfg.owner, HugePages: h.cfg.hugePages, Hint: hint})
	if err != nil {
		return nil, err
	}
	h.res = append(h.res, r)
	return r, nil
}

// Name returns the heap's name ("" for a nil heap).
func (h *Heap) Name() string {
	if h == nil {
		return ""
	}
	return h.cfg.name
}

// Owner returns the name maps show for the heap's memory (vmem.Live,
// vmmap's owners; its bookkeeping is MetadataOwner(h.Owner())): the heap's
// Name, or "Name #2", "Name #3"… when another live heap already had that
// name as it was created, so same-named heaps stay apart in maps.
func (h *Heap) Owner() string {
	if h == nil {
		return ""
	}
	return h.cfg.owner
}

// Destroy releases every reservation of the heap: its segments, its huge
// blocks and its metadata. Every later call returns ErrDestroyed, and any
// pointer into the heap becomes invalid: touching it is a fatal fault. If the
// OS refuses a release, Destroy still releases the rest and returns the
// first error; the heap is destroyed either way.
//
// Calls running on other goroutines as Destroy begins finish first: it
// takes every lock and closes the per-P caches' gate, waiting for the calls
// inside them, before it releases anything, and calls that come later get
// ErrDestroyed. A block such a call returned is gone with the heap all the
// same: the caller must not use blocks past Destroy. On a NoSerialize heap,
// which has no locks, a Destroy that meets another call is refused with
// ErrConcurrentUse and the heap stays as it was.
func (h *Heap) Destroy() error {
	if h == nil {
		return nilHeap("destroy")
	}
	if h.cfg.noSerialize {
		if err := h.enter("destroy"); err != nil {
			return err
		}
		defer h.leave()
	}
	h.lockAll()
	if h.state.Load() == stateDestroyed {
		h.unlockAll()
		return fmt.Errorf("heap %q: destroy: %w", h.cfg.name, ErrDestroyed)
	}
	h.state.Store(stateDestroyed)
	if h.cfg.debug != 0 {
		// The debug modes fill and check blocks outside the locks: let
		// the calls in progress finish (they fail at the next lock they
		// take, which they could not while Destroy held them).
		h.unlockAll()
		for h.debugCalls.Load() != 0 {
			runtime.Gosched()
		}
		h.lockAll()
	}
	defer h.unlockAll()
	if err := h.closeGate(false); err != nil {
		return err
	}
	unregister(h)
	defer releaseOwner(h.cfg.owner) // after the ranges have left the maps
	if err := h.releaseAll(); err != nil {
		return fmt.Errorf("heap %q: destroy: %w", h.cfg.name, err)
	}
	return nil
}

func (h *Heap) releaseAll() error {
	h.gate.Store(1) // for good (Destroy closed it): the caches go with the metadata
	// No goroutine may still hold a cache when its memory goes: one that
	// loaded its slot before the slots were cleared is pinned until it has
	// met the closed gate.
	for i := range h.slots {
		h.slots[i].Store(nil)
	}
	h.nslots.Store(0)
	quiesce()
	h.unmapSlabs()
	h.quar.empty()
	var errs []error
	for _, b := range h.huge {
		if err := retire(b.res, h.cfg.space); err != nil {
			errs = append(errs, err)
		}
	}
	for _, r := range h.res {
		if err := retire(r, h.cfg.space); err != nil {
			errs = append(errs, err)
		}
	}
	if err := h.meta.release(); err != nil {
		errs = append(errs, err)
	}
	h.huge, h.res, h.segs, h.byGP = nil, nil, nil, nil
	h.view.Store(nil)
	h.pt.reset()
	h.st.reset()
	h.resetCaches()
	h.spare = [numClasses][]unsafe.Pointer{}
	h.stateChunk, h.stateOff = nil, 0
	h.bins, h.nonempty = [nbins]uint32{}, [binWords]uint64{}
	h.freePages, h.inUse, h.blocks = 0, 0, 0
	h.runs, h.runBytes = nil, 0
	return errors.Join(errs...)
}

// heapIDs numbers heaps for the page map.
var heapIDs atomic.Uint32

// unmapSlabs clears the page map's entries of every slab of the heap. The
// caller holds every lock.
func (h *Heap) unmapSlabs() {
	for id := uint32(0); id < h.st.n; id++ {
		if s := h.st.at(id); s.npages != 0 {
			unmapSlab(uintptr(s.base), s)
		}
	}
}

// lockHeap and unlockHeap take the heap's own lock, which guards the back
// end (pages, segments, growth, huge blocks, slab records).
func (h *Heap) lockHeap() {
	if !h.cfg.noSerialize {
		h.mu.Lock()
	}
}

func (h *Heap) unlockHeap() {
	if !h.cfg.noSerialize {
		h.mu.Unlock()
	}
}

// lockAll takes every class's lock, in order, and then the heap's: no
// block moves between slabs and the back end (Destroy, Stats, Validate,
// Walk, Compact, Reset). Lock order everywhere: class, then heap.
func (h *Heap) lockAll() {
	for c := range h.central {
		h.lockClass(c)
	}
	h.lockHeap()
}

func (h *Heap) unlockAll() {
	h.unlockHeap()
	for c := range h.central {
		h.unlockClass(c)
	}
}

// lock takes the heap's lock and fails on a destroyed heap. The caller
// unlocks with unlockHeap.
func (h *Heap) lock(op string) error {
	h.lockHeap()
	if h.state.Load() != stateOK {
		h.unlockHeap()
		return h.stateErr(op)
	}
	return nil
}

// lockEvery is lock for the operations that need the whole heap still
// (lockAll). The caller unlocks with unlockAll.
func (h *Heap) lockEvery(op string) error {
	h.lockAll()
	if h.state.Load() != stateOK {
		h.unlockAll()
		return h.stateErr(op)
	}
	return nil
}

const (
	stateOK = iota
	stateDestroyed
	stateCorrupt
)

// stateErr is the error of every call on a heap that is not stateOK.
func (h *Heap) stateErr(op string) error {
	if h.state.Load() == stateCorrupt {
		if h.misused {
			return fmt.Errorf("heap %q: %s: %w: the heap's metadata was found broken after calls on it overlapped (%w); only Destroy works",
				h.cfg.name, op, ErrCorrupt, ErrConcurrentUse)
		}
		return fmt.Errorf("heap %q: %s: %w: the heap's metadata was found broken earlier; only Destroy works",
			h.cfg.name, op, ErrCorrupt)
	}
	return fmt.Errorf("heap %q: %s: %w", h.cfg.name, op, ErrDestroyed)
}

// checkTables poisons the heap when a table was read out of its bounds
// (a link or an index in the metadata that cannot be right) and returns
// the error of the call that met it. The caller holds the heap's lock.
func (h *Heap) checkTables(op string) error {
	if !h.pt.bad && !h.st.bad {
		return nil
	}
	h.state.CompareAndSwap(stateOK, stateCorrupt)
	return h.stateErr(op)
}

// lookup returns the segment holding addr and the number of its page, or
// nil, without the heap's lock: it reads the published view of the
// segments, whose page descriptors all exist.
func (h *Heap) lookup(addr uintptr) (*segment, uint32) {
	v := h.view.Load()
	if v == nil {
		return nil, 0
	}
	segs := *v
	lo, hi := 0, len(segs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		s := segs[m]
		switch off := addr - s.addr(); {
		case addr < s.addr():
			hi = m
		case off >= s.span.Load():
			lo = m + 1
		default:
			return s, s.gp0 + uint32(off>>h.cfg.pageShift)
		}
	}
	return nil, 0
}

// segOf returns the segment holding addr, or nil.
func (h *Heap) segOf(addr uintptr) *segment {
	s, _ := h.lookup(addr)
	return s
}

// segOfPage returns the segment holding page gp.
func (h *Heap) segOfPage(gp uint32) *segment {
	i, _ := slices.BinarySearchFunc(h.byGP, gp, func(s *segment, g uint32) int {
		switch {
		case s.gp0+s.npages <= g:
			return -1
		case s.gp0 > g:
			return 1
		}
		return 0
	})
	if i == len(h.byGP) {
		// Only a corrupt page number gets here: answer the last
		// segment, whose bounds stop every walk, and poison the heap.
		h.pt.bad = true
		i--
	}
	return h.byGP[i]
}

// addSegment makes [p, p+size) of r a new segment: one free run whose pages
// are all uncommitted. below marks a range Extend added below r's base.
func (h *Heap) addSegment(r *vmem.Reservation, p unsafe.Pointer, size uintptr, below bool) error {
	n := size / h.cfg.page
	gp, err := h.addPages(n)
	if err != nil {
		return err
	}
	s := &segment{res: r, base: p, size: n * h.cfg.page, gp0: gp, npages: uint32(n), below: below}
	i, _ := slices.BinarySearchFunc(h.segs, s.addr(), func(t *segment, a uintptr) int {
		if t.addr() < a {
			return -1
		}
		return 1
	})
	s.span.Store(s.size)
	h.segs = slices.Insert(h.segs, i, s)
	h.byGP = append(h.byGP, s)
	h.publish()
	h.insertFree(gp, uint32(n), true)
	return nil
}

// addPages numbers n new pages (see roomFor).
func (h *Heap) addPages(n uintptr) (uint32, error) {
	if err := h.roomFor(n); err != nil {
		return 0, err
	}
	return h.pt.add(n)
}

// roomFor makes room in the page table for n more pages and makes the
// descriptors of the first and the last exist: the head and tail of the
// free run they become (or join). After it, adding the pages cannot fail.
func (h *Heap) roomFor(n uintptr) error {
	if err := h.pt.ensure(n); err != nil {
		return err
	}
	first, last := h.pt.n, h.pt.n+uint32(n)-1
	if err := h.pt.touch(&h.meta, first, first+1); err != nil {
		return err
	}
	return h.pt.touch(&h.meta, last, last+1)
}

// publish makes the current segments the view of lookups.
func (h *Heap) publish() {
	v := slices.Clone(h.segs)
	h.view.Store(&v)
}

// growSegment appends n pages that Extend added above s, which must hold
// the last page numbers, and frees them into the segment.
func (h *Heap) growSegment(s *segment, size uintptr) error {
	n := size / h.cfg.page
	if _, err := h.addPages(n); err != nil {
		return err
	}
	gp := s.gp0 + s.npages
	s.npages += uint32(n)
	s.size += n * h.cfg.page
	s.span.Store(s.size)
	h.freeRun(s, gp, uint32(n), true)
	return nil
}

// precommit commits the first n bytes of s at creation (Options.Commit).
func (h *Heap) precommit(s *segment, n uintptr) error {
	n = min(n, s.size)
	if err := s.res.Commit(s.addr(), n); err != nil {
		return err
	}
	pages := uint32((n + h.cfg.page - 1) / h.cfg.page)
	if err := h.pt.touch(&h.meta, s.gp0, s.gp0+pages); err != nil {
		return err
	}
	for gp := s.gp0; gp < s.gp0+pages; gp++ {
		h.pt.at(gp).flags |= flagCommitted
	}
	s.touched = max(s.touched, pages)
	return nil
}

// largest returns the largest request that succeeds without growing the
// heap, from what the free runs allow: a run larger than the small-block
// limit serves a large block of its size; below that a request needs a new
// slab, so the answer is the largest size class whose slab fits the run
// (a 12 KiB run cannot serve Alloc(12 KiB), whose slab takes more pages).
// Blocks free in existing slabs are not counted: they serve only their
// class.
func (h *Heap) largest() uintptr {
	run := h.largestFree()
	if run > h.smallLimit {
		return run
	}
	var best uintptr
	for _, ci := range h.classes {
		if ci.size <= h.smallLimit && uintptr(ci.pages)*h.cfg.page <= run {
			best = max(best, ci.size)
		}
	}
	return best
}

// largestFree returns the largest free run in bytes.
func (h *Heap) largestFree() uintptr {
	for w := binWords - 1; w >= 0; w-- {
		if h.nonempty[w] == 0 {
			continue
		}
		b := w*64 + 63 - bits.LeadingZeros64(h.nonempty[w])
		var best uint32
		for gp, k := h.bins[b], uint32(0); gp != 0; gp, k = h.pt.at(gp-1).a, k+1 {
			if k > h.pt.n {
				h.pt.bad = true // a cycle
				break
			}
			best = max(best, h.pt.at(gp-1).n)
		}
		return uintptr(best) * h.cfg.page
	}
	return 0
}

// noMemory builds the error for a request of n bytes the heap cannot serve
// because of cause: a *NoMemoryError, or ErrTooLarge or ErrInvalidSize when
// the space says the request itself is impossible.
func (h *Heap) noMemory(op string, n uintptr, cause error) error {
	switch {
	case errors.Is(cause, ErrTooLarge):
		return fmt.Errorf("heap %q: %s %d bytes: %w", h.cfg.name, op, n, cause)
	case errors.Is(cause, vmem.ErrInvalidSize):
		return fmt.Errorf("heap %q: %s %d bytes: %w: %w", h.cfg.name, op, n, ErrTooLarge, cause)
	case errors.Is(cause, vmem.ErrInvalidAlign):
		return fmt.Errorf("heap %q: %s %d bytes: %w: %w", h.cfg.name, op, n, ErrInvalidSize, cause)
	}
	return &NoMemoryError{Heap: h.cfg.name, Op: op, Asked: int(min(n, maxSize)), Largest: int(h.largest()), Err: cause}
}
