package heap

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// The heap's bookkeeping lives outside the blocks it hands out and outside
// the Go heap: in reservations of its own, named "<heap> (metadata)", cut
// into fixed chunks of metaChunk bytes. Tables (page descriptors, slab
// records) are lists of chunks addressed by index, so they grow without
// moving and pointers into them stay valid. See heap.go for the overview.

// metaChunk is the unit the arena hands out: one Windows allocation
// granule, 4096 page descriptors (16 MiB of heap with 4 KiB pages).
const metaChunk = 64 << 10

// metaStep is how much metadata the arena commits at a time.
const metaStep = 4 * metaChunk

// smallSpaceMax is the largest space (Caps.MaxAddress) in which a Default
// heap plans its metadata for the whole space up front: 32-bit hosts and
// emulated windows, where that is at most ~40 MiB for a heap alone (see
// plan for heaps sharing a space) and keeps every later
// metadata reservation out of the way of heaps extending in place. In
// larger spaces metadata starts small and grows (see arena).
const smallSpaceMax = 4 << 30

// metaDistance is how far from a heap's segments a later metadata
// reservation is placed in large spaces (at least; 16 times the heap when
// that is more): room for the heap to extend in place towards it.
const metaDistance uint64 = 64 << 30

func smallSpace(c vmem.Caps) bool { return c.MaxAddress != 0 && uint64(c.MaxAddress) <= smallSpaceMax }

// An arena hands out committed, zeroed chunks. Its first reservation is
// made for the heap's first segment (see plan), address space only, and
// committed chunk by chunk from its base up as tables need chunks; the
// page table makes chunks only for pages in use (pageTable), so what is
// committed follows what the heap uses, not what it reserves. When a
// reservation is full the arena extends it above (in top-down spaces, the
// side away from the heap, which grows down) or, failing that, reserves
// another range twice as large, up to 64 MiB, at the hint the heap gives:
// far from the heap's segments, so that it does not sit where the heap
// extends in place. Metadata address space stays near 1/100 of the heap's
// pages in use plus a few chunks.
type arena struct {
	space vmem.Space
	owner string
	up    bool // extend above when full (top-down spaces)
	res   []*vmem.Reservation
	cur   *vmem.Reservation
	off   uintptr // next free byte in cur
	done  uintptr // end of what is committed in cur
	// guard is left uncommitted at both ends of every reservation, so
	// that a write running off the end of a neighbouring heap block
	// faults instead of rewriting descriptors.
	guard uintptr
	next  uintptr // size of the next reservation or extension
	// hint, when set, gives the preferred base of a new reservation of
	// the given size (vmem.Options.Hint), or 0 for none.
	hint func(size uintptr) uintptr
	// pooled arenas take their chunks from the process's metadata pool
	// (meta_pool.go) and keep only the list of them.
	pooled bool
	owned  []unsafe.Pointer
}

// metaBytes returns the metadata address space a heap of plan bytes may
// need: a page descriptor per page, a slab record per slabBytes, a state
// byte per block (planned at one per 512 bytes: 300-byte blocks take one
// per 304, 16-byte ones one per 16, and the arena grows past the plan when
// a heap needs more), and two chunks of slack, in whole chunks.
func metaBytes(plan, page uintptr) uintptr {
	n := plan/page*descSize + plan/slabBytes*slabSize + plan/512 + 2*metaChunk
	return (n + metaChunk - 1) &^ (metaChunk - 1)
}

// plan returns the heap size the arena's first reservation is made for:
// the maximum of a fixed heap; for a growable heap with the Default policy
// in a small space (smallSpaceMax), its share of the space, which heaps
// in it (counting this one) share, up to the heap's limit and at least
// its first segment; elsewhere the first segment for Default (the page
// table grows with use) and four first segments for NT and Fixed, which
// add segments sooner. The share keeps later metadata reservations, which
// the space places where it likes, from landing where a heap would extend
// in place, without every one of 48 heaps in a 2 GiB window reserving ~19
// MiB of bookkeeping for the whole space, 900 MiB in all.
func (c *config) plan(first uintptr, heaps int) uintptr {
	switch {
	case c.fixed:
		return c.reserve
	case c.policy == Default && smallSpace(c.caps):
		return max(uintptr(min(uint64(c.caps.MaxAddress)/uint64(max(heaps, 1)), uint64(c.max))), first)
	case c.policy == Default:
		return first
	}
	return min(first, maxSize/4) * 4
}

// start makes the arena's first reservation, for the metadata of a heap of
// up to plan bytes. Heaps call it before reserving their first segment, so
// that the metadata lies on the side the space does not grow towards
// (above the heap where mappings go top-down, below it where they go
// bottom-up) and leaves the heap room to extend in place.
func (a *arena) start(plan, page uintptr, topDown bool) error {
	if a.pooled {
		return nil
	}
	a.next, a.up = metaBytes(plan, page), topDown
	a.guard = max(a.space.Caps().Granularity, page)
	_, err := a.chunk()
	a.off = a.guard // the chunk is handed out again, committed, by the first table
	return err
}

func (a *arena) chunk() (unsafe.Pointer, error) {
	if a.pooled {
		p, err := poolChunk()
		if err == nil {
			a.owned = append(a.owned, p)
		}
		return p, err
	}
	if a.cur == nil || a.off+metaChunk > a.cur.Size()-a.guard {
		if err := a.more(); err != nil {
			return nil, err
		}
	}
	if a.cur.Base()+a.off+metaChunk > a.done {
		// Commit a few chunks at a time: one system call per metaStep.
		end := min(a.cur.Base()+a.off+metaStep, a.cur.Base()+a.cur.Size()-a.guard)
		if err := a.cur.Commit(a.cur.Base()+a.off, end-a.cur.Base()-a.off); err != nil {
			return nil, err
		}
		a.done = end
	}
	p := unsafe.Add(a.cur.Pointer(), a.off)
	a.off += metaChunk
	return p, nil
}

// more makes room for at least one more chunk: it extends the current
// reservation above, where that is the far side from the heap, else
// reserves a new one. Chunks handed out stay where they are either way.
func (a *arena) more() error {
	if a.next == 0 {
		a.next = metaBytes(0, 1)
	}
	defer func() { a.next = min(2*a.next, max(a.next, 64<<20)) }()
	if a.cur != nil && a.up && a.cur.Extend(vmem.Above, a.next) == nil {
		return nil
	}
	// A crowded space may have no room for the planned size: halve it
	// down to one chunk rather than fail the heap's allocation.
	size := a.next
	reserve := func() (*vmem.Reservation, error) {
		o := vmem.Options{Owner: a.owner}
		if a.hint != nil {
			o.Hint = a.hint(size + 2*a.guard)
		}
		return a.space.Reserve(size+2*a.guard, o)
	}
	r, err := reserve()
	for err != nil && errors.Is(err, vmem.ErrNoMemory) && size > metaChunk {
		size = max(size/2&^(metaChunk-1), metaChunk)
		a.next = size
		r, err = reserve()
	}
	if err != nil {
		return err
	}
	a.res = append(a.res, r)
	a.cur, a.off, a.done = r, a.guard, 0
	return nil
}

// reserved and committed report the arena's address space and watermark.
func (a *arena) reserved() (n uintptr) {
	if a.pooled {
		return uintptr(len(a.owned)) * metaChunk
	}
	for _, r := range a.res {
		n += r.Size()
	}
	return n
}

func (a *arena) committed() (n uintptr) {
	if a.pooled {
		return uintptr(len(a.owned)) * metaChunk
	}
	for _, r := range a.res {
		n += r.Committed()
	}
	return n
}

func (a *arena) resident() (n uint64) {
	for _, p := range a.owned {
		k, ok := residentRange(p, metaChunk)
		if !ok {
			k = metaChunk
		}
		n += k
	}
	for _, r := range a.res {
		n += resident(r)
	}
	return n
}

// release gives every metadata reservation back; it keeps going after an
// error and returns the first.
func (a *arena) release() error {
	if a.pooled {
		err := poolPut(a.owned)
		a.owned = nil
		return err
	}
	var first error
	for _, r := range a.res {
		if err := retire(r, a.space); err != nil && first == nil {
			first = err
		}
	}
	a.res, a.cur, a.off, a.done = nil, nil, 0, 0
	return first
}

// ---------------------------------------------------------------------------
// Page descriptors.

// A pageDesc describes one page of a segment. Pages are numbered globally
// per heap (gp): each segment owns a contiguous range of numbers, so a run
// of pages is a range of numbers and free-list links are numbers, not
// pointers. Only the head and the tail of a run carry its tags; every other
// page is kindInner, the zero value, so a fresh chunk describes nothing.
type pageDesc struct {
	kind  uint8
	flags uint8
	gen   uint16 // large head: the block's generation (ref.go)
	n     uint32 // free head/tail and large head: run length in pages; slab page: index in the slab
	a     uint32 // free head: next in the bin list, gp+1 (0 ends); slab page: slab id
	b     uint32 // free head: previous in the bin list, gp+1 (0 starts)
}

const (
	kindInner    = iota // inside a run (or unused)
	kindFreeHead        // first page of a free run
	kindFreeTail        // last page of a free run of two pages or more
	kindLarge           // first page of a busy run (a large block)
	kindSlab            // a page of a slab of small blocks
	kindCached          // first page of a freed large block kept committed (large.go)
)

const (
	// flagCommitted marks a page committed since its last decommit (so
	// its contents may be dirty). A page without it reads as zero and must
	// be committed before use.
	flagCommitted = 1 << iota
	// flagRunUncommitted, on a free run's head, says some pages of the run
	// may lack flagCommitted, so allocating from it must look.
	flagRunUncommitted
	// flagFreed marks the head page of a large block that was freed, until
	// the page is handed out again: a second Free there is a double free,
	// not a pointer the heap never returned.
	flagFreed
	// flagClean marks a page committed ahead of use and never handed out
	// since: it still reads as zero.
	flagClean
	// flagFreedSlab marks a page of a slab that was released, its class+1
	// in gen, until the page is handed out again: a Free of one of its
	// blocks is a double free (the second Free of the block that emptied
	// the slab), not a pointer the heap never returned.
	flagFreedSlab
)

const (
	descSize      = unsafe.Sizeof(pageDesc{})
	descsPerChunk = metaChunk / descSize
)

// A chunkList is a table's list of chunks. Free and Size read it without
// the heap's lock, so the list is published copy-on-write when it grows and
// its slots are read and set atomically: readers see a list whose every
// non-nil chunk is committed. The page table's list is sparse: a slot stays
// nil until a page it describes is used (pageTable.touch).
type chunkList struct {
	v atomic.Pointer[[]unsafe.Pointer]
}

func (l *chunkList) get() []unsafe.Pointer {
	if p := l.v.Load(); p != nil {
		return *p
	}
	return nil
}

// slot returns chunk i of cs, or nil when it is not made yet.
func slot(cs []unsafe.Pointer, i uintptr) unsafe.Pointer { return atomic.LoadPointer(&cs[i]) }

func (l *chunkList) add(c unsafe.Pointer) {
	s := append(l.get(), c)
	l.v.Store(&s)
}

// grow makes the list n slots long, the new ones nil, doubling its
// capacity so that a heap growing step by step copies it a logarithmic
// number of times.
func (l *chunkList) grow(n uintptr) {
	cs := l.get()
	if n <= uintptr(len(cs)) {
		return
	}
	if n <= uintptr(cap(cs)) {
		// Slots past the length were never set: they read nil.
		s := cs[:n]
		l.v.Store(&s)
		return
	}
	s := make([]unsafe.Pointer, n, max(n, 2*uintptr(cap(cs))))
	for i := range cs {
		s[i] = slot(cs, uintptr(i))
	}
	l.v.Store(&s)
}

func (l *chunkList) reset() { l.v.Store(nil) }

// A pageTable holds a descriptor per page, in chunks made when first used:
// a page never handed out, and not the head or tail of a free run, reads as
// the zero descriptor (inner, uncommitted) without any memory behind it. So
// a heap reserving 1 TiB commits the two chunks of its one free run's head
// and tail, not 4 GiB, and Compact clears flags only where chunks exist.
type pageTable struct {
	chunks chunkList
	n      uint32 // page numbers handed out
	// bad records a read past the table (a corrupt link or length): at
	// returns scratch instead of faulting, and the heap is poisoned
	// (Heap.checkTables).
	bad     bool
	scratch pageDesc
}

// zeroDesc is what peek answers for a page whose chunk does not exist. It
// is never written.
var zeroDesc pageDesc

// at returns the descriptor of page gp, which should be below t.n, for a
// caller holding the heap's lock. A page without a chunk reads as zero
// through scratch: writes to it are lost, so every write goes to a page
// made by touch first (a page handed out, or a free run's head or tail).
func (t *pageTable) at(gp uint32) *pageDesc {
	cs := t.chunks.get()
	i := uintptr(gp) / descsPerChunk
	if i >= uintptr(len(cs)) {
		t.bad = true
		t.scratch = pageDesc{}
		return &t.scratch
	}
	c := slot(cs, i)
	if c == nil {
		t.scratch = pageDesc{}
		return &t.scratch
	}
	return (*pageDesc)(unsafe.Add(c, uintptr(gp)%descsPerChunk*descSize))
}

// peek is at for lookups without the heap's lock: a page past the table or
// without a chunk reads as zeroDesc, and the caller falls back to the
// locked path, which reports what is wrong.
func (t *pageTable) peek(gp uint32) *pageDesc {
	cs := t.chunks.get()
	i := uintptr(gp) / descsPerChunk
	if i >= uintptr(len(cs)) {
		return &zeroDesc
	}
	c := slot(cs, i)
	if c == nil {
		return &zeroDesc
	}
	return (*pageDesc)(unsafe.Add(c, uintptr(gp)%descsPerChunk*descSize))
}

// has reports whether page gp has a chunk: pages without one are inner and
// uncommitted, so walks may skip to the next chunk.
func (t *pageTable) has(gp uint32) bool {
	cs := t.chunks.get()
	i := uintptr(gp) / descsPerChunk
	return i < uintptr(len(cs)) && slot(cs, i) != nil
}

// nextChunk returns the first page of the chunk after gp's.
func nextChunk(gp uint32) uint32 {
	return uint32((uintptr(gp)/descsPerChunk + 1) * descsPerChunk)
}

// touch makes the chunks describing pages [lo, hi) (below t.n + what
// ensure made room for) exist, committed and zeroed.
func (t *pageTable) touch(a *arena, lo, hi uint32) error {
	cs := t.chunks.get()
	for i := uintptr(lo) / descsPerChunk; lo < hi && i <= uintptr(hi-1)/descsPerChunk; i++ {
		if i >= uintptr(len(cs)) {
			t.bad = true
			return fmt.Errorf("%w: page %d is past the page table", ErrCorrupt, uint64(i)*uint64(descsPerChunk))
		}
		if slot(cs, i) != nil {
			continue
		}
		c, err := a.chunk()
		if err != nil {
			return err
		}
		atomic.StorePointer(&cs[i], c)
	}
	return nil
}

// clearFlags clears mask in the descriptors of pages [lo, hi) that exist,
// writing only those that have it.
func (t *pageTable) clearFlags(lo, hi uint32, mask uint8) {
	for g := lo; g < hi; {
		if !t.has(g) {
			g = nextChunk(g)
			continue
		}
		for end := min(hi, nextChunk(g)); g < end; g++ {
			// Only where set: a write would make the page resident.
			if d := t.at(g); d.flags&mask != 0 {
				d.flags &^= mask
			}
		}
	}
}

func (t *pageTable) reset() { t.chunks.reset(); t.n, t.bad = 0, false }

// add hands out numbers for n more pages, growing the table.
func (t *pageTable) add(n uintptr) (uint32, error) {
	if err := t.ensure(n); err != nil {
		return 0, err
	}
	first := t.n
	t.n += uint32(n)
	return first, nil
}

// ensure makes room for n more pages without handing out their numbers,
// so that a caller can make sure add will succeed before it commits to
// something it cannot undo (an Extend). The room is slots only: chunks are
// made by touch.
func (t *pageTable) ensure(n uintptr) error {
	if uint64(t.n)+uint64(n) > maxPages {
		return fmt.Errorf("%w: the page table holds at most 2^32-1 pages", ErrTooLarge)
	}
	t.chunks.grow((uintptr(t.n) + n + descsPerChunk - 1) / descsPerChunk)
	return nil
}

// ---------------------------------------------------------------------------
// Slab records.

// A slab record is described in slab.go.

const (
	slabSize      = unsafe.Sizeof(slabRec{})
	slabsPerChunk = metaChunk / slabSize
)

type slabTable struct {
	chunks  chunkList
	n       uint32 // records handed out
	free    uint32 // free record list, id+1
	bad     bool   // as pageTable.bad
	scratch slabRec
}

func (t *slabTable) at(id uint32) *slabRec {
	if s := t.lookup(id); s != nil {
		return s
	}
	t.bad = true
	t.scratch = slabRec{}
	return &t.scratch
}

// lookup returns record id, or nil when the table has no such record: for
// ids read from metadata without the heap's lock, or corrupted.
func (t *slabTable) lookup(id uint32) *slabRec {
	cs := t.chunks.get()
	if i := uintptr(id) / slabsPerChunk; i < uintptr(len(cs)) {
		return (*slabRec)(unsafe.Add(cs[i], uintptr(id)%slabsPerChunk*slabSize))
	}
	return nil
}

func (t *slabTable) reset() { t.chunks.reset(); t.n, t.free, t.bad = 0, 0, false }

// get returns a zeroed record.
func (t *slabTable) get(a *arena) (uint32, *slabRec, error) {
	if t.free != 0 {
		id := t.free - 1
		s := t.at(id)
		t.free = s.next
		*s = slabRec{}
		return id, s, nil
	}
	if uintptr(t.n) >= uintptr(len(t.chunks.get()))*slabsPerChunk {
		p, err := a.chunk()
		if err != nil {
			return 0, nil, err
		}
		t.chunks.add(p)
	}
	id := t.n
	t.n++
	s := t.at(id)
	*s = slabRec{} // stale after Reset
	return id, s, nil
}

func (t *slabTable) put(id uint32) {
	s := t.at(id)
	*s = slabRec{}
	s.next = t.free
	t.free = id + 1
}
