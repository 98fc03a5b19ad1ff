package cache

import "unsafe"

// A ghost remembers the hashes of entries S3-FIFO evicted from its small
// queue without their having been read there (see cache.go): a key that
// comes back while the ghost still remembers it was evicted too early, and
// goes straight to the main queue. The ghost holds no keys, only 32-bit
// fingerprints of hashes, in one heap block of buckets of ghostWays,
// each bucket a little FIFO: a new fingerprint pushes the bucket's oldest
// out. So it remembers about as many hashes as it has ways, forgets the
// oldest first (per bucket, not exactly overall), costs 4 bytes per
// remembered hash, and never grows: the shard sizes it with the index
// (ghostWays*len(buckets) = len(index)/ghostShare). A false match (two
// hashes of one shard with the same bucket and fingerprint, about 1 in
// 2^28) only sends a new key to the main queue.
type ghost struct {
	buckets []ghostBucket // len a power of two; its array is a heap block
}

const ghostWays = 4

type ghostBucket [ghostWays]uint32

const ghostBucketSize = int(unsafe.Sizeof(ghostBucket{}))

// fingerprint is the part of a hash a ghost keeps: the high half (the
// bucket comes from the low bits), never 0, which marks an empty way.
func fingerprint(hash uint64) uint32 { return uint32(hash>>32) | 1 }

func (g *ghost) bucket(hash uint64) *ghostBucket {
	return &g.buckets[hash&uint64(len(g.buckets)-1)]
}

// add remembers hash, forgetting the oldest hash of its bucket.
func (g *ghost) add(hash uint64) {
	if len(g.buckets) == 0 {
		return
	}
	b := g.bucket(hash)
	copy(b[1:], b[:ghostWays-1])
	b[0] = fingerprint(hash)
}

// take reports whether the ghost remembers hash, and forgets it.
func (g *ghost) take(hash uint64) bool {
	if len(g.buckets) == 0 {
		return false
	}
	b, f := g.bucket(hash), fingerprint(hash)
	for i, x := range b {
		if x == f {
			copy(b[i:], b[i+1:])
			b[ghostWays-1] = 0
			return true
		}
	}
	return false
}
