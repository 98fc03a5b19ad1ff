//go:build windows

package heap

import (
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
	"golang.org/x/sys/windows"
)

// wsInfo is PSAPI_WORKING_SET_EX_INFORMATION. Its attributes are a
// ULONG_PTR-sized union, so the layout is declared here rather than taken
// from x/sys, whose 64-bit attributes do not match 32-bit Windows.
type wsInfo struct {
	addr  uintptr
	attrs uintptr // bit 0: Valid, the page is in the working set
}

// resident counts the bytes of r's committed interval that are in the
// process's working set, with QueryWorkingSetEx, 4096 pages at a time. If
// the query fails it reports the whole interval.
func resident(r *vmem.Reservation) uint64 {
	cr := r.CommittedRange()
	if cr.Size == 0 {
		return 0
	}
	n, ok := residentRange(unsafe.Add(r.Pointer(), cr.Base-r.Base()), cr.Size)
	if !ok {
		return uint64(r.Committed())
	}
	return n
}

// residentRange counts the bytes of the size bytes at p (committed) in the
// working set; ok is false when the query fails.
func residentRange(p unsafe.Pointer, size uintptr) (uint64, bool) {
	const page = 4096 // QueryWorkingSetEx reports per 4 KiB page
	buf := make([]wsInfo, 4096)
	var n uint64
	end := uintptr(p) + size
	for addr := uintptr(p); addr < end; {
		k := min((end-addr)/page, uintptr(len(buf)))
		for i := range buf[:k] {
			buf[i] = wsInfo{addr: addr + uintptr(i)*page}
		}
		err := windows.QueryWorkingSetEx(windows.CurrentProcess(),
			uintptr(unsafe.Pointer(&buf[0])), uint32(k*unsafe.Sizeof(buf[0])))
		if err != nil {
			return 0, false
		}
		for _, w := range buf[:k] {
			n += uint64(w.attrs & 1)
		}
		addr += k * page
	}
	return n * page, true
}
