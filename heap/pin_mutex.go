//go:build zebra_nopin

package heap

import (
	"math/rand/v2"
	"sync"
)

// The fallback for pin_linkname.go, for a runtime that no longer offers
// procPin: a fixed set of slots, each behind a mutex; a goroutine takes a
// free slot. It is slower (a lock per call) but keeps every property the
// caches rely on: a slot has one user at a time.

const pinned = "mutex"

const mutexSlots = 8

var slotLocks [mutexSlots]struct {
	sync.Mutex
	_ [56]byte
}

// pin takes the first free slot, so that a goroutine alone uses one slot
// as it would use one P, else waits for a random one.
func pin() int {
	for i := range slotLocks {
		if slotLocks[i].TryLock() {
			return i
		}
	}
	i := int(rand.Uint32N(mutexSlots))
	slotLocks[i].Lock()
	return i
}

func unpin(slot int) { slotLocks[slot].Unlock() }

// quiesce returns once every slot taken when it was called has been given
// back, so that Destroy can release the caches no goroutine can reach any
// more.
func quiesce() {
	for i := range slotLocks {
		slotLocks[i].Lock()
		slotLocks[i].Unlock()
	}
}
