//go:build linux || freebsd

package heap

import (
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
	"golang.org/x/sys/unix"
)

// resident counts the bytes of r's committed interval that are in physical
// memory.
func resident(r *vmem.Reservation) uint64 {
	cr := r.CommittedRange()
	if cr.Size == 0 {
		return 0
	}
	n, ok := residentRange(unsafe.Add(r.Pointer(), cr.Base-r.Base()), cr.Size)
	if !ok {
		return uint64(r.Committed()) // cannot tell: assume all of it
	}
	return n
}

// residentRange counts the bytes of the size bytes at p (committed) that
// are in physical memory, with mincore(2), 4096 pages at a time; ok is false
// when mincore fails.
func residentRange(p unsafe.Pointer, size uintptr) (uint64, bool) {
	page := uintptr(unix.Getpagesize())
	vec := make([]byte, 4096)
	var n uint64
	for left := size; left > 0; {
		chunk := min(left, uintptr(len(vec))*page)
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(p), chunk, uintptr(unsafe.Pointer(&vec[0])))
		if errno != 0 {
			return 0, false
		}
		for _, v := range vec[:(chunk+page-1)/page] {
			n += uint64(v & 1)
		}
		p = unsafe.Add(p, chunk)
		left -= chunk
	}
	return n * uint64(page), true
}
