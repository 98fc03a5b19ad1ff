package cache

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
)

// A shard is one part of a cache: a lock, a zebra heap holding its entries
// and its index, and the SIEVE queue of its entries. Every field is guarded
// by mu. See cache.go for the design.
type shard struct {
	mu     sync.Mutex
	h      *heap.Heap // nil once closed
	t      table
	tblock unsafe.Pointer // the block of t.slots

	// The SIEVE queue: newest is where entries enter, oldest where the
	// hand starts; the hand moves towards newer entries.
	newest, oldest, hand *entry

	limit     int // committed bytes the shard may hold
	target    int // what charged may reach: limit less the measured slack
	committed int // what the heap had committed at the last measure
	charged   int // heap slot bytes of the entries and the table
	peak      int // charged's high point since the last Compact
	written   int // bytes allocated since the last measure

	hits, misses, sets, evictions, expirations uint64

	_ [64]byte // keeps neighbouring shards' locks off one cache line
}

var pageSize = os.Getpagesize()

// slotBytes is what an entry of key and value lengths takes in the heap.
func slotBytes(klen, vlen int) int { return heap.SlotSize(entryHeader+klen+vlen, pageSize) }

func (s *shard) init(name string, limit int) error {
	h, err := heap.New(heap.Options{
		Name: name,
		// A quarter more than the limit: room for what is written between
		// two measures, so the heap stays one range.
		Reserve: limit + min(limit/4, math.MaxInt-limit),
		// The shard's lock serialises every call.
		NoSerialize: true,
		// Hand free page runs back early: the shard's memory is bounded,
		// and what eviction frees should not stay committed.
		DecommitFreeBlock: 64 << 10,
		DecommitTotalFree: max(256<<10, limit/16),
	})
	if err != nil {
		return err
	}
	// The heap's slabs and bookkeeping take a few percent more than the
	// slots charged; measure adjusts from there.
	s.h, s.limit, s.target = h, limit, limit-limit/32
	return s.newTable(minTableLen)
}

// newTable replaces the index by an empty one of n slots.
func (s *shard) newTable(n int) error {
	p, err := s.h.Calloc(n, slotSize)
	if err != nil {
		return err
	}
	if s.tblock != nil {
		s.charged -= heap.SlotSize(tableBytes(len(s.t.slots)), pageSize)
		if err := s.h.Free(s.tblock); err != nil {
			return err
		}
	}
	s.tblock = p
	s.t = table{slots: unsafe.Slice((*slot)(p), n)}
	s.charged += heap.SlotSize(tableBytes(n), pageSize)
	return nil
}

// growTable doubles the index, keeping its entries.
func (s *shard) growTable() error {
	old, oldBlock := s.t.slots, s.tblock
	n := 2 * len(old)
	p, err := s.h.Calloc(n, slotSize)
	if err != nil {
		return err
	}
	s.t = table{slots: unsafe.Slice((*slot)(p), n)}
	s.t.rehash(old)
	s.tblock = p
	s.charged += heap.SlotSize(tableBytes(n), pageSize) - heap.SlotSize(tableBytes(len(old)), pageSize)
	return s.h.Free(oldBlock)
}

// lookup returns the live entry of key, removing it if it has expired.
func (s *shard) lookup(hash uint64, key []byte, now func() int64) *entry {
	i := s.t.find(hash, key)
	if i < 0 {
		return nil
	}
	e := (*entry)(s.t.slots[i].e)
	if e.expire != 0 && e.expire <= now() {
		s.expirations++
		s.removeAt(i, e)
		return nil
	}
	return e
}

// set stores key and value, replacing the key's entry if there is one.
func (s *shard) set(hash uint64, key, value []byte, expire int64) error {
	if i := s.t.find(hash, key); i >= 0 {
		s.removeAt(i, (*entry)(s.t.slots[i].e))
	}
	need := slotBytes(len(key), len(value))
	if s.t.full() {
		need += heap.SlotSize(tableBytes(2*len(s.t.slots)), pageSize)
	}
	for s.charged+need > s.target && s.oldest != nil {
		s.evict()
	}
	if s.t.full() {
		if err := s.growTable(); err != nil {
			return err
		}
	}
	p, err := s.h.Alloc(entryHeader + len(key) + len(value))
	if err != nil {
		return err
	}
	e := (*entry)(p)
	*e = entry{hash: hash, expire: expire, klen: uint32(len(key)), vlen: uint32(len(value))}
	copy(e.key(), key)
	copy(e.value(), value)
	s.pushNewest(e)
	s.t.insert(hash, e)
	s.sets++
	n := slotBytes(len(key), len(value))
	s.charged += n
	s.peak = max(s.peak, s.charged)
	if s.written += n; s.written >= s.limit/32 {
		return s.measure()
	}
	return nil
}

// measure compares what the heap has committed with the limit and moves
// target, what charged may reach. The heap commits more than the shard
// charges (partly used slabs, the slabs' tails, bookkeeping), and how much
// more depends on the sizes stored, so the shard learns it: when the heap
// has grown past the limit since the last measure, target drops by that
// growth, the shard evicts down to it and compacts the heap. Committed
// memory that is over the limit but did not grow is left alone: evicting
// scattered entries would empty no page, only lower the hit ratio. With
// room under the limit, target drifts back up by half the room.
func (s *shard) measure() error {
	s.written = 0
	st := s.h.Stats()
	committed := int(st.Committed + st.MetaCommitted)
	grew := committed - s.committed
	s.committed = committed
	if committed <= s.limit {
		s.target = min(s.limit, s.target+(s.limit-committed)/2)
		return nil
	}
	if grew <= 0 {
		return nil
	}
	s.target = max(s.limit/2, s.target-min(grew, committed-s.limit))
	for s.charged > s.target && s.oldest != nil {
		s.evict()
	}
	return s.compact()
}

// compact gives the heap's free pages back to the OS.
func (s *shard) compact() error {
	s.peak = s.charged
	_, err := s.h.Compact()
	return err
}

// evict removes the entry SIEVE picks: the hand moves from where it
// stopped (the oldest entry at first) towards newer entries, clearing the
// visited bits it passes, and stops at the first entry not visited since
// it last passed; from the newest it wraps around to the oldest.
func (s *shard) evict() {
	e := s.hand
	if e == nil {
		e = s.oldest
	}
	for e.visited != 0 {
		e.visited = 0
		if e = e.newerEntry(); e == nil {
			e = s.oldest
		}
	}
	s.evictions++
	s.hand = e // removing e moves the hand to the next newer entry
	s.removeAt(s.t.indexOf(e), e)
}

// removeAt removes entry e, held in slot i, and frees its block.
func (s *shard) removeAt(i int, e *entry) {
	s.t.removeAt(i)
	s.unlink(e)
	s.charged -= slotBytes(int(e.klen), int(e.vlen))
	// A block the shard allocated cannot be refused by its own heap;
	// an error here would be a broken invariant, which Validate reports.
	_ = s.h.Free(unsafe.Pointer(e))
}

func (s *shard) pushNewest(e *entry) {
	e.older = unsafe.Pointer(s.newest)
	if s.newest != nil {
		s.newest.newer = unsafe.Pointer(e)
	} else {
		s.oldest = e
	}
	s.newest = e
}

func (s *shard) unlink(e *entry) {
	if s.hand == e {
		s.hand = e.newerEntry()
	}
	if n := e.newerEntry(); n != nil {
		n.older = e.older
	} else {
		s.newest = e.olderEntry()
	}
	if o := e.olderEntry(); o != nil {
		o.newer = e.newer
	} else {
		s.oldest = e.newerEntry()
	}
}

// delete removes key's entry and reports whether there was one. When the
// shard has shrunk by a quarter of its limit since the last Compact, the
// freed memory goes back to the OS.
func (s *shard) delete(hash uint64, key []byte) (bool, error) {
	i := s.t.find(hash, key)
	if i < 0 {
		return false, nil
	}
	s.removeAt(i, (*entry)(s.t.slots[i].e))
	if s.peak-s.charged > s.limit/4 {
		return true, s.compact()
	}
	return true, nil
}

// reset drops every entry and decommits what the heap can.
func (s *shard) reset() error {
	if err := s.h.Reset(); err != nil {
		return err
	}
	s.t, s.tblock, s.charged = table{}, nil, 0
	s.newest, s.oldest, s.hand = nil, nil, nil
	s.target = s.limit
	err := s.newTable(minTableLen)
	return errors.Join(err, s.compact())
}

// close destroys the shard's heap.
func (s *shard) close() error {
	name, err := s.h.Name(), s.h.Destroy()
	s.h, s.t, s.tblock, s.charged = nil, table{}, nil, 0
	s.newest, s.oldest, s.hand = nil, nil, nil
	if err != nil {
		return fmt.Errorf("cache: closing %s: %w", name, err)
	}
	return nil
}
