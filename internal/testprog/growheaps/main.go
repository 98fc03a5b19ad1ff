// Command growheaps is a test program: it grows two zebra heaps together
// for a while, the way PoC.HeapReserve does (300-byte blocks taken
// alternately from both, NT growth policy, no reserve), so that their
// segments alternate in the address space. Tests of `zebra record` and
// `zebra watch` record it from outside.
//
//	growheaps [-for 3s] [-mib-per-sec 16] [-hold 0s]
//
// It prints "ready" once the heaps exist and "done" when it stops
// growing; after -hold it destroys nothing and exits. With -png FILE it
// draws its own address space there when it stops growing (vmmap.Self,
// which attributes the heaps from inside the process, whatever the
// kernel's [anon:] names): the README's picture of a real 64-bit process.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
)

func main() {
	dur := flag.Duration("for", 3*time.Second, "grow for this long")
	rate := flag.Int("mib-per-sec", 16, "MiB per second each heap grows by")
	hold := flag.Duration("hold", 0, "stay alive this long after growing")
	png := flag.String("png", "", "draw the process's address space into this PNG file when done")
	flag.Parse()
	if err := grow(*dur, *rate, *hold, *png); err != nil {
		fmt.Fprintln(os.Stderr, "growheaps:", err)
		os.Exit(1)
	}
}

func grow(dur time.Duration, mibPerSec int, hold time.Duration, png string) error {
	var hs [2]*heap.Heap
	for i, name := range []string{"A", "B"} {
		h, err := heap.New(heap.Options{Name: "growheaps-" + name, Policy: heap.NT})
		if err != nil {
			return err
		}
		hs[i] = h
	}
	fmt.Println("ready")
	const block = 300
	// Grow in ticks of 50 ms so that the address space changes steadily.
	const tick = 50 * time.Millisecond
	perTick := mibPerSec << 20 / int(time.Second/tick) / block
	end := time.Now().Add(dur)
	for time.Now().Before(end) {
		for range perTick {
			for _, h := range hs {
				if _, err := h.Alloc(block); err != nil {
					return err
				}
			}
		}
		time.Sleep(tick)
	}
	fmt.Println("done")
	if png != "" {
		if err := draw(png); err != nil {
			return err
		}
	}
	time.Sleep(hold)
	return nil
}

// draw writes a PNG of the process's own address space to path.
func draw(path string) error {
	s, err := vmmap.Self()
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = render.PNG(f, s, render.Options{Title: "growheaps: two zebra heaps growing together (NT policy)"})
	if e := f.Close(); err == nil {
		err = e
	}
	return err
}
