package main

import (
	"context"
	"sync"
	"time"

	"github.com/VictoriaMetrics/fastcache"
	"github.com/allegro/bigcache/v3"
	"github.com/coocood/freecache"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/maypok86/otter/v2"
	"github.com/zebra-heap/zebra/cache"
)

// A byteCache is what the cache workloads need of a peer: byte keys and
// values, copied in and out, safe for concurrent use.
type byteCache interface {
	Set(k, v []byte)
	Get(dst, k []byte) ([]byte, bool)
	Reset()
	Close()
}

// cachePeers are the cache section's columns, in the order they run.
var cachePeers = []struct {
	Name, Config string
	new          func(capacity int) (byteCache, error)
}{
	{"zebra-cache", "zebra's cache package: S3-FIFO (small queue 5%, ghost of hashes), index and entries in zebra heaps (1 shard per 32 MiB)", newZebraCache},
	{"fastcache", "VictoriaMetrics/fastcache v1.13.2: 512 buckets of 64 KiB chunks mmapped off the Go heap, ring buffers (FIFO); capacity below 32 MiB is raised to it", newFastcache},
	{"freecache", "coocood/freecache v1.2.7: 256 segments of ring buffers in Go memory, approximate LRU", newFreecache},
	{"bigcache", "allegro/bigcache v3.1.0: 1024 shards of byte queues in Go memory (FIFO), HardMaxCacheSize = capacity", newBigcache},
	{"ristretto", "dgraph-io/ristretto v2.4.2: TinyLFU admission, sampled LFU eviction, cost = len(key)+len(value); values copied into Go memory", newRistretto},
	{"otter", "maypok86/otter v2.4.0: W-TinyLFU (adaptive), weight = len(key)+len(value); values copied into Go memory", newOtter},
	{"map+mutex", "map[string][]byte behind a sync.Mutex; over capacity it evicts an arbitrary entry (map order)", newMapCache},
}

type zebraCache struct{ c *cache.Cache }

func newZebraCache(capacity int) (byteCache, error) {
	c, err := cache.New(cache.Options{Capacity: capacity, Name: "bench"})
	return zebraCache{c}, err
}
func (z zebraCache) Set(k, v []byte) { z.c.Set(k, v) }
func (z zebraCache) Get(dst, k []byte) ([]byte, bool) {
	v, err := z.c.Get(dst, k)
	return v, err == nil
}
func (z zebraCache) Reset() { z.c.Reset() }
func (z zebraCache) Close() { z.c.Close() }

type fastCache struct{ c *fastcache.Cache }

func newFastcache(capacity int) (byteCache, error)   { return fastCache{fastcache.New(capacity)}, nil }
func (f fastCache) Set(k, v []byte)                  { f.c.Set(k, v) }
func (f fastCache) Get(dst, k []byte) ([]byte, bool) { return f.c.HasGet(dst, k) }
func (f fastCache) Reset()                           { f.c.Reset() }
func (f fastCache) Close()                           { f.c.Reset() }

type freeCache struct{ c *freecache.Cache }

func newFreecache(capacity int) (byteCache, error) {
	return freeCache{freecache.NewCache(capacity)}, nil
}
func (f freeCache) Set(k, v []byte) { f.c.Set(k, v, 0) }
func (f freeCache) Get(dst, k []byte) ([]byte, bool) {
	found := false
	f.c.GetFn(k, func(v []byte) error { dst, found = append(dst, v...), true; return nil })
	return dst, found
}
func (f freeCache) Reset() { f.c.Clear() }
func (f freeCache) Close() { f.c.Clear() }

type bigCache struct{ c *bigcache.BigCache }

func newBigcache(capacity int) (byteCache, error) {
	cfg := bigcache.DefaultConfig(24 * time.Hour)
	cfg.HardMaxCacheSize = max(1, capacity>>20)
	cfg.MaxEntriesInWindow = 1024
	cfg.CleanWindow = 0
	c, err := bigcache.New(context.Background(), cfg)
	return bigCache{c}, err
}
func (b bigCache) Set(k, v []byte) { b.c.Set(string(k), v) }
func (b bigCache) Get(dst, k []byte) ([]byte, bool) {
	v, err := b.c.Get(string(k))
	return append(dst, v...), err == nil
}
func (b bigCache) Reset() { b.c.Reset() }
func (b bigCache) Close() { b.c.Close() }

type ristrettoCache struct {
	c    *ristretto.Cache[string, []byte]
	wait bool // Wait after each Set: the hit-ratio cases measure the policy, not dropped Sets
}

func newRistretto(capacity int) (byteCache, error) {
	c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
		NumCounters: int64(max(capacity/100, 1000)), // ~10 per entry of ~1 KiB
		MaxCost:     int64(capacity),
		BufferItems: 64,
	})
	return &ristrettoCache{c: c}, err
}
func (r *ristrettoCache) Set(k, v []byte) {
	r.c.Set(string(k), append([]byte(nil), v...), int64(len(k)+len(v)))
	if r.wait {
		r.c.Wait()
	}
}
func (r *ristrettoCache) Get(dst, k []byte) ([]byte, bool) {
	v, ok := r.c.Get(string(k))
	return append(dst, v...), ok
}
func (r *ristrettoCache) Reset() { r.c.Clear() }
func (r *ristrettoCache) Close() { r.c.Close() }

type otterCache struct{ c *otter.Cache[string, []byte] }

func newOtter(capacity int) (byteCache, error) {
	c, err := otter.New(&otter.Options[string, []byte]{
		MaximumWeight: uint64(capacity),
		Weigher:       func(k string, v []byte) uint32 { return uint32(len(k) + len(v)) },
	})
	return otterCache{c}, err
}
func (o otterCache) Set(k, v []byte) { o.c.Set(string(k), append([]byte(nil), v...)) }
func (o otterCache) Get(dst, k []byte) ([]byte, bool) {
	v, ok := o.c.GetIfPresent(string(k))
	return append(dst, v...), ok
}
func (o otterCache) Reset() { o.c.InvalidateAll() }
func (o otterCache) Close() { o.c.InvalidateAll() }

type mapCache struct {
	mu       sync.Mutex
	m        map[string][]byte
	bytes, c int
}

func newMapCache(capacity int) (byteCache, error) {
	return &mapCache{m: map[string][]byte{}, c: capacity}, nil
}

func (m *mapCache) Set(k, v []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.m[string(k)]; ok {
		m.bytes -= len(k) + len(old)
	}
	for key, old := range m.m {
		if m.bytes+len(k)+len(v) <= m.c {
			break
		}
		m.bytes -= len(key) + len(old)
		delete(m.m, key)
	}
	m.m[string(k)] = append([]byte(nil), v...)
	m.bytes += len(k) + len(v)
}

func (m *mapCache) Get(dst, k []byte) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[string(k)]
	return append(dst, v...), ok
}

func (m *mapCache) Reset() {
	m.mu.Lock()
	m.m, m.bytes = map[string][]byte{}, 0
	m.mu.Unlock()
}
func (m *mapCache) Close() { m.Reset() }

// cachePeerColumns are the cache peers as columns of the suite: they run
// the cache cases only.
func cachePeerColumns() []*peer {
	var ps []*peer
	for _, c := range cachePeers {
		ps = append(ps, &peer{Name: c.Name, Config: c.Config, Only: []string{"cache"}})
	}
	return ps
}
