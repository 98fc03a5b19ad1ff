//go:build zebra_nopin

package heap

import (
	"math/rand/v2"
	"sync"
)

// The fallback for pin_linkname.go, for a runtime that no longer offers
// procPin: a fixed set of slots, each behind a mutex; a goroutine takes a
// random slot. It is slower (a lock per call) but keeps every property the
// caches rely on: a slot has one user at a time.

const pinned = "mutex"

const mutexSlots = 8

var slotLocks [mutexSlots]struct {
	sync.Mutex
	_ [56]byte
}

func pin() int {
	i := int(rand.Uint32N(mutexSlots))
	slotLocks[i].Lock()
	return i
}

func unpin(slot int) { slotLocks[slot].Unlock() }

func slotsWanted() int { return mutexSlots }
