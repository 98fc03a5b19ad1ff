package main

// The cache section: zebra's cache package against the Go caches people
// use (cache_peers.go), in three families of cases:
//
//   - cache/90-Ng, cache/50-Ng: Get/Set throughput with N goroutines on
//     GOMAXPROCS=2, 90/10 and 50/50 mixes, values of 100 B-4 KiB;
//   - cache/memory: a capacity of 256 MiB and 2 GiB written: peak RSS, GC
//     CPU and p99 pause, RSS after Reset against the empty process;
//   - cache/hits-zipf-S, cache/hits-scan-S: hit ratio on generated traces
//     at three capacities (deterministic: round 1 only).

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

func init() {
	caseNotes["cache"] = "Each case runs in a fresh process per peer with GOMAXPROCS=2. Throughput: the cache is first filled with every key (values of 100 B–4 KiB, each byte the key's low byte), then each goroutine does its share of the operations on uniformly random keys; ns/op is wall time over all operations. The checksum counts values read back with wrong bytes: it must be 0 everywhere."
}

// cacheScale is the cache section's sizes in one mode.
type cacheScale struct {
	keys, ops                 int // throughput: keys prefilled, operations in all
	capacity, written         int // memory: capacity and bytes written
	hitKeys, hitReqs, hitSize int // hits: key space, requests, value size
	hitCaps                   []int
}

func cacheSizes(quick bool) cacheScale {
	if quick {
		return cacheScale{keys: 2000, ops: 20_000, capacity: 32 << 20, written: 64 << 20,
			hitKeys: 20_000, hitReqs: 20_000, hitSize: 1000, hitCaps: []int{32 << 20, 64 << 20, 128 << 20}}
	}
	return cacheScale{keys: 100_000, ops: 2_000_000, capacity: 256 << 20, written: 2 << 30,
		hitKeys: 1_000_000, hitReqs: 3_000_000, hitSize: 1000, hitCaps: []int{32 << 20, 64 << 20, 128 << 20}}
}

func cacheJobs(quick bool) []job {
	var js []job
	for _, mix := range []int{90, 50} {
		for _, g := range []int{1, 2, 8} {
			js = append(js, job{name: fmt.Sprintf("cache/%d-%dg", mix, g), workload: "cache", quick: quick})
		}
	}
	js = append(js, job{name: "cache/memory", workload: "cache", quick: quick})
	for _, tr := range []string{"zipf", "scan"} {
		for _, c := range cacheSizes(quick).hitCaps {
			js = append(js, job{name: fmt.Sprintf("cache/hits-%s-%d", tr, c>>20), workload: "cache", quick: quick, once: true})
		}
	}
	return js
}

// cacheFamily is family() for the cache section.
func cacheFamily(c string) (primary string, others []string) {
	switch {
	case c == "cache/memory":
		return "peak RSS MiB", []string{"× capacity", "GC CPU s", "p99 pause ms", "empty RSS MiB", "RSS after Reset MiB", "after Reset − empty MiB", "ns/op"}
	case strings.HasPrefix(c, "cache/hits"):
		return "hit %", nil
	}
	return "ns/op", []string{"hit %"}
}

func cacheTitle(c string, quick bool) string {
	s := cacheSizes(quick)
	switch {
	case c == "cache/memory":
		return fmt.Sprintf("Cache memory: %d MiB capacity, %d MiB written (100 B–4 KiB values)", s.capacity>>20, s.written>>20)
	case strings.HasPrefix(c, "cache/hits"):
		f := strings.Split(c, "-")
		return fmt.Sprintf("Cache hit ratio: %s trace, %s MiB capacity (%d keys of %d B values, %d requests)", f[1], f[2], s.hitKeys, s.hitSize, s.hitReqs)
	}
	var mix, g int
	fmt.Sscanf(c, "cache/%d-%dg", &mix, &g)
	return fmt.Sprintf("Cache throughput: %d goroutines, %d%% Get / %d%% Set", g, mix, 100-mix)
}

func cachePeerNew(name string) (func(int) (byteCache, error), error) {
	for _, p := range cachePeers {
		if p.Name == name {
			return p.new, nil
		}
	}
	return nil, fmt.Errorf("worker: unknown cache peer %q", name)
}

// cacheWorker runs one cache case on one peer and prints its result.
func cacheWorker(peer, name string, quick bool) error {
	runtime.GOMAXPROCS(2)
	newCache, err := cachePeerNew(peer)
	if err != nil {
		return err
	}
	s := cacheSizes(quick)
	switch {
	case name == "cache/memory":
		return cacheMemory(newCache, s)
	case strings.HasPrefix(name, "cache/hits-"):
		var trace string
		var mib int
		if _, err := fmt.Sscanf(strings.ReplaceAll(name, "-", " "), "cache/hits %s %d", &trace, &mib); err != nil {
			return fmt.Errorf("cache case %q: %v", name, err)
		}
		return cacheHits(newCache, s, name, trace, mib<<20, peer == "ristretto")
	}
	var mix, g int
	if _, err := fmt.Sscanf(name, "cache/%d-%dg", &mix, &g); err != nil || g < 1 || g > 64 {
		return fmt.Errorf("cache case %q: want cache/MIX-Ng", name)
	}
	return cacheThroughput(newCache, s, name, mix, g)
}

// cacheValue fills v with key k's value: 100 B-4 KiB, every byte k's low byte.
func cacheValue(v []byte, k uint64) []byte {
	v = v[:100+int(scatter64(k)%3997)]
	for i := range v {
		v[i] = byte(k)
	}
	return v
}

func cacheKey(b []byte, k uint64) []byte {
	return fmt.Appendf(b[:0], "key:%016x", k)
}

// bad counts a value that is not key k's (a miss is not bad).
func bad(v []byte, k uint64) uint64 {
	if len(v) == 0 {
		return 0
	}
	if len(v) != 100+int(scatter64(k)%3997) || v[0] != byte(k) || v[len(v)-1] != byte(k) {
		return 1
	}
	return 0
}

func cacheThroughput(newCache func(int) (byteCache, error), s cacheScale, name string, mix, g int) error {
	c, err := newCache(s.capacity)
	if err != nil {
		return err
	}
	defer c.Close()
	key, val := make([]byte, 0, 32), make([]byte, 4096)
	for k := range uint64(s.keys) {
		c.Set(cacheKey(key, k), cacheValue(val, k))
	}
	var wg sync.WaitGroup
	hits, gets, wrong := make([]uint64, g), make([]uint64, g), make([]uint64, g)
	gate := make(chan struct{})
	for w := range g {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			key, val, buf := make([]byte, 0, 32), make([]byte, 4096), make([]byte, 0, 4096)
			<-gate
			for range s.ops / g {
				k := r.Uint64N(uint64(s.keys))
				key = cacheKey(key, k)
				if r.IntN(100) < mix {
					var ok bool
					buf, ok = c.Get(buf[:0], key)
					gets[w]++
					if ok {
						hits[w]++
						wrong[w] += bad(buf, k)
					}
					continue
				}
				c.Set(key, cacheValue(val, k))
			}
		})
	}
	t0 := time.Now()
	close(gate)
	wg.Wait()
	el := time.Since(t0)
	var h, n, w uint64
	for i := range g {
		h, n, w = h+hits[i], n+gets[i], w+wrong[i]
	}
	emit(result{Case: name, Checksum: w, Values: map[string]float64{
		"ns/op": float64(el.Nanoseconds()) / float64(s.ops/g*g), "hit %": 100 * float64(h) / float64(max(n, 1)),
	}})
	return nil
}

// gcMeter reads the GC's CPU time, pauses and cycles from runtime/metrics.
type gcMeter struct {
	samples []metrics.Sample
	cpu0    float64
	counts0 []uint64
}

func startGCMeter() *gcMeter {
	m := &gcMeter{samples: []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/sched/pauses/total/gc:seconds"}}}
	metrics.Read(m.samples)
	m.cpu0 = m.samples[0].Value.Float64()
	m.counts0 = slices.Clone(m.samples[1].Value.Float64Histogram().Counts)
	return m
}

// stop returns the GC CPU seconds and the p99 pause in ms since start.
func (m *gcMeter) stop() (cpu, p99ms float64) {
	metrics.Read(m.samples)
	pause := m.samples[1].Value.Float64Histogram()
	counts := make([]uint64, len(pause.Counts))
	for i := range counts {
		counts[i] = pause.Counts[i] - m.counts0[i]
	}
	return m.samples[0].Value.Float64() - m.cpu0, 1e3 * quantile(pause.Buckets, counts, 0.99)
}

func rssMiB() float64 { return procKiB("/proc/self/status", "VmRSS") / 1024 }

func cacheMemory(newCache func(int) (byteCache, error), s cacheScale) error {
	runtime.GC()
	debug.FreeOSMemory()
	empty := rssMiB()
	c, err := newCache(s.capacity)
	if err != nil {
		return err
	}
	// Keys from a space about 4x what fits, so the cache overwrites and
	// evicts; a Get for every Set, so that the read path runs too.
	space := uint64(4 * s.capacity / 2100)
	r := rand.New(rand.NewPCG(3, 4))
	key, val, buf := make([]byte, 0, 32), make([]byte, 4096), make([]byte, 0, 4096)
	var wrong uint64
	ops := 0
	gm := startGCMeter()
	t0 := time.Now()
	for written := 0; written < s.written; ops++ {
		k := r.Uint64N(space)
		key = cacheKey(key, k)
		var ok bool
		if buf, ok = c.Get(buf[:0], key); ok {
			wrong += bad(buf, k)
			continue
		}
		v := cacheValue(val, k)
		c.Set(key, v)
		written += len(v)
	}
	el := time.Since(t0)
	gcCPU, p99 := gm.stop()
	peak := procKiB("/proc/self/status", "VmHWM") / 1024
	c.Reset()
	runtime.GC()
	debug.FreeOSMemory()
	after := rssMiB()
	c.Close()
	emit(result{Case: "cache/memory", Checksum: wrong, Values: map[string]float64{
		"peak RSS MiB": peak, "× capacity": peak / float64(s.capacity>>20), "GC CPU s": gcCPU, "p99 pause ms": p99,
		"empty RSS MiB": empty, "RSS after Reset MiB": after, "after Reset − empty MiB": after - empty,
		"ns/op": float64(el.Nanoseconds()) / float64(ops),
	}})
	return nil
}

func cacheHits(newCache func(int) (byteCache, error), s cacheScale, name, trace string, capacity int, wait bool) error {
	c, err := newCache(capacity)
	if err != nil {
		return err
	}
	defer c.Close()
	if rc, ok := c.(*ristrettoCache); ok {
		rc.wait = wait
	}
	if trace != "zipf" && trace != "scan" {
		return errors.New("cache: unknown trace " + trace)
	}
	key, val, buf := make([]byte, 0, 32), make([]byte, s.hitSize), make([]byte, 0, s.hitSize)
	hits, requests := 0, 0
	access := func(k uint64) {
		requests++
		key = cacheKey(key, k)
		var ok bool
		if buf, ok = c.Get(buf[:0], key); ok {
			hits++
			return
		}
		c.Set(key, val)
	}
	// The scan trace inserts, after every period Zipf requests, period/2
	// keys read once and never again: a third of its requests are one-hit
	// wonders, which a policy should not let push the popular keys out.
	period, once := s.hitReqs/50, uint64(s.hitKeys)
	for i, k := range zipfKeys(1, s.hitKeys, 0.9, s.hitReqs) {
		access(k)
		if trace == "scan" && (i+1)%period == 0 {
			for range period / 2 {
				access(scatter64(once))
				once++
			}
		}
	}
	emit(result{Case: name, Values: map[string]float64{"hit %": 100 * float64(hits) / float64(requests)}})
	return nil
}

// zipfKeys draws n keys of a space of `keys` with probability proportional
// to 1/rank^alpha (math/rand's Zipf needs alpha > 1), ranks scattered.
func zipfKeys(seed uint64, keys int, alpha float64, n int) []uint64 {
	weights := make([]float64, keys)
	total := 0.0
	for i := range weights {
		total += math.Pow(float64(i+1), -alpha)
		weights[i] = total
	}
	r := rand.New(rand.NewPCG(seed, 5))
	out := make([]uint64, n)
	for i := range out {
		out[i] = scatter64(uint64(sort.SearchFloat64s(weights, r.Float64()*total)))
	}
	return out
}

// scatter64 is a bijection on uint64 that spreads neighbours apart:
// Fibonacci hashing, rotated so that the low bits mix too.
func scatter64(x uint64) uint64 { return bits.RotateLeft64(x*0x9e3779b97f4a7c15, 32) }
