package vmem

import (
	"fmt"
	"unsafe"

	"github.com/zebra-heap/zebra/internal/units"
)

// windowAlloc implements prims for one reservation in a window (see
// window.go for the overview):
//
//	reserve    placement in the window's free list; no system call, the
//	           range is already reserved on the host
//	reserveAt  the exact range if the free list holds all of it, else
//	           ErrAddressTaken; this is what Extend uses
//	commit     the host's commit (mprotect RW, MEM_COMMIT) of the sub-range
//	uncommit   the host's uncommit (mprotect NONE; nothing on Windows)
//	decommit   the host's decommit (MADV_DONTNEED, MEM_DECOMMIT)
//	release    decommit and uncommit what is committed, then give the
//	           range back to the free list, merging it with its neighbours
//	name       records the owner for Regions; the host mapping is not
//	           renamed, which would split it
//	filled     (holeTracker) forgets decommitted pages that Commit made
//	           usable again without calling commit (hosts whose
//	           decommitted pages stay accessible), so the Reservation's
//	           holes and Regions agree
//
// Its fields are guarded by the window's mutex. Ranges are emulated.
type windowAlloc struct {
	w           *Window
	res         *Reservation // set once Reserve has made it
	owner       string
	live        bool
	rng         Range   // the whole reservation
	pieces      []Range // allocation bases, as Reservation.pieces
	committed   rangeSet
	decommitted rangeSet // inside committed
}

func (a *windowAlloc) caps() Caps { return a.w.caps }

func (a *windowAlloc) reserve(size, align uintptr, huge bool) (unsafe.Pointer, error) {
	w := a.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, fmt.Errorf("the window is closed: %w", ErrReleased)
	}
	at, ok := w.cfg.Placement.place(&w.free, size, align)
	if !ok {
		nf := &NoFitError{Space: w.cfg.Name, Asked: size, Largest: w.free.largest(), Free: w.free.total()}
		if align > w.caps.Granularity && nf.Largest >= size {
			return nil, fmt.Errorf("aligned to %s: %w", units.Size(align), nf)
		}
		return nil, nf
	}
	a.take(Range{at, size})
	return w.pointer(at), nil
}

// take makes the free range r (emulated) this reservation. The caller
// holds the window's lock.
func (a *windowAlloc) take(r Range) {
	a.rng = r
	a.pieces = []Range{r}
	a.live = true
	a.w.free.remove(r)
	a.w.allocs[a] = struct{}{}
}

// reserveHint reserves the range at real address p when all of it lies in
// the window and is free (Options.Hint).
func (a *windowAlloc) reserveHint(p unsafe.Pointer, size uintptr, huge bool) error {
	w := a.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("the window is closed: %w", ErrReleased)
	}
	e, ok := w.emulated(uintptr(p))
	if !ok || e < w.cfg.Low || size > w.cfg.High-e || !w.free.covers(Range{e, size}) {
		return fmt.Errorf("%w: hint %#x+%#x", ErrAddressTaken, uintptr(p), size)
	}
	a.take(Range{e, size})
	return nil
}

func (a *windowAlloc) reserveAt(p unsafe.Pointer, size uintptr, huge bool) error {
	w := a.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if !a.live || w.closed {
		return fmt.Errorf("the window is closed: %w", ErrReleased)
	}
	e, ok := w.emulated(uintptr(p))
	if !ok || e < w.cfg.Low || size > w.cfg.High-e {
		// Modular arithmetic gives the emulated address of a range just
		// outside the window, which is all Extend can ask for.
		out := Range{uintptr(p) - w.hostBase + w.emuBase, size}
		return fmt.Errorf("%w: %s (emulated) lies outside the window %#x-%#x", ErrAddressTaken, out, w.cfg.Low, w.cfg.High)
	}
	r := Range{e, size}
	if r.End() != a.rng.Base && r.Base != a.rng.End() {
		return fmt.Errorf("%w: %s does not touch the reservation %s", ErrAddressTaken, r, a.rng)
	}
	if !w.free.covers(r) {
		return fmt.Errorf("%w: %s (emulated) is not free", ErrAddressTaken, r)
	}
	w.free.remove(r)
	if r.End() == a.rng.Base {
		a.pieces = append([]Range{r}, a.pieces...)
		a.rng = Range{r.Base, a.rng.Size + size}
	} else {
		a.pieces = append(a.pieces, r)
		a.rng.Size += size
	}
	return nil
}

// span translates a real sub-range of the reservation into emulated
// addresses.
func (a *windowAlloc) span(p unsafe.Pointer, n uintptr) Range {
	e, _ := a.w.emulated(uintptr(p))
	return Range{e, n}
}

func (a *windowAlloc) commit(p unsafe.Pointer, n uintptr) error {
	if err := (hostPrims{}).commit(p, n); err != nil {
		return err
	}
	r := a.span(p, n)
	a.w.mu.Lock()
	a.committed.add(r)
	a.decommitted.remove(r)
	a.w.mu.Unlock()
	return nil
}

// filled implements holeTracker: Commit made decommitted pages committed
// again without calling commit, as hosts whose decommitted pages stay
// accessible allow.
func (a *windowAlloc) filled(p unsafe.Pointer, n uintptr) {
	r := a.span(p, n)
	a.w.mu.Lock()
	a.decommitted.remove(r)
	a.w.mu.Unlock()
}

func (a *windowAlloc) uncommit(p unsafe.Pointer, n uintptr) error {
	if err := (hostPrims{}).uncommit(p, n); err != nil {
		return err
	}
	r := a.span(p, n)
	a.w.mu.Lock()
	a.committed.remove(r)
	a.decommitted.remove(r)
	a.w.mu.Unlock()
	return nil
}

func (a *windowAlloc) decommit(p unsafe.Pointer, n uintptr) error {
	if err := (hostPrims{}).decommit(p, n); err != nil {
		return err
	}
	r := a.span(p, n)
	a.w.mu.Lock()
	for _, c := range a.committed.clip(r) {
		a.decommitted.add(c)
	}
	a.w.mu.Unlock()
	return nil
}

func (a *windowAlloc) release(p unsafe.Pointer, pieces []Range) error {
	w := a.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if !a.live {
		return ErrReleased
	}
	// Only committed pages need the host: the rest is PROT_NONE (or
	// MEM_RESERVE) already, as the window's free space must be.
	for len(a.committed.rs) > 0 {
		c := a.committed.rs[0]
		q := w.pointer(c.Base)
		if err := (hostPrims{}).decommit(q, c.Size); err != nil {
			return err
		}
		if err := (hostPrims{}).uncommit(q, c.Size); err != nil {
			return err
		}
		a.committed.remove(c)
	}
	a.decommitted = rangeSet{}
	w.free.add(a.rng)
	delete(w.allocs, a)
	a.live = false
	return nil
}

func (a *windowAlloc) name(p unsafe.Pointer, n uintptr, owner string) {
	a.w.mu.Lock()
	a.owner = owner
	a.w.mu.Unlock()
}
