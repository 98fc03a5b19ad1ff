package heap

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPin: a slot is in range for the implementation built (procPin: the
// P's id; the fallback: one of its mutex slots), and goroutines pinned at
// once never share a slot. (Nothing here locks while pinned: a goroutine
// must not park then.)
func TestPin(t *testing.T) {
	limit := slotLimit()
	var held [maxSlots]atomic.Int32
	var bad atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				slot := pin()
				if slot < 0 || slot >= limit || !held[slot].CompareAndSwap(0, 1) {
					bad.Store(int32(slot) + 1)
				} else {
					held[slot].Store(0)
				}
				unpin(slot)
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	if s := bad.Load(); s != 0 {
		t.Errorf("%s: slot %d out of [0, %d) or held by two goroutines at once", pinned, s-1, limit)
	}
}
