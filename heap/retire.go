package heap

import (
	"strconv"
	"sync"

	"github.com/zebra-heap/zebra/vmem"
)

// The address-space quarantine. A destroyed heap's ranges (and a freed huge
// block's) are not released at once: they are decommitted, made
// inaccessible and renamed vmem.OwnerQuarantine, and wait first in, first
// out, until more than the budget of address space (1 GiB by default) or
// more than addrQuarantineMax ranges wait. Meanwhile nothing else can be
// placed there, so a stale pointer into a destroyed heap faults (SIGSEGV, a
// fatal error in Go) instead of reading or writing the next heap's blocks
// or bookkeeping at the same addresses. It costs address space and one
// mapping per range, never memory: the pages are decommitted. It is off in
// small spaces (32-bit hosts and emulated windows, where address space is
// what the heaps compete for) and in spaces other than the host's, and
// SetAddressQuarantine(0) turns it off.

// defaultAddrQuarantine is the budget on 64-bit hosts; 32-bit ones have
// none.
const defaultAddrQuarantine = 1 << 30 * (strconv.IntSize / 64)

// addrQuarantineMax bounds the ranges waiting, for vm.max_map_count.
const addrQuarantineMax = 1024

var addrQ = struct {
	mu     sync.Mutex
	fifo   []*vmem.Reservation
	bytes  uintptr
	budget uintptr
}{budget: defaultAddrQuarantine}

// SetAddressQuarantine sets the address space that ranges of destroyed
// heaps and freed huge blocks may hold while they wait, inaccessible,
// before they are released (1 GiB by default on 64-bit hosts), and returns
// the previous budget. Zero turns the quarantine off and releases every
// waiting range; so does a negative budget. Programs that measure what
// Destroy gives back (the demo does), or that destroy heaps in a space too
// tight to hold them, turn it off.
func SetAddressQuarantine(bytes int) int {
	addrQ.mu.Lock()
	old := int(addrQ.budget)
	addrQ.budget = uintptr(max(bytes, 0))
	out := evict()
	addrQ.mu.Unlock()
	release(out)
	return old
}

// AddressQuarantine returns the address-space quarantine's budget (see
// SetAddressQuarantine); zero means off.
func AddressQuarantine() int {
	addrQ.mu.Lock()
	defer addrQ.mu.Unlock()
	return int(addrQ.budget)
}

// retire gives back reservation r of a heap in space s: into the
// quarantine where it applies, else released at once. A range that cannot
// be made inaccessible is released.
func retire(r *vmem.Reservation, s vmem.Space) error {
	addrQ.mu.Lock()
	on := addrQ.budget > 0 && s == vmem.OS() && !smallSpace(s.Caps()) && r.Size() <= addrQ.budget
	addrQ.mu.Unlock()
	if !on {
		return r.Release()
	}
	if err := r.Decommit(r.Base(), r.Size()); err != nil || r.Committed() != 0 {
		return r.Release()
	}
	r.SetOwner(vmem.OwnerQuarantine)
	addrQ.mu.Lock()
	addrQ.fifo = append(addrQ.fifo, r)
	addrQ.bytes += r.Size()
	out := evict()
	addrQ.mu.Unlock()
	release(out)
	return nil
}

// evict takes the oldest ranges out of the quarantine while it is over its
// budget or its count. The caller holds addrQ.mu and releases them after.
func evict() []*vmem.Reservation {
	n := 0
	for n < len(addrQ.fifo) && (addrQ.bytes > addrQ.budget || len(addrQ.fifo)-n > addrQuarantineMax) {
		addrQ.bytes -= addrQ.fifo[n].Size()
		n++
	}
	out := append([]*vmem.Reservation(nil), addrQ.fifo[:n]...)
	addrQ.fifo = append(addrQ.fifo[:0], addrQ.fifo[n:]...)
	return out
}

// release releases evicted ranges. A refusal leaves the range reserved and
// inaccessible, which is all the quarantine promised: nothing is lost but
// address space, and nobody holds the reservation to retry.
func release(rs []*vmem.Reservation) {
	for _, r := range rs {
		_ = r.Release()
	}
}
