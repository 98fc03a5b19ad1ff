package heap

import (
	"fmt"
	"sync"
)

// live is the registry of the process's heaps that are not destroyed, in
// creation order: New adds a heap, Destroy removes it. Debug pages and
// monitors read it through Heaps.
var live struct {
	mu     sync.Mutex
	heaps  []*Heap
	owners map[string]bool // owner names in use (Heap.Owner)
}

// claimOwner returns the owner name for a new heap named name: the name
// itself while no live heap's owner name is that, else "name #2", "name
// #3"… (the first free), so that maps tell same-named heaps apart. The
// name stays taken until releaseOwner.
func claimOwner(name string) string {
	live.mu.Lock()
	defer live.mu.Unlock()
	if live.owners == nil {
		live.owners = make(map[string]bool)
	}
	owner := name
	for n := 2; live.owners[owner]; n++ {
		owner = fmt.Sprintf("%s #%d", name, n)
	}
	live.owners[owner] = true
	return owner
}

// releaseOwner frees an owner name claimOwner gave.
func releaseOwner(owner string) {
	live.mu.Lock()
	delete(live.owners, owner)
	live.mu.Unlock()
}

func register(h *Heap) {
	live.mu.Lock()
	live.heaps = append(live.heaps, h)
	live.mu.Unlock()
}

func unregister(h *Heap) {
	live.mu.Lock()
	defer live.mu.Unlock()
	for i, x := range live.heaps {
		if x == h {
			live.heaps = append(live.heaps[:i], live.heaps[i+1:]...)
			return
		}
	}
}

// Heaps returns the heaps of this process that New created and Destroy has
// not destroyed yet, in creation order. The slice is a copy; a heap in it
// may be destroyed at any moment by its owner, after which its Stats
// report zeros. It exists for monitoring (such as a /debug page): a
// program should keep its own references to the heaps it uses.
func Heaps() []*Heap {
	live.mu.Lock()
	defer live.mu.Unlock()
	return append([]*Heap(nil), live.heaps...)
}
