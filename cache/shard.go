package cache

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/zebra-heap/zebra/heap"
)

// A shard is one zebra heap with a reserve (one range of the address
// space, which maps name "NAME shard N") holding the entries and indexes of
// its stripes, and the measure that keeps what the heap commits within the
// shard's limit. See cache.go for the design.
type shard struct {
	h       *heap.Heap // destroyed by close; the stripes say whether it is
	limit   int        // committed bytes the heap may hold
	stripes []stripe   // the shard's part of Cache.stripes

	// slack is what each stripe leaves free under its limit, in bytes:
	// measure moves it as it learns what the heap commits beyond the slots
	// the stripes charge.
	slack atomic.Int64
	// written is what the stripes allocated since the last measure, as
	// they hand it over.
	written atomic.Int64

	mu        sync.Mutex // serialises measure
	committed int        // what the heap had committed at the last measure
}

// maxStripes is the most stripes a shard has. The locks are what 8
// goroutines on 2 Ps contend for: a goroutine that finds its stripe locked
// while others wait to run parks, which costs microseconds, so two
// goroutines should rarely meet on a stripe (with 8 shards of 8 stripes,
// 1 time in 64). Stripes cost nothing in memory (their index starts at
// 1 KiB), unlike shards, each a heap with partly used slabs of its own.
const maxStripes = 8

func (sh *shard) init(name string, limit int) error {
	h, err := heap.New(heap.Options{
		Name: name,
		// A quarter more than the limit: room for what is written between
		// two measures, so the heap stays one range.
		Reserve: limit + min(limit/4, math.MaxInt-limit),
		// Hand free page runs back early: the shard's memory is bounded,
		// and what eviction frees should not stay committed.
		DecommitFreeBlock: 64 << 10,
		DecommitTotalFree: max(256<<10, limit/16),
	})
	if err != nil {
		return err
	}
	sh.h, sh.limit = h, limit
	// The heap's slabs and bookkeeping take a few percent more than the
	// slots charged; measure adjusts from there.
	n := len(sh.stripes)
	sh.slack.Store(int64(limit / n / 32))
	for i := range sh.stripes {
		s := &sh.stripes[i]
		s.h, s.sh, s.limit = h, sh, limit/n
		if err := s.newTable(minTableLen); err != nil {
			return err
		}
	}
	return nil
}

// measure compares what the heap has committed with the limit and moves
// slack, what each stripe leaves free. The heap commits more than the
// stripes charge (partly used slabs, the slabs' tails, bookkeeping, the
// heap's per-P caches), and how much more depends on the sizes stored, so
// the shard learns it: when the heap has grown past the limit since the
// last measure, the stripes' targets drop by that growth (shared among
// them), the caller evicts down to its new target and compacts the heap;
// the other stripes evict at their next Set. Committed memory that is
// over the limit but did not grow is left alone: evicting scattered
// entries would empty no page, only lower the hit ratio. With room under
// the limit, the targets drift back up by half the room. The caller holds
// s.mu; when another stripe is measuring, measure returns at once.
func (sh *shard) measure(s *stripe) error {
	if !sh.mu.TryLock() {
		return nil
	}
	defer sh.mu.Unlock()
	sh.written.Store(0)
	blocks, meta := sh.h.Committed()
	committed := int(blocks + meta)
	grew := committed - sh.committed
	sh.committed = committed
	n := len(sh.stripes)
	slack := int(sh.slack.Load())
	if committed <= sh.limit {
		sh.slack.Store(int64(max(0, slack-(sh.limit-committed)/2/n)))
		return nil
	}
	if grew <= 0 {
		return nil
	}
	sh.slack.Store(int64(min(s.limit/2, slack+min(grew, committed-sh.limit)/n)))
	for target := s.target(); s.charged > target && s.t.n > 0; {
		s.evict(target)
	}
	return s.compact()
}

// setLimit makes limit the shard's limit and shares it among the
// stripes. A lower limit is reached at once: every stripe evicts down to
// its new target and fits its index to what it keeps, and the heap gives
// its free pages back to the OS.
func (sh *shard) setLimit(limit int) error {
	if !sh.lockAll() {
		sh.unlockAll()
		return ErrClosed
	}
	defer sh.unlockAll()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := len(sh.stripes)
	// The slack learned scales with the limit: it comes from slabs and
	// bookkeeping in proportion to what the heap holds.
	slack := int(sh.slack.Load())
	sh.slack.Store(int64(slack * (limit / n) / max(1, sh.limit/n)))
	shrink := limit < sh.limit
	sh.limit = limit
	var errs []error
	for i := range sh.stripes {
		s := &sh.stripes[i]
		s.limit = limit / n
		if !shrink {
			continue
		}
		for target := s.target(); s.charged > target && s.t.n > 0; {
			s.evict(target)
		}
		errs = append(errs, s.fitTable())
		s.peak = s.charged
	}
	if shrink {
		_, err := sh.h.Compact()
		errs = append(errs, err)
		blocks, meta := sh.h.Committed()
		sh.committed = int(blocks + meta)
	}
	return errors.Join(errs...)
}

// lockAll locks every stripe of the shard, in order, and reports whether
// the shard is open (New sets every shard's stripes before it opens any).
func (sh *shard) lockAll() bool {
	for i := range sh.stripes {
		sh.stripes[i].mu.Lock()
	}
	return sh.stripes[0].h != nil
}

func (sh *shard) unlockAll() {
	for i := range sh.stripes {
		sh.stripes[i].mu.Unlock()
	}
}

// reset drops every entry and decommits what the heap can, with every
// stripe locked (the heap's Reset may not race with its use).
func (sh *shard) reset() error {
	if !sh.lockAll() {
		sh.unlockAll()
		return ErrClosed
	}
	defer sh.unlockAll()
	if err := sh.h.Reset(); err != nil {
		return err
	}
	sh.slack.Store(0)
	var errs []error
	for i := range sh.stripes {
		s := &sh.stripes[i]
		s.clear()
		errs = append(errs, s.newTable(minTableLen))
	}
	_, err := sh.h.Compact()
	return errors.Join(append(errs, err)...)
}

// close destroys the shard's heap, with every stripe locked.
func (sh *shard) close() error {
	if !sh.lockAll() {
		sh.unlockAll()
		return ErrClosed
	}
	defer sh.unlockAll()
	for i := range sh.stripes {
		s := &sh.stripes[i]
		s.clear()
		s.h = nil
	}
	name, err := sh.h.Name(), sh.h.Destroy()
	if err != nil {
		return fmt.Errorf("cache: closing %s: %w", name, err)
	}
	return nil
}
