//go:build darwin || windows

package heap

import "github.com/zebra-heap/zebra/vmem"

// resident reports the committed interval: these systems' residency queries
// (mincore on macOS, QueryWorkingSetEx on Windows) are not wired up yet.
func resident(r *vmem.Reservation) uint64 { return uint64(r.Committed()) }
