package cache

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// BenchmarkMix measures Get/Set mixes on a full cache of 100 B-4 KiB values
// from parallel goroutines (go test -bench Mix -cpu 1,2,8). The suite in
// bench/ compares it with other caches.
func BenchmarkMix(b *testing.B) {
	for _, mix := range []struct {
		name string
		gets int // percent
	}{{"90get", 90}, {"50get", 50}} {
		b.Run(mix.name, func(b *testing.B) {
			const keys = 20_000
			c := newCache(b, Options{Capacity: 32 << 20, Shards: 8})
			val := make([]byte, 4096)
			key := make([]byte, 8)
			for k := range uint64(keys) {
				must(b, c.Set(binary.LittleEndian.AppendUint64(key[:0], k), val[:100+k%3997]))
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 1))
				key, buf := make([]byte, 8), make([]byte, 0, 4096)
				for pb.Next() {
					k := r.Uint64N(keys)
					key = binary.LittleEndian.AppendUint64(key[:0], k)
					if r.IntN(100) < mix.gets {
						buf, _ = c.Get(buf[:0], key)
						continue
					}
					if err := c.Set(key, val[:100+k%3997]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
