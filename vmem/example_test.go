package vmem_test

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// The whole model: reserve address space in one piece (no memory yet),
// commit what is used, use it, decommit what is no longer needed (the
// memory goes back, the addresses stay), release the piece.
func Example() {
	r, err := vmem.OS().Reserve(64<<20, vmem.Options{Owner: "example heap"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("reserved %d MiB, committed %d\n", r.Size()>>20, r.Committed())

	// Commit the first MiB: it becomes readable and writable. Physical
	// memory appears page by page as it is touched.
	if err := r.Commit(r.Base(), 1<<20); err != nil {
		fmt.Println(err)
		return
	}
	buf := unsafe.Slice((*byte)(r.Pointer()), 1<<20)
	copy(buf, "hello, off-heap")
	fmt.Printf("%s; committed %d MiB\n", buf[:15], r.Committed()>>20)

	// Decommit it: the memory goes back to the OS, the addresses stay ours.
	if err := r.Decommit(r.Base(), 1<<20); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("decommitted; committed %d, still reserved %d MiB\n", r.Committed(), r.Size()>>20)

	// Release gives the whole range back in one piece.
	if err := r.Release(); err != nil {
		fmt.Println(err)
		return
	}
	err = r.Commit(r.Base(), 1)
	fmt.Println("use after release:", errors.Is(err, vmem.ErrReleased))
	// Output:
	// reserved 64 MiB, committed 0
	// hello, off-heap; committed 1 MiB
	// decommitted; committed 0, still reserved 64 MiB
	// use after release: true
}

// A heap that outgrows its reservation first tries to grow it in place, so
// that its address space stays one piece; only when the neighbouring range
// is taken does it reserve a new segment elsewhere.
func ExampleReservation_Extend() {
	r, err := vmem.OS().Reserve(1<<20, vmem.Options{Owner: "growing heap"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Release()
	segments := []*vmem.Reservation{r}

	dir := vmem.Above
	if vmem.OS().Caps().TopDown {
		dir = vmem.Below // Linux maps new things below old ones: look there
	}
	switch err := r.Extend(dir, 1<<20); {
	case err == nil:
		// One piece; the committed interval and the data did not move.
	case errors.Is(err, vmem.ErrAddressTaken):
		more, err := vmem.OS().Reserve(1<<20, vmem.Options{Owner: "growing heap"})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer more.Release()
		segments = append(segments, more)
	default:
		fmt.Println(err)
		return
	}
	var total uintptr
	for _, s := range segments {
		total += s.Size()
	}
	fmt.Printf("the heap now has %d MiB of address space\n", total>>20)
	// Output:
	// the heap now has 2 MiB of address space
}

// Live lists every reservation of the process with its owner, so that a map
// of the process can say which heap a region belongs to.
func ExampleLive() {
	r, err := vmem.OS().Reserve(4<<20, vmem.Options{Owner: "heap A"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Release()
	if err := r.Commit(r.Base(), 1<<20); err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range vmem.Live() {
		if in.Owner == "heap A" {
			fmt.Printf("%s: %d MiB reserved, %d MiB committed\n",
				in.Owner, in.Range().Size>>20, in.Committed>>20)
		}
	}
	// Output:
	// heap A: 4 MiB reserved, 1 MiB committed
}
