//go:build !race

package heap

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestNoSerializeConcurrentUse: a NoSerialize heap driven by 4 goroutines
// at once answers some calls with ErrConcurrentUse, and whatever else goes
// wrong names the misuse too, never corruption alone. (Not under the race
// detector: the misuse is a data race by design.)
func TestNoSerializeConcurrentUse(t *testing.T) {
	h := mustNew(t, Options{Name: "misused", NoSerialize: true})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	start := make(chan struct{})
	var found atomic.Bool
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var mine []unsafe.Pointer
			// Until the overlap is seen: on a loaded machine the
			// goroutines may take turns for a while.
			for i := 0; i < 5_000_000 && !found.Load(); i++ {
				var err error
				if p, e := h.Alloc(16 + (g*131+i)%700); e == nil {
					mine = append(mine, p)
				} else {
					err = e
				}
				if len(mine) > 64 && err == nil {
					err = h.Free(mine[0])
					mine = mine[1:]
				}
				if err != nil {
					mu.Lock()
					switch {
					case errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrConcurrentUse):
						seen["corrupt without naming the misuse: "+err.Error()]++
					case errors.Is(err, ErrConcurrentUse):
						seen["concurrent"]++
						found.Store(true)
					default:
						seen[err.Error()]++
					}
					mu.Unlock()
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if seen["concurrent"] == 0 {
		t.Errorf("4 goroutines on a NoSerialize heap: no call reported ErrConcurrentUse (%v)", seen)
	}
	for msg, n := range seen {
		if strings.HasPrefix(msg, "corrupt without naming") {
			t.Errorf("%d calls: %s", n, msg)
		}
	}
}
