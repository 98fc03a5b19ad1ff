//go:build darwin

package heap

import (
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// resident reports the committed interval: x/sys/unix has no mincore for
// macOS, so residency is not measured there.
func resident(r *vmem.Reservation) uint64 { return uint64(r.Committed()) }

// residentRange reports the whole range, as resident does.
func residentRange(p unsafe.Pointer, size uintptr) (uint64, bool) { return uint64(size), true }
