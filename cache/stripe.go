package cache

import (
	"os"
	"sync"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
)

// A stripe is the part of a shard one lock guards: an index, a ghost, the
// S3-FIFO queues of its entries, and its share of the shard's capacity.
// Its entries and index live in the shard's heap, which all the shard's
// stripes share (the heap is safe for concurrent use). Every field is
// guarded by mu. See cache.go for the design.
type stripe struct {
	mu     sync.Mutex
	h      *heap.Heap // the shard's heap; nil once closed
	sh     *shard
	t      table
	g      ghost
	tblock unsafe.Pointer // the block of t.slots and g.buckets

	// S3-FIFO's queues: new keys enter small; keys read there, and keys
	// the ghost remembers, go to main.
	small, main fifo

	limit   int // the stripe's share of the shard's limit
	charged int // heap slot bytes of the entries and the table
	peak    int // charged's high point since the last Compact
	written int // bytes allocated since the stripe last told its shard

	hits, misses, sets, evictions, expirations uint64

	_ [64]byte // keeps neighbouring stripes' locks off one cache line
}

var pageSize = os.Getpagesize()

// slotBytes is what an entry of key and value lengths takes in the heap.
func slotBytes(klen, vlen int) int { return heap.SlotSize(entryHeader+klen+vlen, pageSize) }

// target is what charged may reach: the stripe's limit less the slack the
// shard measured (shard.measure).
func (s *stripe) target() int { return s.limit - int(s.sh.slack.Load()) }

// newTable replaces the index and the ghost by empty ones for n slots.
func (s *stripe) newTable(n int) error {
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
func (s *stripe) setTable(p unsafe.Pointer, n int) {
	s.tblock = p
	s.t = table{slots: unsafe.Slice((*slot)(p), n)}
	s.g = ghost{buckets: unsafe.Slice((*ghostBucket)(unsafe.Add(p, n*slotSize)), ghostBuckets(n))}
	s.charged += heap.SlotSize(tableBytes(n), pageSize)
}

// resizeTable moves the index to a block of n slots, keeping its entries.
// The ghost starts afresh: its buckets come from hash bits the new size
// changes, and the index only grows while the stripe fills (when the ghost
// has remembered little) or shrinks with the capacity.
func (s *stripe) resizeTable(n int) error {
	old, oldBlock := s.t.slots, s.tblock
	p, err := s.h.Calloc(1, tableBytes(n))
	if err != nil {
		return err
	}
	s.charged -= heap.SlotSize(tableBytes(len(old)), pageSize)
	s.setTable(p, n)
	s.t.rehash(old)
	return s.h.Free(oldBlock)
}

// fitTable shrinks the index to the fewest slots that hold its entries
// under the maximum load.
func (s *stripe) fitTable() error {
	n := minTableLen
	for (s.t.n+1)*maxLoadDenom > n*maxLoadNum {
		n *= 2
	}
	if n >= len(s.t.slots) {
		return nil
	}
	return s.resizeTable(n)
}

// lookup returns the live entry of key, removing it if it has expired.
func (s *stripe) lookup(hash uint64, key []byte, now func() int64) *entry {
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
func (s *stripe) set(hash uint64, key, value []byte, expire int64) error {
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
	for target := s.target(); s.charged+need > target && s.t.n > 0; {
		s.evict(target)
	}
	if s.t.full() {
		if err := s.resizeTable(2 * len(s.t.slots)); err != nil {
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
	// The stripe hands what it wrote to its shard every 1/32 of its
	// share, and the shard measures every 1/32 of its limit: measures as
	// often as one stripe per shard would make, one atomic add per few
	// dozen Sets.
	if s.written += n; s.written >= s.limit/32 {
		w := s.written
		s.written = 0
		if s.sh.written.Add(int64(w)) >= int64(s.sh.limit/32) {
			return s.sh.measure(s)
		}
	}
	return nil
}

// compact gives the heap's free pages back to the OS.
func (s *stripe) compact() error {
	s.peak = s.charged
	_, err := s.h.Compact()
	return err
}

// evict takes one step of S3-FIFO's eviction (Yang et al., SOSP '23)
// towards target: while small holds at least its share of the target (or
// main is empty), small's oldest entry goes to main if it was read there,
// or else out, its hash to the ghost; otherwise main's oldest entry goes
// back to main's newest end with one read less if it was read, or else
// out. A step that only moves an entry frees nothing: callers loop until
// there is room. Each entry moves at most maxFreq+1 times before it is
// evicted, so the loop ends.
func (s *stripe) evict(target int) {
	if e := s.small.oldest; e != nil && (s.small.bytes >= target/smallShare || s.main.oldest == nil) {
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
func (s *stripe) removeAt(i int, e *entry) {
	n := slotBytes(int(e.klen), int(e.vlen))
	s.queueOf(e).unlink(e, n)
	s.drop(i, e, n)
}

// drop removes entry e, of n slot bytes, held in slot i and in no queue,
// from the index, and frees its block.
func (s *stripe) drop(i int, e *entry, n int) {
	s.t.removeAt(i)
	s.charged -= n
	// A block the shard allocated cannot be refused by its own heap;
	// an error here would be a broken invariant, which Validate reports.
	_ = s.h.Free(unsafe.Pointer(e))
}

func (s *stripe) queueOf(e *entry) *fifo {
	if e.queue == inMain {
		return &s.main
	}
	return &s.small
}

// push makes e, of n slot bytes, the newest entry of q.
func (s *stripe) push(q *fifo, e *entry, n int) {
	e.queue = inSmall
	if q == &s.main {
		e.queue = inMain
	}
	q.push(e, n)
}

// delete removes key's entry and reports whether there was one. When the
// stripe has shrunk by a quarter of its limit since its last Compact, the
// heap's free memory goes back to the OS.
func (s *stripe) delete(hash uint64, key []byte) (bool, error) {
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

// clear forgets every entry and the index, after the heap that held them
// was reset or destroyed.
func (s *stripe) clear() {
	s.t, s.g, s.tblock, s.charged, s.peak, s.written = table{}, ghost{}, nil, 0, 0, 0
	s.small, s.main = fifo{}, fifo{}
}
