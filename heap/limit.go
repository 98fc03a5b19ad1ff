package heap

import (
	"errors"
	"fmt"
	"unsafe"
)

// The commit limit (Options.CommitLimit): every commit of block memory
// (a run of pages with the step committed ahead, a huge block) is checked
// against it under the heap's lock, with what the commit would really add
// (vmem.Reservation.CommitCost). An allocation refused there unwinds with
// ErrCommitLimit to its entry point, which holds no lock: failed makes
// room (Compact, then Options.Reclaim) and tries again. Holding the limit
// costs nothing until it is near: the check is on the commit path, never
// on a block taken from a cache or a free run already committed.

// maxReclaims bounds the calls to Options.Reclaim for one allocation.
const maxReclaims = 16

// committed returns what the heap's reservations have committed: its
// segments and its huge blocks. The caller holds the heap's lock.
func (h *Heap) committed() (n uintptr) {
	for _, r := range h.res {
		n += r.Committed()
	}
	for _, b := range h.huge {
		n += b.res.Committed()
	}
	return n
}

// Committed returns the memory the heap has committed: for its blocks
// (Stats.Committed, what the commit limit bounds) and for its bookkeeping
// (Stats.MetaCommitted). Unlike Stats it makes no system call and holds
// only the heap's own lock, a moment: it is the figure a cache checks
// against its capacity as it fills. Zero for a nil or destroyed heap.
func (h *Heap) Committed() (blocks, metadata uint64) {
	if h == nil || h.lock("committed") != nil {
		return 0, 0
	}
	defer h.unlockHeap()
	return uint64(h.committed()), uint64(h.meta.committed())
}

// admit returns an error wrapping ErrCommitLimit if committing cost more
// bytes would take the heap past its limit. The caller holds the heap's
// lock.
func (h *Heap) admit(cost uintptr) error {
	limit := h.commitLimit.Load()
	if limit == 0 || cost == 0 {
		return nil
	}
	if have := h.committed(); have+cost > limit {
		return fmt.Errorf("%w: committing %s more would make %s, past the limit of %s",
			ErrCommitLimit, sizeText(uint64(cost)), sizeText(uint64(have+cost)), sizeText(uint64(limit)))
	}
	return nil
}

// failed ends an allocation that returned err: when the commit limit
// refused it, it decommits what the heap holds free (Compact), calls
// Options.Reclaim while that frees something, and calls again after each,
// which repeats the allocation. The caller holds no lock of the heap.
func (h *Heap) failed(err error, again func() (unsafe.Pointer, error)) (unsafe.Pointer, error) {
	for round := 0; errors.Is(err, ErrCommitLimit) && round <= maxReclaims; round++ {
		if round > 0 && !h.reclaim(err) {
			break
		}
		if h.cfg.noSerialize {
			h.leave() // Compact and Reclaim's Frees are calls of their own
		}
		_, cerr := h.Compact()
		if h.cfg.noSerialize {
			h.inCall = 1
		}
		if cerr != nil {
			break
		}
		var p unsafe.Pointer
		if p, err = again(); err == nil {
			return p, nil
		}
	}
	return h.counted(nil, err)
}

// reclaim calls Options.Reclaim with the size the failed allocation asked,
// unless that alone is past the limit: nothing freed could make it fit.
func (h *Heap) reclaim(err error) bool {
	var nm *NoMemoryError
	if h.cfg.reclaim == nil || !errors.As(err, &nm) || uintptr(nm.Asked) > h.commitLimit.Load() {
		return false
	}
	need := nm.Asked
	if h.cfg.noSerialize {
		h.leave()
		defer func() { h.inCall = 1 }()
	}
	return h.cfg.reclaim(h, need)
}

// SetCommitLimit changes the heap's commit limit (Options.CommitLimit);
// zero removes it. When the heap holds more committed memory than the new
// limit, it decommits what it holds free; if its blocks still need more,
// the limit is set all the same (no commit passes it from now on) and the
// error, wrapping ErrCommitLimit, says by how much the heap is over.
func (h *Heap) SetCommitLimit(n int) error {
	if h == nil {
		return nilHeap("set commit limit")
	}
	if n < 0 {
		return fmt.Errorf("heap %q: set commit limit %d: %w: negative", h.cfg.name, n, ErrInvalidSize)
	}
	if n > 0 && uintptr(n) < h.cfg.commit {
		return fmt.Errorf("heap %q: set commit limit %s: %w: below Options.Commit (%s), which stays committed",
			h.cfg.name, sizeText(uint64(n)), ErrInvalidSize, sizeText(uint64(h.cfg.commit)))
	}
	if err := h.lock("set commit limit"); err != nil {
		return err
	}
	h.commitLimit.Store(uintptr(n))
	over := n > 0 && h.committed() > uintptr(n)
	h.unlockHeap()
	if !over {
		return nil
	}
	if _, err := h.Compact(); err != nil {
		return err
	}
	if err := h.lock("set commit limit"); err != nil {
		return err
	}
	defer h.unlockHeap()
	if have := h.committed(); have > uintptr(n) {
		return fmt.Errorf("heap %q: set commit limit %s: %w: %s stays committed for the heap's blocks",
			h.cfg.name, sizeText(uint64(n)), ErrCommitLimit, sizeText(uint64(have)))
	}
	return nil
}
