package cache

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzCache drives a cache with operations decoded from the input (Set,
// Get, Delete, Reset, an oversized Set, All, SetCapacity) and checks it
// against a map: every Get returns the map's value or, only once the cache
// has evicted something, a miss; Len and All agree with
// the map while nothing was evicted; the heaps stay valid.
func FuzzCache(f *testing.F) {
	f.Add([]byte{0, 1, 3, 'a', 'b', 'c', 1, 1, 2, 1, 0, 3, 4, 1})
	f.Add([]byte{0, 0, 200, 0, 0, 255, 1, 0, 5, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := New(Options{Capacity: MinCapacity, MaxValueLen: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		model := map[string][]byte{}
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b)
		}
		for len(data) > 0 {
			op, key := next()%7, []byte{byte(next() % 8)}
			switch op {
			case 0: // Set: a length byte (x 257 for big values), then the value's seed
				n := next()
				if n > 128 {
					n = (n - 128) * 500
				}
				v := bytes.Repeat([]byte{byte(next())}, n)
				if err := c.Set(key, v); err != nil {
					t.Fatalf("Set(%x, %d bytes): %v", key, n, err)
				}
				model[string(key)] = v
			case 1: // Get
				got, err := c.Get(nil, key)
				want, ok := model[string(key)]
				switch {
				case err == nil && ok && bytes.Equal(got, want):
				case errors.Is(err, ErrNotFound) && (!ok || c.Stats().Evictions > 0):
					delete(model, string(key))
				default:
					t.Fatalf("Get(%x) = %d bytes, %v; model has %d bytes (%v)", key, len(got), err, len(want), ok)
				}
			case 2: // Delete
				ok, err := c.Delete(key)
				_, want := model[string(key)]
				if err != nil || (ok != want && c.Stats().Evictions == 0) || (ok && !want) {
					t.Fatalf("Delete(%x) = %v, %v; model has it: %v", key, ok, err, want)
				}
				delete(model, string(key))
			case 3: // Reset
				if err := c.Reset(); err != nil {
					t.Fatal(err)
				}
				clear(model)
			case 4: // oversized value
				if err := c.Set(key, make([]byte, c.MaxValueLen()+1+next())); !errors.Is(err, ErrTooLarge) {
					t.Fatalf("oversized Set: %v", err)
				}
			case 5: // All
				n := 0
				for k, v := range c.All() {
					if want, ok := model[string(k)]; !ok || !bytes.Equal(v, want) {
						t.Fatalf("All: %x = %d bytes, model: %d bytes (%v)", k, len(v), len(want), ok)
					}
					n++
				}
				if c.Stats().Evictions == 0 && n != len(model) {
					t.Fatalf("All yielded %d, model holds %d", n, len(model))
				}
			case 6: // SetCapacity: 1 to 5 MiB; a shrink may evict
				if err := c.SetCapacity(MinCapacity + next()*16<<10); err != nil {
					t.Fatalf("SetCapacity: %v", err)
				}
			}
			if c.Stats().Evictions == 0 && c.Len() != len(model) {
				t.Fatalf("Len %d, model %d", c.Len(), len(model))
			}
			if err := c.shards[0].h.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
