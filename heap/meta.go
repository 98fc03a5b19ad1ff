package heap

import (
	"fmt"
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

// arena hands out committed, zeroed chunks from reservations that double in
// size (256 KiB up to 64 MiB), so a heap's metadata takes few ranges.
type arena struct {
	space vmem.Space
	owner string
	res   []*vmem.Reservation
	cur   *vmem.Reservation
	off   uintptr // next free byte in cur
	next  uintptr // size of the next reservation
}

// start makes the arena's first reservation, large enough for the metadata
// of a heap of about heapBytes, growing 4×. Heaps call it before reserving
// their first segment, so that the metadata lies on the side the space does
// not grow towards (above the heap where mappings go top-down, below it
// where they go bottom-up) and leaves the heap room to extend in place.
func (a *arena) start(heapBytes, page uintptr) error {
	want := 4*(heapBytes/page*descSize) + 256<<10
	a.next = min(max(want, 256<<10), 64<<20) &^ (metaChunk - 1)
	_, err := a.chunk()
	a.off = 0 // the chunk is handed out again, committed, by the first table
	return err
}

func (a *arena) chunk() (unsafe.Pointer, error) {
	if a.cur == nil || a.off+metaChunk > a.cur.Size() {
		if a.next == 0 {
			a.next = 256 << 10
		}
		r, err := a.space.Reserve(a.next, vmem.Options{Owner: a.owner})
		if err != nil {
			return nil, err
		}
		a.res = append(a.res, r)
		a.cur, a.off = r, 0
		a.next = min(2*a.next, 64<<20)
	}
	if err := a.cur.Commit(a.cur.Base()+a.off, metaChunk); err != nil {
		return nil, err
	}
	p := unsafe.Add(a.cur.Pointer(), a.off)
	a.off += metaChunk
	return p, nil
}

// reserved and committed report the arena's address space and watermark.
func (a *arena) reserved() (n uintptr) {
	for _, r := range a.res {
		n += r.Size()
	}
	return n
}

func (a *arena) committed() (n uintptr) {
	for _, r := range a.res {
		n += r.Committed()
	}
	return n
}

// release gives every metadata reservation back; it keeps going after an
// error and returns the first.
func (a *arena) release() error {
	var first error
	for _, r := range a.res {
		if err := r.Release(); err != nil && first == nil {
			first = err
		}
	}
	a.res, a.cur, a.off = nil, nil, 0
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
	_     uint16
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
)

const (
	// flagCommitted marks a page committed since its last decommit (so
	// its contents may be dirty). A page without it reads as zero and must
	// be committed before use.
	flagCommitted = 1 << iota
	// flagRunUncommitted, on a free run's head, says some pages of the run
	// may lack flagCommitted, so allocating from it must look.
	flagRunUncommitted
)

const (
	descSize      = unsafe.Sizeof(pageDesc{})
	descsPerChunk = metaChunk / descSize
)

type pageTable struct {
	chunks []unsafe.Pointer
	n      uint32 // page numbers handed out
}

// at returns the descriptor of page gp, which must be below t.n.
func (t *pageTable) at(gp uint32) *pageDesc {
	return (*pageDesc)(unsafe.Add(t.chunks[uintptr(gp)/descsPerChunk], uintptr(gp)%descsPerChunk*descSize))
}

// add hands out numbers for n more pages, growing the table.
func (t *pageTable) add(a *arena, n uintptr) (uint32, error) {
	if uintptr(t.n)+n > 1<<32-1 {
		return 0, fmt.Errorf("%w: the page table holds at most 2^32-1 pages", ErrTooLarge)
	}
	first := t.n
	for uintptr(len(t.chunks))*descsPerChunk < uintptr(first)+n {
		p, err := a.chunk()
		if err != nil {
			return 0, err
		}
		t.chunks = append(t.chunks, p)
	}
	t.n += uint32(n)
	return first, nil
}

// ---------------------------------------------------------------------------
// Slab records.

// slabWords bounds the objects of one slab: 1024, enough for 16-byte blocks
// in 16 KiB pages.
const slabWords = 16

// A slabRec describes one slab: a run of pages cut into blocks of one size
// class, with a bitmap of busy blocks.
type slabRec struct {
	bits   [slabWords]uint64
	gp     uint32 // first page
	next   uint32 // partial list (or free record list): id+1, 0 ends
	prev   uint32
	nobj   uint16
	used   uint16
	class  uint8
	npages uint8
	listed bool // in its class's partial list
	hint   uint8
}

const (
	slabSize      = unsafe.Sizeof(slabRec{})
	slabsPerChunk = metaChunk / slabSize
)

type slabTable struct {
	chunks []unsafe.Pointer
	n      uint32 // records handed out
	free   uint32 // free record list, id+1
}

func (t *slabTable) at(id uint32) *slabRec {
	return (*slabRec)(unsafe.Add(t.chunks[uintptr(id)/slabsPerChunk], uintptr(id)%slabsPerChunk*slabSize))
}

// get returns a zeroed record.
func (t *slabTable) get(a *arena) (uint32, *slabRec, error) {
	if t.free != 0 {
		id := t.free - 1
		s := t.at(id)
		t.free = s.next
		*s = slabRec{}
		return id, s, nil
	}
	if uintptr(t.n) >= uintptr(len(t.chunks))*slabsPerChunk {
		p, err := a.chunk()
		if err != nil {
			return 0, nil, err
		}
		t.chunks = append(t.chunks, p)
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
