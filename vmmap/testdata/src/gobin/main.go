// Command gobin is the Go program captured in testdata/go: it grows its
// heap to about 40 MiB from a few goroutines and reserves two owned ranges
// through vmem, then prints its pid and waits.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

var keep [][]byte

func main() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				b := make([]byte, 100<<10)
				b[0] = 1
				mu.Lock()
				keep = append(keep, b)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, owner := range []string{"heap A", "heap B"} {
		r, err := vmem.OS().Reserve(8<<20, vmem.Options{Owner: owner})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := r.Commit(r.Base(), 1<<20); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		clear(unsafe.Slice((*byte)(r.Pointer()), 1<<20))
	}
	fmt.Println(os.Getpid())
	time.Sleep(time.Hour)
}
