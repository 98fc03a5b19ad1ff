package cache_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/zebra-heap/zebra/cache"
)

func Example() {
	c, err := cache.New(cache.Options{Capacity: 64 << 20})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if err := c.Set([]byte("user:42"), []byte(`{"name":"Ada"}`)); err != nil {
		panic(err)
	}
	v, err := c.Get(nil, []byte("user:42"))
	fmt.Printf("%s %v\n", v, err)
	_, err = c.Get(nil, []byte("user:7"))
	fmt.Println(errors.Is(err, cache.ErrNotFound))
	// Output:
	// {"name":"Ada"} <nil>
	// true
}

func ExampleCache_View() {
	c, _ := cache.New(cache.Options{Capacity: 4 << 20})
	defer c.Close()
	c.Set([]byte("k"), []byte("a value read in place"))
	// The slice is the cache's own memory: read it inside the function only.
	c.View([]byte("k"), func(v []byte) { fmt.Println(len(v), string(v[:7])) })
	// Output: 21 a value
}

func ExampleCache_SetTTL() {
	c, _ := cache.New(cache.Options{Capacity: 4 << 20})
	defer c.Close()
	c.SetTTL([]byte("session"), []byte("token"), 10*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	_, err := c.Get(nil, []byte("session"))
	fmt.Println(err)
	// Output: cache: key not found
}

func ExampleCache_All() {
	c, _ := cache.New(cache.Options{Capacity: 4 << 20})
	defer c.Close()
	c.Set([]byte("only"), []byte("entry"))
	for k, v := range c.All() {
		fmt.Printf("%s=%s\n", k, v)
	}
	// Output: only=entry
}

func ExampleCache_Stats() {
	c, _ := cache.New(cache.Options{Capacity: 4 << 20})
	defer c.Close()
	c.Set([]byte("k"), []byte("v"))
	c.Get(nil, []byte("k"))
	c.Get(nil, []byte("missing"))
	st := c.Stats()
	fmt.Println(st.Entries, st.Hits, st.Misses, len(st.Shards))
	// Output: 1 1 1 1
}
