package cache

import "unsafe"

// S3-FIFO's parameters (see cache.go and shard.evict).
const (
	// smallShare: the small queue holds 1/smallShare of a shard's target
	// bytes. The paper uses 10%; on the Zipf and scan traces of
	// policy_test.go 5% does a little better at every size.
	smallShare = 20
	// maxFreq caps an entry's count of reads: a main entry read often
	// survives up to maxFreq passes of eviction without a read.
	maxFreq = 3
)

// An entry's queue.
const (
	inSmall = iota
	inMain
)

// A fifo is one of a shard's queues: a doubly linked list of entries
// through their headers (so that Delete and replacement unlink from the
// middle), and the slot bytes its entries take.
type fifo struct {
	newest, oldest *entry
	bytes          int
}

// push makes e, of n slot bytes, the newest entry.
func (q *fifo) push(e *entry, n int) {
	e.newer, e.older = nil, nil
	if q.newest != nil {
		e.older = unsafe.Pointer(q.newest)
		q.newest.newer = unsafe.Pointer(e)
	} else {
		q.oldest = e
	}
	q.newest = e
	q.bytes += n
}

// unlink removes e, of n slot bytes, from the queue.
func (q *fifo) unlink(e *entry, n int) {
	if nw := e.newerEntry(); nw != nil {
		nw.older = e.older
	} else {
		q.newest = e.olderEntry()
	}
	if o := e.olderEntry(); o != nil {
		o.newer = e.newer
	} else {
		q.oldest = e.newerEntry()
	}
	q.bytes -= n
}
