package cache

import (
	"bytes"
	"unsafe"
)

// A table is a shard's index: open addressing with linear probing over one
// heap block of slots, so the Go heap holds nothing that grows with the
// cache. A slot holds an entry's hash (compared before its key) and its
// address; an empty slot has a nil address. Deletion shifts the following
// run of slots back (no tombstones), so probes stay short however many
// deletions there are. The load stays at most 3/4: the shard grows the
// table by doubling before an insert would pass it.
type table struct {
	slots []slot // len a power of two; its array is a heap block
	n     int    // entries
}

type slot struct {
	hash uint64
	e    unsafe.Pointer // *entry
}

const (
	slotSize     = int(unsafe.Sizeof(slot{}))
	minTableLen  = 64
	maxLoadNum   = 3
	maxLoadDenom = 4
)

// tableBytes is the size of the block of a table of n slots and its
// ghost (ghost.go), which the shard allocates together.
func tableBytes(n int) int { return n*slotSize + ghostBuckets(n)*ghostBucketSize }

// ghostBuckets is the number of ghost buckets beside an index of n slots:
// the ghost remembers n/2 hashes, between 2/3 and 4/3 of the entries the
// index holds (3/8 to 3/4 of n), near S3-FIFO's choice of as many as the
// main queue holds.
func ghostBuckets(n int) int { return max(1, n/2/ghostWays) }

// full reports whether one more entry would pass the maximum load.
func (t *table) full() bool { return (t.n+1)*maxLoadDenom > len(t.slots)*maxLoadNum }

// find returns the index of the slot holding key, or -1.
func (t *table) find(hash uint64, key []byte) int {
	mask := uint64(len(t.slots) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.e == nil {
			return -1
		}
		if s.hash == hash && bytes.Equal((*entry)(s.e).key(), key) {
			return int(i)
		}
	}
}

// insert adds an entry whose key the table does not hold. The table must
// not be full.
func (t *table) insert(hash uint64, e *entry) {
	mask := uint64(len(t.slots) - 1)
	i := hash & mask
	for t.slots[i].e != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = slot{hash, unsafe.Pointer(e)}
	t.n++
}

// indexOf returns the slot of an entry the table holds.
func (t *table) indexOf(e *entry) int {
	mask := uint64(len(t.slots) - 1)
	i := e.hash & mask
	for t.slots[i].e != unsafe.Pointer(e) {
		i = (i + 1) & mask
	}
	return int(i)
}

// removeAt empties slot i and shifts back the slots after it that probed
// past it, so that every entry stays reachable from its home slot.
func (t *table) removeAt(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].e != nil; j = (j + 1) & mask {
		home := int(t.slots[j].hash) & mask
		// The slot at j may move to i if its home is not in (i, j], cyclically.
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot{}
	t.n--
}

// rehash moves every entry of old into t, which is empty and large enough.
func (t *table) rehash(old []slot) {
	for _, s := range old {
		if s.e != nil {
			t.insert(s.hash, (*entry)(s.e))
		}
	}
}
