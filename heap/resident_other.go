//go:build darwin

package heap

import "github.com/zebra-heap/zebra/vmem"

// resident reports the committed interval: x/sys/unix has no mincore for
// macOS, so residency is not measured there.
func resident(r *vmem.Reservation) uint64 { return uint64(r.Committed()) }
