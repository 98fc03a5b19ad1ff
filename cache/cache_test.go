package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/heap"
)

func newCache(t testing.TB, o Options) *Cache {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name       string
		o          Options
		wantShards int
		wantErr    error
		// stripes a shard: each has room for 4 of the largest values
		wantStripes int
	}{
		{"minimum", Options{Capacity: MinCapacity}, 1, nil, 2},
		{"63 MiB", Options{Capacity: 63 << 20}, 1, nil, 8},
		{"64 MiB", Options{Capacity: 64 << 20}, 2, nil, 8},
		{"256 MiB", Options{Capacity: 256 << 20}, 8, nil, 8},
		{"1 GiB caps at 16", Options{Capacity: 1 << 30}, 16, nil, 8},
		{"explicit shards", Options{Capacity: 8 << 20, Shards: 4}, 4, nil, 2},
		{"largest values", Options{Capacity: 8 << 20, MaxValueLen: 2 << 20}, 1, nil, 1},
		{"zero capacity", Options{}, 0, ErrInvalidOptions, 0},
		{"negative capacity", Options{Capacity: -1}, 0, ErrInvalidOptions, 0},
		{"below minimum", Options{Capacity: MinCapacity - 1}, 0, ErrInvalidOptions, 0},
		{"shards not a power of two", Options{Capacity: 8 << 20, Shards: 3}, 0, ErrInvalidOptions, 0},
		{"negative shards", Options{Capacity: 8 << 20, Shards: -2}, 0, ErrInvalidOptions, 0},
		{"too many shards", Options{Capacity: 8 << 20, Shards: 64}, 0, ErrInvalidOptions, 0},
		{"negative MaxValueLen", Options{Capacity: 8 << 20, MaxValueLen: -1}, 0, ErrInvalidOptions, 0},
		{"MaxValueLen over a quarter shard", Options{Capacity: 8 << 20, MaxValueLen: 3 << 20}, 0, ErrInvalidOptions, 0},
		{"negative TTL", Options{Capacity: 8 << 20, TTL: -time.Second}, 0, ErrInvalidOptions, 0},
		{"long name", Options{Capacity: 8 << 20, Name: string(make([]byte, 60))}, 0, ErrInvalidOptions, 0},
		{"hostile name", Options{Capacity: 8 << 20, Name: "x\n\x1b[31m"}, 0, nil, 0},
		{"huge capacity", Options{Capacity: math.MaxInt}, 0, nil, 0},
		{"huge capacity, one shard", Options{Capacity: math.MaxInt, Shards: 1}, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.o)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("New(%+v) = %v, want %v", tt.o, err, tt.wantErr)
				}
				return
			}
			if strings.HasPrefix(tt.name, "hostile") || strings.HasPrefix(tt.name, "huge") {
				// The heap refuses the name, or the OS the reservation:
				// either way an error, not a panic.
				if err == nil {
					c.Close()
					t.Skip("accepted on this host")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if len(c.shards) != tt.wantShards || len(c.shards[0].stripes) != tt.wantStripes {
				t.Errorf("%d shards of %d stripes, want %d of %d", len(c.shards), len(c.shards[0].stripes), tt.wantShards, tt.wantStripes)
			}
		})
	}
}

func TestSetGetDelete(t *testing.T) {
	c := newCache(t, Options{Capacity: 4 << 20, Shards: 2})
	big := bytes.Repeat([]byte{7}, c.MaxValueLen())
	tests := []struct {
		key, value []byte
	}{
		{[]byte("a"), []byte("1")},
		{[]byte(""), []byte("empty key")},
		{[]byte("nil value"), nil},
		{[]byte("largest value"), big},
		{bytes.Repeat([]byte{'k'}, MaxKeyLen), []byte("largest key")},
		{[]byte("page-sized"), bytes.Repeat([]byte{1}, 20<<10)},
	}
	for _, tt := range tests {
		if err := c.Set(tt.key, tt.value); err != nil {
			t.Fatalf("Set(%.10q): %v", tt.key, err)
		}
	}
	for _, tt := range tests {
		got, err := c.Get([]byte("prefix"), tt.key)
		if err != nil || !bytes.Equal(got, append([]byte("prefix"), tt.value...)) {
			t.Errorf("Get(%.10q) = %.20q, %v; want the prefix then %d bytes", tt.key, got, err, len(tt.value))
		}
	}
	if n := c.Len(); n != len(tests) {
		t.Errorf("Len = %d, want %d", n, len(tests))
	}
	// Replace, then delete.
	if err := c.Set([]byte("a"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(nil, []byte("a")); string(got) != "2" {
		t.Errorf("after replace: %q, want 2", got)
	}
	if ok, err := c.Delete([]byte("a")); !ok || err != nil {
		t.Errorf("Delete = %v, %v; want true, nil", ok, err)
	}
	if ok, err := c.Delete([]byte("a")); ok || err != nil {
		t.Errorf("second Delete = %v, %v; want false, nil", ok, err)
	}
	if _, err := c.Get(nil, []byte("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	st := c.Stats()
	if st.Hits != uint64(len(tests)+1) || st.Misses != 1 || st.Entries != len(tests)-1 {
		t.Errorf("Stats %v: want %d hits, 1 miss, %d entries", st, len(tests)+1, len(tests)-1)
	}
	if err := c.shards[0].h.Validate(); err != nil {
		t.Error(err)
	}
}

func TestBadInput(t *testing.T) {
	c := newCache(t, Options{Capacity: 2 << 20})
	tooLongKey := make([]byte, MaxKeyLen+1)
	tooLongValue := make([]byte, c.MaxValueLen()+1)
	var nilCache *Cache
	closed, err := New(Options{Capacity: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"Set long key", c.Set(tooLongKey, nil), ErrTooLarge},
		{"Set long value", c.Set([]byte("k"), tooLongValue), ErrTooLarge},
		{"Get long key", second(c.Get(nil, tooLongKey)), ErrTooLarge},
		{"Delete long key", second(c.Delete(tooLongKey)), ErrTooLarge},
		{"nil Set", nilCache.Set(nil, nil), ErrNilCache},
		{"nil SetTTL", nilCache.SetTTL(nil, nil, time.Second), ErrNilCache},
		{"nil Get", second(nilCache.Get(nil, nil)), ErrNilCache},
		{"nil View", nilCache.View(nil, func([]byte) {}), ErrNilCache},
		{"nil Delete", second(nilCache.Delete(nil)), ErrNilCache},
		{"nil Reset", nilCache.Reset(), ErrNilCache},
		{"nil Close", nilCache.Close(), ErrNilCache},
		{"closed Set", closed.Set([]byte("k"), nil), ErrClosed},
		{"closed Get", second(closed.Get(nil, []byte("k"))), ErrClosed},
		{"closed Delete", second(closed.Delete([]byte("k"))), ErrClosed},
		{"closed Reset", closed.Reset(), ErrClosed},
		{"closed Close", closed.Close(), ErrClosed},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if nilCache.Len() != 0 || closed.Len() != 0 || nilCache.MaxValueLen() != 0 {
		t.Error("nil or closed cache: Len or MaxValueLen not 0")
	}
	if st := closed.Stats(); st.Committed != 0 || len(st.Shards) != 1 {
		t.Errorf("closed cache's Stats: %+v", st)
	}
	for range nilCache.All() {
		t.Error("nil cache yielded")
	}
	for range closed.All() {
		t.Error("closed cache yielded")
	}
	if c.Len() != 0 {
		t.Errorf("failed Sets stored %d entries", c.Len())
	}
}

// skipIfQuarantine skips tests of committed memory when the environment
// turns the heaps' reuse quarantine on (ZEBRA_DEBUG): it holds up to 16 MiB
// of freed blocks a heap, on purpose.
func skipIfQuarantine(t *testing.T) {
	if d, err := heap.ParseDebug(os.Getenv(heap.DebugEnv)); err == nil && d&heap.DebugQuarantine != 0 {
		t.Skip("the heaps' quarantine (", heap.DebugEnv, ") holds freed memory")
	}
}

func second[T any](_ T, err error) error { return err }

func TestTTL(t *testing.T) {
	c := newCache(t, Options{Capacity: 2 << 20, TTL: time.Hour})
	must(t, c.SetTTL([]byte("short"), []byte("v"), time.Millisecond))
	must(t, c.SetTTL([]byte("forever"), []byte("v"), 0))
	must(t, c.Set([]byte("default"), []byte("v")))
	time.Sleep(5 * time.Millisecond)
	for _, tt := range []struct {
		key  string
		want error
	}{{"short", ErrNotFound}, {"forever", nil}, {"default", nil}} {
		if _, err := c.Get(nil, []byte(tt.key)); !errors.Is(err, tt.want) {
			t.Errorf("Get(%s) = %v, want %v", tt.key, err, tt.want)
		}
	}
	if st := c.Stats(); st.Expirations != 1 || st.Entries != 2 {
		t.Errorf("Stats %v: want 1 expiration, 2 entries", st)
	}
	must(t, c.SetTTL([]byte("short"), []byte("v"), time.Millisecond))
	time.Sleep(5 * time.Millisecond)
	n := 0
	for k := range c.All() {
		if string(k) == "short" {
			t.Error("All yielded an expired entry")
		}
		n++
	}
	if n != 2 {
		t.Errorf("All yielded %d entries, want 2", n)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAll(t *testing.T) {
	c := newCache(t, Options{Capacity: 8 << 20, Shards: 4})
	want := map[string]string{}
	for i := range 3000 {
		k, v := fmt.Sprint("key", i), fmt.Sprint("value", i, string(make([]byte, i%100)))
		want[k] = v
		must(t, c.Set([]byte(k), []byte(v)))
	}
	got := map[string]string{}
	for k, v := range c.All() {
		if _, dup := got[string(k)]; dup {
			t.Errorf("%s yielded twice", k)
		}
		got[string(k)] = string(v)
	}
	if len(got) != len(want) {
		t.Fatalf("All yielded %d entries, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("All: %s = %q, want %q", k, got[k], v)
		}
	}
	// Breaking out, and calling the cache from the loop body.
	n := 0
	for k := range c.All() {
		if _, err := c.Delete(k); err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	if c.Len() != len(want)-10 {
		t.Errorf("Len after deleting 10 in the loop = %d, want %d", c.Len(), len(want)-10)
	}
}

// TestCapacityHolds fills caches with keys and values of many sizes well
// past their capacity and checks that committed memory (entries, index and
// the heaps' bookkeeping) stays within the bound cache.go states.
func TestCapacityHolds(t *testing.T) {
	skipIfQuarantine(t)
	tests := []struct {
		name       string
		capacity   int
		shards     int
		minV, maxV int
	}{
		{"small values", 4 << 20, 1, 1, 64},
		{"100 B to 4 KiB", 16 << 20, 4, 100, 4096},
		{"pages", 16 << 20, 2, 16 << 10, 200 << 10},
		{"mixed", 8 << 20, 2, 1, 100 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, Options{Capacity: tt.capacity, Shards: tt.shards})
			bound := uint64(tt.capacity + tt.capacity/10 + tt.shards<<20)
			r := rand.New(rand.NewPCG(1, uint64(tt.capacity)))
			val := make([]byte, tt.maxV)
			written, peak := 0, uint64(0)
			for i := 0; written < 4*tt.capacity; i++ {
				key := binary.LittleEndian.AppendUint64(nil, r.Uint64()%(1<<20))
				v := val[:tt.minV+r.IntN(tt.maxV-tt.minV+1)]
				must(t, c.Set(key, v))
				written += len(v)
				if i%64 == 0 {
					peak = max(peak, c.Stats().Committed)
				}
			}
			st := c.Stats()
			peak = max(peak, st.Committed)
			t.Logf("peak committed %d KiB for a %d KiB capacity; %v", peak>>10, tt.capacity>>10, st)
			if peak > bound {
				t.Errorf("peak committed %d bytes, over the bound %d", peak, bound)
			}
			if st.Evictions == 0 || st.Bytes > uint64(tt.capacity) {
				t.Errorf("no evictions, or %d bytes charged for a capacity of %d", st.Bytes, tt.capacity)
			}
			must(t, c.Reset())
			if st := c.Stats(); st.Entries != 0 || st.Committed > uint64(tt.shards)<<20 {
				t.Errorf("after Reset: %v; want no entries and at most 1 MiB a shard committed", st)
			}
			for i := range c.shards {
				if err := c.shards[i].h.Validate(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestDeleteShrinks checks that deleting most of a cache gives its memory
// back to the OS.
func TestDeleteShrinks(t *testing.T) {
	skipIfQuarantine(t)
	c := newCache(t, Options{Capacity: 8 << 20, Shards: 1})
	val := make([]byte, 1000)
	for i := range 6000 {
		must(t, c.Set([]byte(fmt.Sprint(i)), val))
	}
	full := c.Stats().Committed
	for i := range 6000 {
		if _, err := c.Delete([]byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if empty := c.Stats().Committed; empty > full/2 {
		t.Errorf("committed %d bytes full, still %d after deleting everything", full, empty)
	}
}

// TestReplace replaces one key's value by values of other lengths: in the
// same heap slot (overwritten in place), a larger or smaller slot, a page
// run and back. Each Get must return the last value, and the bytes charged
// must be the entry's slot and the index's block, whatever path the
// replacement took.
func TestReplace(t *testing.T) {
	c := newCache(t, Options{Capacity: 4 << 20, Shards: 1})
	key := []byte("key")
	index := 0
	for i := range c.stripes {
		index += heap.SlotSize(tableBytes(len(c.stripes[i].t.slots)), pageSize)
	}
	for i, n := range []int{100, 101, 90, 1000, 10, 0, 20 << 10, 20<<10 + 1, 17 << 10, 100} {
		v := bytes.Repeat([]byte{byte(i + 1)}, n)
		must(t, c.Set(key, v))
		got, err := c.Get(nil, key)
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("step %d: Get after Set of %d bytes = %d bytes, %v", i, n, len(got), err)
		}
		if st := c.Stats(); st.Entries != 1 || st.Bytes != uint64(index+slotBytes(len(key), n)) {
			t.Fatalf("step %d (%d bytes): %v; want 1 entry and %d bytes", i, n, st, index+slotBytes(len(key), n))
		}
		if err := c.shards[0].h.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSetCapacity fills a cache, shrinks it and checks that committed
// memory drops within the new capacity's bound at once, that entries it
// kept still read back, and that it grows again when the capacity does;
// capacities the shards and stripes cannot take are errors that change
// nothing.
func TestSetCapacity(t *testing.T) {
	skipIfQuarantine(t)
	const shards = 2
	c := newCache(t, Options{Capacity: 16 << 20, Shards: shards, MaxValueLen: 64 << 10})
	fill := func(n int) {
		for i := range n {
			must(t, c.Set([]byte(fmt.Sprint(i)), bytes.Repeat([]byte{byte(i)}, 100+i%4000)))
		}
	}
	bound := func(capacity int) uint64 { return uint64(capacity + capacity/10 + shards<<20) }
	fill(20_000)
	full := c.Stats()
	for _, tt := range []struct {
		name     string
		capacity int
		wantErr  error
	}{
		{"below MinCapacity", MinCapacity - 1, ErrInvalidOptions},
		{"negative", -1, ErrInvalidOptions},
		{"stripes too small for MaxValueLen", 3 << 20, ErrInvalidOptions},
		{"a half", 8 << 20, nil},
		{"a quarter", 4 << 20, nil},
	} {
		before := c.Stats()
		err := c.SetCapacity(tt.capacity)
		after := c.Stats()
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || after.Entries != before.Entries {
				t.Errorf("%s: SetCapacity(%d) = %v, entries %d -> %d; want %v and no change", tt.name, tt.capacity, err, before.Entries, after.Entries, tt.wantErr)
			}
			continue
		}
		must(t, err)
		t.Logf("%s: %v", tt.name, after)
		if after.Committed > bound(tt.capacity) || after.Bytes > uint64(tt.capacity) || after.Committed >= before.Committed {
			t.Errorf("%s: committed %d -> %d bytes, %d charged; want a drop to within %d", tt.name, before.Committed, after.Committed, after.Bytes, bound(tt.capacity))
		}
		n := 0
		for k, v := range c.All() {
			i, err := strconv.Atoi(string(k))
			if err != nil || !bytes.Equal(v, bytes.Repeat([]byte{byte(i)}, 100+i%4000)) {
				t.Fatalf("%s: entry %q holds %d wrong bytes", tt.name, k, len(v))
			}
			n++
		}
		if n == 0 || n != after.Entries {
			t.Errorf("%s: All yielded %d entries, Stats says %d", tt.name, n, after.Entries)
		}
	}
	must(t, c.SetCapacity(16<<20))
	fill(20_000)
	if st := c.Stats(); st.Committed > bound(16<<20) || st.Entries < full.Entries*9/10 {
		t.Errorf("grown back: %v; want about %d entries within %d bytes", st, full.Entries, bound(16<<20))
	}
	for i := range c.shards {
		if err := c.shards[i].h.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	var nilCache *Cache
	if err := nilCache.SetCapacity(16 << 20); !errors.Is(err, ErrNilCache) {
		t.Errorf("nil cache: %v", err)
	}
	must(t, c.Close())
	if err := c.SetCapacity(16 << 20); !errors.Is(err, ErrClosed) {
		t.Errorf("closed cache: %v", err)
	}
}
