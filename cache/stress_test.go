package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestStress runs goroutines that Set, Get, View, Delete and iterate one
// small cache (so eviction never stops) and checks every value read with
// its own content checker: each key has one writer goroutine, which knows
// the version it last stored; a value carries its key, its version and a
// checksum. Every read must be a miss or an intact value of that key, and
// the writer must read back exactly its last version or a miss. A
// concurrent Reset now and then clears everything, and SetCapacity grows
// the capacity by half and shrinks it back. Run it with -race.
func TestStress(t *testing.T) {
	const workers = 8
	const ops = 40_000
	c := newCache(t, Options{Capacity: 2 << 20, Shards: 2})
	var wg sync.WaitGroup
	errc := make(chan error, workers+1)
	for w := range workers {
		wg.Go(func() {
			if err := stressWorker(c, w, workers, ops); err != nil {
				errc <- err
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			n := 0
			for k, v := range c.All() {
				if err := checkValue(k, v); err != nil {
					errc <- fmt.Errorf("All: %w", err)
					return
				}
				n++
			}
			if i%5 == 4 {
				if err := c.Reset(); err != nil {
					errc <- err
					return
				}
			}
			// Grow, then shrink back (evicting under the workers' feet).
			for _, capacity := range []int{3 << 20, 2 << 20} {
				if err := c.SetCapacity(capacity); err != nil {
					errc <- err
					return
				}
			}
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	st := c.Stats()
	if st.Evictions == 0 || st.Hits == 0 || st.Misses == 0 {
		t.Errorf("the stress did not evict, hit and miss: %v", st)
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.lockAll()
		err := sh.h.Validate()
		sh.unlockAll()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A stress value is key, version (8 bytes), filler, then the CRC-32 of all
// that (4 bytes).
func stressValue(key []byte, version uint64, filler int) []byte {
	v := append(append([]byte(nil), key...), binary.LittleEndian.AppendUint64(nil, version)...)
	v = append(v, bytes.Repeat([]byte{byte(version)}, filler)...)
	return binary.LittleEndian.AppendUint32(v, crc32.ChecksumIEEE(v))
}

func checkValue(key, v []byte) error {
	n := len(v) - 4
	if n < len(key)+8 || !bytes.Equal(v[:len(key)], key) || binary.LittleEndian.Uint32(v[n:]) != crc32.ChecksumIEEE(v[:n]) {
		return fmt.Errorf("key %x: corrupt value %.40x (%d bytes)", key, v, len(v))
	}
	return nil
}

func version(key, v []byte) uint64 { return binary.LittleEndian.Uint64(v[len(key):]) }

func stressWorker(c *Cache, w, workers, ops int) error {
	r := rand.New(rand.NewPCG(uint64(w), 7))
	last := map[string]uint64{} // what this worker last stored; absent: deleted or never
	var buf []byte
	for i := range ops {
		k := r.IntN(512)
		key := []byte(fmt.Sprintf("key-%d", k))
		mine := k%workers == w
		switch op := r.IntN(10); {
		case op < 3 && mine:
			ver := uint64(i + 1)
			if err := c.Set(key, stressValue(key, ver, r.IntN(6000))); err != nil {
				return err
			}
			last[string(key)] = ver
		case op == 3 && mine:
			if _, err := c.Delete(key); err != nil {
				return err
			}
			delete(last, string(key))
		case op == 4:
			err := c.View(key, func(v []byte) {
				if e := checkValue(key, v); e != nil {
					panic(e)
				}
			})
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		default:
			var err error
			buf, err = c.Get(buf[:0], key)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := checkValue(key, buf); err != nil {
				return err
			}
			if ver, ok := last[string(key)]; mine && (!ok || version(key, buf) != ver) {
				return fmt.Errorf("key %s: read version %d, last stored %d (stored: %v)", key, version(key, buf), ver, ok)
			}
		}
	}
	return nil
}
