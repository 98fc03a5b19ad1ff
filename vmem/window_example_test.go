package vmem_test

import (
	"errors"
	"fmt"

	"github.com/zebra-heap/zebra/vmem"
)

// A 32-bit Windows process in miniature: two heaps grow alternately inside
// the 2 GiB of a Win32 window, in segments of 1, 2, 4 and 8 MiB, bottom-up
// at 64 KiB granularity — the zebra. Destroying one heap leaves holes that
// cannot hold a block larger than any of its segments.
func ExampleNewWindow() {
	w, err := vmem.NewWindow(vmem.Win32())
	if err != nil {
		fmt.Println(err) // a 32-bit host may not have 2 GiB to spare
		return
	}
	defer w.Close()

	var heapA []*vmem.Reservation
	for _, mib := range []uintptr{1, 2, 4, 8} {
		a, _ := w.Reserve(mib<<20, vmem.Options{Owner: "heap A"})
		b, _ := w.Reserve(mib<<20, vmem.Options{Owner: "heap B"})
		heapA = append(heapA, a)
		fmt.Printf("%d MiB segments: A at %#08x, B at %#08x\n", mib, w.Emulated(a.Base()), w.Emulated(b.Base()))
	}

	// Memory in the window is real once committed.
	seg := heapA[0]
	if err := seg.Commit(seg.Base(), 4096); err != nil {
		fmt.Println(err)
		return
	}
	*(*byte)(seg.Pointer()) = 1

	for _, r := range heapA { // destroy heap A
		r.Release()
	}
	fmt.Printf("free %d MiB, largest block %d MiB\n", w.FreeBytes()>>20, w.Largest()>>20)

	// The holes are too small for a 16 MiB block below heap B's last
	// segment, so it goes above everything.
	big, _ := w.Reserve(16<<20, vmem.Options{Owner: "big"})
	fmt.Printf("16 MiB block at %#08x\n", w.Emulated(big.Base()))

	_, err = w.Reserve(w.Largest()+1, vmem.Options{})
	var nf *vmem.NoFitError
	fmt.Println(errors.As(err, &nf), errors.Is(err, vmem.ErrNoMemory))
	// Output:
	// 1 MiB segments: A at 0x00010000, B at 0x00110000
	// 2 MiB segments: A at 0x00210000, B at 0x00410000
	// 4 MiB segments: A at 0x00610000, B at 0x00a10000
	// 8 MiB segments: A at 0x00e10000, B at 0x01610000
	// free 2032 MiB, largest block 2017 MiB
	// 16 MiB block at 0x01e10000
	// true true
}
