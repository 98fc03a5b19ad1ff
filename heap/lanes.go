package heap

import (
	"math/bits"
	"sync"

	"github.com/zebra-heap/zebra/vmem"
)

// Lanes: in the host's 64-bit address space each heap of the Default
// policy starts in a range of address space of its own, so that it grows
// in place. The OS places mappings next to each other (Linux: each new one
// right below the last), so heaps created together start side by side and
// every heap that grows finds its neighbour where it would extend: it must
// reserve a new range, and heaps growing together interleave, the zebra
// again, a mapping per step per heap. A lane is laneSize of address space
// that nothing reserves (a hint, not a reservation: it costs nothing, not
// even against ulimit -v); the heap's first segment goes at the end of its
// lane the space extends from (the top where mappings go top-down), so
// that each growth step extends the same reservation and a heap stays one
// mapping for what it committed and one for the rest, however many heaps
// grow beside it. Lanes are handed out downward from laneTop, cycling
// after laneCount; a hint that meets a mapping already there (another
// program's, or a lane's heap still alive after a cycle) is ignored by
// vmem, and the heap starts where the OS puts it, as without lanes.

const (
	laneSize  = 64 << 30
	laneCount = 512
	// laneTop is 96 TiB: below where Linux starts mappings on 47-bit
	// address spaces (just under 128 TiB, growing down) and above where
	// Go's runtime puts its heap.
	laneTop = 96 << 40
)

var lanes struct {
	mu   sync.Mutex
	next uint64
}

// laneHint returns where a Default heap's first segment of size bytes
// goes, or 0 for no hint: a small space (32-bit hosts, emulated windows),
// a space other than the host's, or sizes that do not fit a lane.
func laneHint(c *config, size uintptr) uintptr {
	if bits.UintSize < 64 || c.policy != Default || c.space != vmem.OS() || smallSpace(c.caps) ||
		!c.caps.ExactPlacement || uint64(size) > laneSize/4 {
		return 0
	}
	lanes.mu.Lock()
	i := lanes.next % laneCount
	lanes.next++
	lanes.mu.Unlock()
	top := uint64(laneTop) - i*laneSize
	if c.caps.TopDown {
		g := uint64(max(c.caps.Granularity, 2<<20)) // huge-page aligned either way
		return uintptr((top - uint64(size)) &^ (g - 1))
	}
	return uintptr(top - laneSize)
}
