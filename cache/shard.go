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
// and its index, and the S3-FIFO queues of its entries. Every field is
// guarded by mu. See cache.go for the design.
type shard struct {
	mu     sync.Mutex
	h      *heap.Heap // nil once closed
	t      table
	g      ghost
	tblock unsafe.Pointer // the block of t.slots and g.buckets

	// S3-FIFO's queues: new keys enter small; keys read there, and keys
	// the ghost remembers, go to main.
	small, main fifo

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

// newTable replaces the index and the ghost by empty ones for n slots.
func (s *shard) newTable(n int) error {
	p, err := s.h.Calloc(1, tableBytes(n))
	if err != nil {
		return err
	}
	if s.tblock != nil {
		s.charged -= heap.SlotSize(tableBytes(len(s.t.slots)), pageSize)
		if err := s.h.Free(s.tblock); err != nil {
			return err
		}
	}
	s.setTable(p, n)
	return nil
}

// setTable makes the zeroed block p, of tableBytes(n), the index and the
// ghost: n slots, then the ghost's buckets.
func (s *shard) setTable(p unsafe.Pointer, n int) {
	s.tblock = p
	s.t = table{slots: unsafe.Slice((*slot)(p), n)}
	s.g = ghost{buckets: unsafe.Slice((*ghostBucket)(unsafe.Add(p, n*slotSize)), ghostBuckets(n))}
	s.charged += heap.SlotSize(tableBytes(n), pageSize)
}

// growTable doubles the index, keeping its entries. The ghost starts
// afresh: its buckets come from hash bits the new size changes, and it
// only grows while the shard fills, when it has remembered little.
func (s *shard) growTable() error {
	old, oldBlock := s.t.slots, s.tblock
	n := 2 * len(old)
	p, err := s.h.Calloc(1, tableBytes(n))
	if err != nil {
		return err
	}
	s.charged -= heap.SlotSize(tableBytes(len(old)), pageSize)
	s.setTable(p, n)
	s.t.rehash(old)
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
	// A replaced entry's successor keeps its queue and counts as a read;
	// a key the ghost remembers was evicted from small too early.
	var freq uint8
	q := &s.small
	n := slotBytes(len(key), len(value))
	if i := s.t.find(hash, key); i >= 0 {
		old := (*entry)(s.t.slots[i].e)
		if n == slotBytes(int(old.klen), int(old.vlen)) && s.h.ReallocInPlace(unsafe.Pointer(old), entryHeader+len(key)+len(value)) == nil {
			// The new value fits the old entry's slot: overwrite it where
			// it is, in its queue and index slot, and charge nothing new.
			// This spares a replacement the free, the allocation, the
			// unlink (two more headers touched) and the index's shift.
			old.vlen, old.expire, old.freq = uint32(len(value)), expire, min(old.freq+1, maxFreq)
			copy(old.value(), value)
			s.sets++
			return nil
		}
		if old.queue == inMain {
			q = &s.main
		}
		freq = min(old.freq+1, maxFreq)
		s.removeAt(i, old)
	} else if s.g.take(hash) {
		q = &s.main
	}
	need := n
	if s.t.full() {
		need += heap.SlotSize(tableBytes(2*len(s.t.slots)), pageSize)
	}
	for s.charged+need > s.target && s.t.n > 0 {
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
	*e = entry{hash: hash, expire: expire, klen: uint16(len(key)), vlen: uint32(len(value)), freq: freq}
	copy(e.key(), key)
	copy(e.value(), value)
	s.push(q, e, n)
	s.t.insert(hash, e)
	s.sets++
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
	for s.charged > s.target && s.t.n > 0 {
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

// evict takes one step of S3-FIFO's eviction (Yang et al., SOSP '23):
// while small holds at least its share of the target (or main is empty),
// small's oldest entry goes to main if it was read there, or else out,
// its hash to the ghost; otherwise main's oldest entry goes back to main's
// newest end with one read less if it was read, or else out. A step that
// only moves an entry frees nothing: callers loop until there is room.
// Each entry moves at most maxFreq+1 times before it is evicted, so the
// loop ends.
func (s *shard) evict() {
	if e := s.small.oldest; e != nil && (s.small.bytes >= s.target/smallShare || s.main.oldest == nil) {
		n := slotBytes(int(e.klen), int(e.vlen))
		s.small.unlink(e, n)
		if e.freq > 0 {
			e.freq = 0
			s.push(&s.main, e, n)
			return
		}
		s.g.add(e.hash)
		s.evictions++
		s.drop(s.t.indexOf(e), e, n)
		return
	}
	e := s.main.oldest
	n := slotBytes(int(e.klen), int(e.vlen))
	s.main.unlink(e, n)
	if e.freq > 0 {
		e.freq--
		s.push(&s.main, e, n)
		return
	}
	s.evictions++
	s.drop(s.t.indexOf(e), e, n)
}

// removeAt removes entry e, held in slot i, from its queue and the index,
// and frees its block.
func (s *shard) removeAt(i int, e *entry) {
	n := slotBytes(int(e.klen), int(e.vlen))
	s.queueOf(e).unlink(e, n)
	s.drop(i, e, n)
}

// drop removes entry e, of n slot bytes, held in slot i and in no queue,
// from the index, and frees its block.
func (s *shard) drop(i int, e *entry, n int) {
	s.t.removeAt(i)
	s.charged -= n
	// A block the shard allocated cannot be refused by its own heap;
	// an error here would be a broken invariant, which Validate reports.
	_ = s.h.Free(unsafe.Pointer(e))
}

func (s *shard) queueOf(e *entry) *fifo {
	if e.queue == inMain {
		return &s.main
	}
	return &s.small
}

// push makes e, of n slot bytes, the newest entry of q.
func (s *shard) push(q *fifo, e *entry, n int) {
	e.queue = inSmall
	if q == &s.main {
		e.queue = inMain
	}
	q.push(e, n)
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
	s.t, s.g, s.tblock, s.charged = table{}, ghost{}, nil, 0
	s.small, s.main = fifo{}, fifo{}
	s.target = s.limit
	err := s.newTable(minTableLen)
	return errors.Join(err, s.compact())
}

// close destroys the shard's heap.
func (s *shard) close() error {
	name, err := s.h.Name(), s.h.Destroy()
	s.h, s.t, s.g, s.tblock, s.charged = nil, table{}, ghost{}, nil, 0
	s.small, s.main = fifo{}, fifo{}
	if err != nil {
		return fmt.Errorf("cache: closing %s: %w", name, err)
	}
	return nil
}
