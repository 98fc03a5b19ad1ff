package cache

import (
	"fmt"
	"time"

	"github.com/zebra-heap/zebra/heap"
)

// MaxKeyLen is the longest key, in bytes.
const MaxKeyLen = 1<<16 - 1

// MinCapacity is the smallest Capacity New accepts: a shard must hold its
// heap's bookkeeping, its index and at least a few entries.
const MinCapacity = 1 << 20

// Options are a cache's parameters. Only Capacity is required.
type Options struct {
	// Capacity bounds the memory the cache commits, in bytes: its entries,
	// its index and the heaps' bookkeeping (see Cache for the bound and its
	// overhead). At least MinCapacity.
	Capacity int
	// Shards is the number of independent parts, each with its own heap
	// and up to 8 locks (stripes, each with its own index): a power of
	// two. Zero picks one per 32 MiB of Capacity, between 1 and 16: each
	// shard's heap keeps partly used slabs of every size class it serves
	// (1.5-3 MiB for values of 100 B-4 KiB), so small shards waste a
	// larger share of their capacity. A shard has as many stripes as leave
	// each room for 4 of the largest values (MaxValueLen), up to 8.
	Shards int
	// MaxValueLen is the longest value Set accepts. Zero means 1 MiB or
	// an eighth of a shard's capacity, whichever is smaller; it may not
	// exceed a quarter of a shard's capacity.
	MaxValueLen int
	// TTL, when positive, is the time to live of entries Set stores;
	// SetTTL gives an entry its own.
	TTL time.Duration
	// Name prefixes the names of the shards' heaps ("cache" when empty),
	// which maps of the process show as the owners of the cache's memory:
	// "NAME shard 3". At most heap.MaxNameLen-10 bytes.
	Name string
}

// config is Options resolved: every default filled in.
type config struct {
	shards      int
	shardLimit  int // the committed bytes one shard may hold
	stripes     int // locks per shard
	maxValueLen int
	ttl         time.Duration
	name        string
}

func (o Options) resolve() (config, error) {
	bad := func(format string, a ...any) (config, error) {
		return config{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, a...)...)
	}
	switch {
	case o.Capacity < MinCapacity:
		return bad("Capacity %d is below MinCapacity (%d)", o.Capacity, MinCapacity)
	case o.Shards < 0 || o.Shards&(o.Shards-1) != 0:
		return bad("Shards %d is not a power of two", o.Shards)
	case o.MaxValueLen < 0:
		return bad("MaxValueLen %d is negative", o.MaxValueLen)
	case o.TTL < 0:
		return bad("TTL %v is negative", o.TTL)
	case len(o.Name) > heap.MaxNameLen-10:
		return bad("Name is %d bytes, more than %d", len(o.Name), heap.MaxNameLen-10)
	}
	c := config{shards: o.Shards, maxValueLen: o.MaxValueLen, ttl: o.TTL, name: o.Name}
	if c.name == "" {
		c.name = "cache"
	}
	if c.shards == 0 {
		c.shards = 1
		for c.shards < 16 && 2*c.shards*(32<<20) <= o.Capacity {
			c.shards *= 2
		}
	}
	c.shardLimit = o.Capacity / c.shards
	if c.shardLimit < MinCapacity/2 {
		return bad("Capacity %d over %d shards leaves %d bytes a shard, below %d", o.Capacity, c.shards, c.shardLimit, MinCapacity/2)
	}
	if c.maxValueLen == 0 {
		c.maxValueLen = min(1<<20, c.shardLimit/8)
	}
	if c.maxValueLen > c.shardLimit/4 {
		return bad("MaxValueLen %d exceeds a quarter of a shard's %d bytes", c.maxValueLen, c.shardLimit)
	}
	// As many stripes as fit up to maxStripes, each with room for at least
	// four of the largest values.
	c.stripes = 1
	for c.stripes < maxStripes && c.shardLimit/(2*c.stripes) >= 4*c.maxValueLen {
		c.stripes *= 2
	}
	return c, nil
}
