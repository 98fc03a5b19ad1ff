package heap_test

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/zebra-heap/zebra/heap"
)

// The quick start's recipes (see the package documentation). Each is an
// Example, so CI runs it and go vet checks it.

// Recipe 1: a cache index. The records live in the heap, the index is a
// map of heap.Ref, a handle that holds no pointer: the GC scans neither
// the records nor the index, however many entries it has, and no unsafe
// conversion is needed. A Ref names its allocation: after eviction, a Ref
// kept somewhere by mistake gets heap.ErrStaleRef instead of another
// record's bytes. heap.CloneBytes / heap.FreeBytes do the same for values
// of any length.
func Example_cacheIndex() {
	h, err := heap.New(heap.Options{Name: "cache", Reserve: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Destroy()

	const recordSize = 64 // 4 bytes of length, then the value
	index := make(map[uint64]heap.Ref)
	put := func(key uint64, value string) error {
		r, err := h.AllocRef(recordSize)
		if err != nil {
			return err
		}
		b, _ := h.Bytes(r)
		n := copy(b[4:recordSize], value)
		b[0] = byte(n)
		if old, ok := index[key]; ok {
			h.FreeRef(old)
		}
		index[key] = r
		return nil
	}
	get := func(key uint64) (string, bool) {
		b, err := h.Bytes(index[key])
		if err != nil { // a missing key is Ref 0: ErrInvalidPointer
			return "", false
		}
		return string(b[4 : 4+int(b[0])]), true
	}
	evict := func(key uint64) error {
		r, ok := index[key]
		if !ok {
			return nil
		}
		delete(index, key)
		return h.FreeRef(r)
	}

	for k := range uint64(100_000) {
		if err := put(k, fmt.Sprint("value ", k)); err != nil {
			fmt.Println(err)
			return
		}
	}
	put(7, "replaced")
	stale := index[8]
	evict(8)
	v7, _ := get(7)
	_, ok8 := get(8)
	_, err = h.Bytes(stale)
	fmt.Println(v7, ok8, len(index), h.Stats().Blocks, errors.Is(err, heap.ErrStaleRef))
	// Output: replaced false 99999 99999 true
}

// Recipe 2, a per-request arena, is ExampleArena.

// Recipe 3: a big read-only index. Built once into two blocks (a sorted
// table of fixed-size entries and one buffer of all the values), then only
// read, from any number of goroutines without locks: reading a heap's
// memory takes no lock, and the collector has nothing to scan but two
// slice headers.
func Example_readOnlyIndex() {
	h, err := heap.New(heap.Options{Name: "dictionary", Reserve: 256 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Destroy()

	type entry struct {
		Key      uint64 // a hash of the word
		Off, Len uint32 // the definition in the values buffer
	}
	words := map[string]string{
		"zebra": "an animal with stripes", "heap": "memory handed out in blocks",
		"arena": "memory freed all at once", "segment": "a range of a heap's pages",
	}
	hash := func(s string) uint64 { f := fnv.New64a(); f.Write([]byte(s)); return f.Sum64() }

	size := 0
	for _, d := range words {
		size += len(d)
	}
	table, err := heap.MakeSlice[entry](h, 0, len(words))
	if err != nil {
		fmt.Println(err)
		return
	}
	values, err := heap.MakeBytes(h, 0, size, heap.Uninitialized)
	if err != nil {
		fmt.Println(err)
		return
	}
	for w, d := range words {
		table = append(table, entry{hash(w), uint32(len(values)), uint32(len(d))}) // within capacity
		values = append(values, d...)
	}
	slices.SortFunc(table, func(a, b entry) int { return cmp.Compare(a.Key, b.Key) })

	lookup := func(w string) string {
		i, ok := slices.BinarySearchFunc(table, hash(w), func(e entry, k uint64) int { return cmp.Compare(e.Key, k) })
		if !ok {
			return ""
		}
		e := table[i]
		return string(values[e.Off : e.Off+e.Len])
	}
	fmt.Println(lookup("zebra"))
	fmt.Println(lookup("arena"))
	fmt.Printf("%q %d blocks\n", lookup("giraffe"), h.Stats().Blocks)
	// Output:
	// an animal with stripes
	// memory freed all at once
	// "" 2 blocks
}
