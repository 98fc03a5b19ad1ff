package heap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

const (
	staleEnv      = "ZEBRA_HEAP_STALE_CHILD"
	staleSurvived = "stale: survived"
)

// TestUseAfterDestroyFaults: a pointer kept past Destroy, used after a new
// heap with the same options was made (which, without the address-space
// quarantine, gets exactly the same addresses), must fault: reading or
// writing a destroyed block, and writing past its end, where the new
// heap's bookkeeping would be. Each case runs in a child process, since the
// fault is fatal.
func TestUseAfterDestroyFaults(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		n    int
		use  func(p unsafe.Pointer, size int)
	}{
		{"read small block", Options{}, 64, func(p unsafe.Pointer, _ int) { fmt.Println(*(*byte)(p)) }},
		{"write small block", Options{}, 64, func(p unsafe.Pointer, _ int) { *(*byte)(p) = 1 }},
		{"write large block", Options{}, 100 << 10, func(p unsafe.Pointer, _ int) { *(*byte)(p) = 1 }},
		{"write huge block", Options{Policy: NT}, 4 << 20, func(p unsafe.Pointer, _ int) { *(*byte)(p) = 1 }},
		{"write past the last block", Options{Reserve: 1 << 20}, 1000 << 10, func(p unsafe.Pointer, size int) {
			*(*byte)(unsafe.Add(p, size+4096)) = 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if os.Getenv(staleEnv) != tt.name {
				runStaleChild(t, tt.name)
				return
			}
			tt.o.Name = "stale"
			h := mustNew(t, tt.o)
			p, err := h.Alloc(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			size, _ := h.Size(p)
			if err := h.Destroy(); err != nil {
				t.Fatal(err)
			}
			again := mustNew(t, tt.o)
			q, err := again.Alloc(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("old block %p, new block %p\n", p, q)
			tt.use(p, size)
			fmt.Println(staleSurvived)
		})
	}
}

func runStaleChild(t *testing.T, name string) {
	t.Helper()
	if AddressQuarantine() == 0 {
		t.Skip("no address-space quarantine on this host (32-bit)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUseAfterDestroyFaults$/^"+strings.ReplaceAll(name, " ", "_")+"$", "-test.v")
	cmd.Env = append(os.Environ(), staleEnv+"="+name)
	out, _ := cmd.CombinedOutput()
	faulted := strings.Contains(string(out), "SIGSEGV") || strings.Contains(string(out), "unexpected fault address")
	if !faulted || strings.Contains(string(out), staleSurvived) {
		t.Fatalf("a stale pointer into a destroyed heap did not fault:\n%s", out)
	}
}

// TestDestroyWhileCalls destroys heaps while goroutines allocate and free
// in them: every call either succeeds (before Destroy) or returns
// ErrDestroyed, nothing faults, and a NoSerialize heap refuses a Destroy
// that meets another call. The goroutines never touch the blocks' memory,
// which Destroy takes away.
func TestDestroyWhileCalls(t *testing.T) {
	for round := range 20 {
		h, err := New(Options{Name: "destroy-while-calls"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		started := make(chan struct{}, 4)
		for g := range 4 {
			wg.Go(func() {
				started <- struct{}{}
				for i := 0; ; i++ {
					p, err := h.Alloc(16 + (i*(g+1))%5000)
					if err == nil {
						err = h.Free(p)
					}
					if errors.Is(err, ErrDestroyed) {
						return
					}
					if err != nil {
						t.Errorf("round %d: %v", round, err)
						return
					}
				}
			})
		}
		for range 4 {
			<-started
		}
		if err := h.Destroy(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
	h, err := New(Options{Name: "destroy-noserialize", NoSerialize: true})
	if err != nil {
		t.Fatal(err)
	}
	h.inCall = 1 // another call is running
	if err := h.Destroy(); !errors.Is(err, ErrConcurrentUse) {
		t.Fatalf("Destroy during a call of a NoSerialize heap: %v, want ErrConcurrentUse", err)
	}
	h.inCall = 0
	if _, err := h.Alloc(16); err != nil {
		t.Fatalf("the refused Destroy changed the heap: %v", err)
	}
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
}
