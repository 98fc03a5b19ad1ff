package cache

import (
	"fmt"

	"github.com/zebra-heap/zebra/internal/units"
)

// Stats describes a cache at one moment: its counters since New and its
// memory, as a whole and per shard.
type Stats struct {
	ShardStats
	// Shards has one element per shard.
	Shards []ShardStats
}

// ShardStats are the counters and memory of one shard (or, in Stats, of
// all of them).
type ShardStats struct {
	// Hits and Misses count Gets and Views that found their key or not
	// (an expired entry is a miss).
	Hits, Misses uint64
	// Sets counts entries stored; Evictions those removed to make room,
	// Expirations those found expired.
	Sets, Evictions, Expirations uint64
	// Entries is the number of entries held.
	Entries int
	// Bytes is what the entries and the index take in the heap (their
	// slots, size classes included): what eviction keeps within the
	// capacity.
	Bytes uint64
	// Committed and Resident are the heap's committed and resident memory,
	// its bookkeeping included (heap.Stats).
	Committed, Resident uint64
}

func (a *ShardStats) add(b ShardStats) {
	a.Hits += b.Hits
	a.Misses += b.Misses
	a.Sets += b.Sets
	a.Evictions += b.Evictions
	a.Expirations += b.Expirations
	a.Entries += b.Entries
	a.Bytes += b.Bytes
	a.Committed += b.Committed
	a.Resident += b.Resident
}

// Stats reports the cache's counters and memory. Measuring Resident costs
// system calls per shard: call it per report, not per operation. A closed
// cache reports its counters and no memory.
func (c *Cache) Stats() Stats {
	var st Stats
	if c == nil {
		return st
	}
	st.Shards = make([]ShardStats, len(c.shards))
	for i := range c.shards {
		sh := &c.shards[i]
		var ss ShardStats
		for j := range sh.stripes {
			s := &sh.stripes[j]
			s.mu.Lock()
			ss.add(ShardStats{Hits: s.hits, Misses: s.misses, Sets: s.sets, Evictions: s.evictions, Expirations: s.expirations,
				Entries: s.t.n, Bytes: uint64(s.charged)})
			if j == 0 && s.h != nil {
				// Close needs every stripe's lock: the heap lives while
				// this one is held.
				hs := s.h.Stats()
				ss.Committed, ss.Resident = hs.Committed+hs.MetaCommitted, hs.Resident+hs.MetaResident
			}
			s.mu.Unlock()
		}
		st.Shards[i] = ss
		st.add(ss)
	}
	return st
}

// String renders the totals on one line, e.g. "1000 entries, 120 KiB in
// entries and index, committed 1.2 MiB, resident 1.1 MiB, 900 hits,
// 100 misses, 1000 sets, 0 evictions, 0 expirations".
func (s ShardStats) String() string {
	return fmt.Sprintf("%d entries, %s in entries and index, committed %s, resident %s, %d hits, %d misses, %d sets, %d evictions, %d expirations",
		s.Entries, units.Bytes(s.Bytes), units.Bytes(s.Committed), units.Bytes(s.Resident), s.Hits, s.Misses, s.Sets, s.Evictions, s.Expirations)
}
