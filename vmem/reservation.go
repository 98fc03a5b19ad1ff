package vmem

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/zebra-heap/zebra/internal/units"
)

// A Reservation is a contiguous range of address space owned by one user.
// It is made by a Space's Reserve and may grow in place with Extend.
//
// A Reservation keeps one committed interval (the watermark): Commit widens
// it to cover the pages asked for, and Decommit returns pages inside it to the
// OS without changing protections, except at the interval's ends where the
// watermark moves back. On Linux this keeps a reservation at two VMAs (three
// after an extension below) however it is committed and decommitted.
//
// Methods are not safe for concurrent use, except Committed, which the
// registry reads while the owner works.
type Reservation struct {
	p      prims
	caps   Caps
	space  string
	owner  string
	huge   bool
	id     uint64
	ptr    unsafe.Pointer // base of the whole range
	size   uintptr
	pieces []Range // allocation bases, in address order; several after Extend
	// clo and chi bound the committed interval [clo, chi); clo == chi when
	// nothing is committed.
	clo, chi  uintptr
	committed atomic.Uintptr // chi - clo, for readers outside the owner
	released  bool
}

// reserve implements Space.Reserve for every space: it validates and rounds
// the request, asks the primitives for the range, names it and registers it.
func reserve(p prims, space string, size uintptr, o Options) (*Reservation, error) {
	c := p.caps()
	huge := o.HugePages && c.HugePageSize != 0
	unit := c.Granularity
	if huge {
		unit = max(unit, c.HugePageSize)
	}
	rounded, err := roundUp(size, unit)
	if err != nil {
		return nil, fmt.Errorf("vmem: %s: reserve %d bytes: %w", space, size, err)
	}
	align := o.Align
	if align == 0 {
		align = c.Granularity
	}
	if bits.OnesCount64(uint64(align)) != 1 || align > c.MaxAlign {
		return nil, fmt.Errorf("%w: %s: alignment %#x must be a power of two no larger than %#x",
			ErrInvalidAlign, space, align, c.MaxAlign)
	}
	align = max(align, unit)
	ptr, err := p.reserve(rounded, align, huge)
	if err != nil {
		return nil, fmt.Errorf("vmem: %s: reserve %s: %w", space, units.Size(rounded), err)
	}
	base := uintptr(ptr)
	r := &Reservation{
		p: p, caps: c, space: space, owner: o.Owner, huge: huge,
		ptr: ptr, size: rounded,
		pieces: []Range{{base, rounded}},
		clo:    base, chi: base,
	}
	if r.owner != "" {
		p.name(ptr, rounded, r.owner)
	}
	register(r)
	return r, nil
}

// roundUp rounds n up to a multiple of unit (a power of two), rejecting
// zero and overflow with ErrInvalidSize.
func roundUp(n, unit uintptr) (uintptr, error) {
	if n == 0 {
		return 0, fmt.Errorf("%w: size is zero", ErrInvalidSize)
	}
	if n+unit-1 < n {
		return 0, fmt.Errorf("%w: %d bytes overflows when rounded to %s", ErrInvalidSize, n, units.Size(unit))
	}
	return (n + unit - 1) &^ (unit - 1), nil
}

// Base returns the lowest address of the reservation.
func (r *Reservation) Base() uintptr { return uintptr(r.ptr) }

// Size returns the size of the reservation in bytes.
func (r *Reservation) Size() uintptr { return r.size }

// Range returns the whole range of the reservation.
func (r *Reservation) Range() Range { return Range{r.Base(), r.size} }

// Pointer returns the base of the reservation as a pointer. Build pointers
// inside it with unsafe.Add, never through uintptr arithmetic.
func (r *Reservation) Pointer() unsafe.Pointer { return r.ptr }

// Owner returns the owner name given at Reserve.
func (r *Reservation) Owner() string { return r.owner }

// Space returns the name of the space the reservation was made in.
func (r *Reservation) Space() string { return r.space }

// HugePages reports whether the reservation uses transparent huge pages,
// and so commits and decommits in whole huge pages.
func (r *Reservation) HugePages() bool { return r.huge }

// Pieces returns the allocation bases of the reservation in address order:
// one, plus one per successful Extend. On Windows each piece is a separate
// VirtualAlloc allocation; elsewhere they are merged by the kernel.
func (r *Reservation) Pieces() []Range { return append([]Range(nil), r.pieces...) }

// Committed returns the size of the committed interval (the watermark),
// including decommitted pages inside it. It is safe to call concurrently.
func (r *Reservation) Committed() uintptr { return r.committed.Load() }

// CommittedRange returns the committed interval.
func (r *Reservation) CommittedRange() Range { return Range{r.clo, r.chi - r.clo} }

// Unit returns the unit of Commit and Decommit: the page size, or the huge
// page size for reservations with huge pages.
func (r *Reservation) Unit() uintptr {
	if r.huge {
		return r.caps.HugePageSize
	}
	return r.caps.PageSize
}

// check validates [addr, addr+n) against the reservation.
func (r *Reservation) check(op string, addr, n uintptr) error {
	if r.released {
		return fmt.Errorf("vmem: %s %#x: %w", op, addr, ErrReleased)
	}
	if n == 0 {
		return fmt.Errorf("vmem: %s %#x: %w: size is zero", op, addr, ErrInvalidSize)
	}
	if addr+n < addr {
		return fmt.Errorf("vmem: %s %#x+%d: %w: overflows", op, addr, n, ErrInvalidSize)
	}
	if addr < r.Base() || addr+n > r.Base()+r.size {
		return fmt.Errorf("vmem: %s %#x-%#x: %w %s", op, addr, addr+n, ErrOutOfRange, r.Range())
	}
	return nil
}

// Commit moves the pages covering [addr, addr+n) to Committed: they become
// readable and writable, and physical memory appears when they are first
// touched. The committed interval widens to include them.
func (r *Reservation) Commit(addr, n uintptr) error {
	if err := r.check("commit", addr, n); err != nil {
		return err
	}
	u := r.Unit()
	lo := addr &^ (u - 1)
	hi := min((addr+n+u-1)&^(u-1), r.Base()+r.size)
	if r.clo == r.chi { // empty: the interval starts where the request does
		r.clo, r.chi = lo, lo
	}
	if r.caps.RecommitAfterDecommit {
		if a, b := max(lo, r.clo), min(hi, r.chi); a < b {
			if err := r.each(a, b, r.p.commit); err != nil {
				return fmt.Errorf("vmem: commit %#x-%#x: %w", a, b, err)
			}
		}
	}
	if lo < r.clo {
		if err := r.each(lo, r.clo, r.p.commit); err != nil {
			return fmt.Errorf("vmem: commit %#x-%#x: %w", lo, r.clo, err)
		}
		r.clo = lo
	}
	if hi > r.chi {
		if err := r.each(r.chi, hi, r.p.commit); err != nil {
			return fmt.Errorf("vmem: commit %#x-%#x: %w", r.chi, hi, err)
		}
		r.chi = hi
	}
	r.committed.Store(r.chi - r.clo)
	return nil
}

// Decommit moves the whole pages inside [addr, addr+n) from Committed to
// Decommitted: their contents are lost and their physical memory returns to
// the OS. Partial pages at either end are left alone. Pages outside the
// committed interval are already uncommitted and are skipped. Where the range
// reaches an end of the committed interval, the interval shrinks.
func (r *Reservation) Decommit(addr, n uintptr) error {
	if err := r.check("decommit", addr, n); err != nil {
		return err
	}
	u := r.Unit()
	lo := max((addr+u-1)&^(u-1), r.clo)
	hi := min((addr+n)&^(u-1), r.chi)
	if lo >= hi {
		return nil
	}
	if err := r.each(lo, hi, r.p.decommit); err != nil {
		return fmt.Errorf("vmem: decommit %#x-%#x: %w", lo, hi, err)
	}
	switch {
	case lo == r.clo && hi == r.chi:
		if err := r.each(lo, hi, r.p.uncommit); err == nil {
			r.chi = r.clo
		}
	case hi == r.chi:
		if err := r.each(lo, hi, r.p.uncommit); err == nil {
			r.chi = lo
		}
	case lo == r.clo:
		if err := r.each(lo, hi, r.p.uncommit); err == nil {
			r.clo = hi
		}
	}
	// A failed uncommit (ENOMEM when the VMA limit is reached) leaves the
	// pages decommitted but inside the interval: still correct, only the
	// commit charge is not returned.
	r.committed.Store(r.chi - r.clo)
	return nil
}

// each applies f to [lo, hi) split at piece boundaries, because on Windows
// one call may not span two allocations.
func (r *Reservation) each(lo, hi uintptr, f func(unsafe.Pointer, uintptr) error) error {
	for _, pc := range r.pieces {
		a, b := max(lo, pc.Base), min(hi, pc.End())
		if a >= b {
			continue
		}
		if err := f(unsafe.Add(r.ptr, a-r.Base()), b-a); err != nil {
			return err
		}
	}
	return nil
}

// Extend grows the reservation in place by n bytes (rounded up to the
// granularity, or the huge page size) on the given side, if that range is
// free. On failure nothing changes; ErrAddressTaken means the range is in use.
func (r *Reservation) Extend(dir Direction, n uintptr) error {
	if r.released {
		return fmt.Errorf("vmem: extend %s: %w", dir, ErrReleased)
	}
	if !r.caps.ExactPlacement {
		return fmt.Errorf("vmem: %s: extend %s: %w: the space cannot place at an address", r.space, dir, ErrAddressTaken)
	}
	unit := r.caps.Granularity
	if r.huge {
		unit = max(unit, r.caps.HugePageSize)
	}
	n, err := roundUp(n, unit)
	if err != nil {
		return fmt.Errorf("vmem: extend %s: %w", dir, err)
	}
	if n > math.MaxInt {
		return fmt.Errorf("vmem: extend %s by %d: %w: too large", dir, n, ErrInvalidSize)
	}
	base, end := r.Base(), r.Base()+r.size
	var at unsafe.Pointer
	switch dir {
	case Below:
		if n > base {
			return fmt.Errorf("vmem: extend below %s by %s: %w: below address zero", r.Range(), units.Size(n), ErrAddressTaken)
		}
		at = unsafe.Add(r.ptr, -int(n))
	case Above:
		if end+n < end {
			return fmt.Errorf("vmem: extend above %s by %s: %w: past the top of the address space", r.Range(), units.Size(n), ErrAddressTaken)
		}
		at = unsafe.Add(r.ptr, r.size)
	default:
		return fmt.Errorf("vmem: extend: %w: unknown direction %d", ErrInvalidSize, dir)
	}
	if err := r.p.reserveAt(at, n, r.huge); err != nil {
		return fmt.Errorf("vmem: %s: extend %s %s by %s: %w", r.space, dir, r.Range(), units.Size(n), err)
	}
	if r.owner != "" {
		r.p.name(at, n, r.owner)
	}
	piece := Range{uintptr(at), n}
	registry.mu.Lock()
	if dir == Below {
		r.ptr = at
		r.pieces = append([]Range{piece}, r.pieces...)
	} else {
		r.pieces = append(r.pieces, piece)
	}
	r.size += n
	registry.mu.Unlock()
	return nil
}

// Release gives the whole reservation, every piece of it, back to the OS
// (Released = Free). A second Release, and any later operation, returns
// ErrReleased. If the OS refuses, the reservation stays registered and the
// error is returned; Release may be called again.
func (r *Reservation) Release() error {
	if r.released {
		return fmt.Errorf("vmem: release %s: %w", r.Range(), ErrReleased)
	}
	if err := r.p.release(r.ptr, r.pieces); err != nil {
		return fmt.Errorf("vmem: %s: release %s: %w", r.space, r.Range(), err)
	}
	r.released = true
	r.clo, r.chi = r.Base(), r.Base()
	r.committed.Store(0)
	unregister(r)
	return nil
}

// Released reports whether Release has succeeded.
func (r *Reservation) Released() bool { return r.released }
