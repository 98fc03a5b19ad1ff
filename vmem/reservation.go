package vmem

import (
	"fmt"
	"math"
	"strings"
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
// watermark moves back. On Linux this keeps a reservation at three VMAs at
// most, two while the interval starts at the base (see "Few VMAs" in the
// package documentation).
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
	holes     holes          // decommitted ranges inside [clo, chi)
	committed atomic.Uintptr // chi - clo - holes.bytes, for readers outside the owner
	released  bool
}

// reserve implements Space.Reserve for every space: it validates and rounds
// the request, asks the primitives for the range, names it and registers it.
// On failure nothing is mapped and nothing is registered.
func reserve(p prims, space string, size uintptr, o Options) (*Reservation, error) {
	c := p.caps()
	huge := o.HugePages && c.HugePageSize != 0
	unit := c.Granularity
	if huge {
		unit = max(unit, c.HugePageSize)
	}
	fail := func(err error) error {
		return fmt.Errorf("vmem: %s: reserve %s: %w", space, sizeText(size), err)
	}
	rounded, err := roundUp(size, unit)
	if err != nil {
		return nil, fail(err)
	}
	align := o.Align
	if align == 0 {
		align = c.Granularity
	}
	if align&(align-1) != 0 || align > c.MaxAlign {
		return nil, fail(fmt.Errorf("%w: %#x is not a power of two up to %s",
			ErrInvalidAlign, align, units.Size(c.MaxAlign)))
	}
	align = max(align, unit)
	ptr, err := reserveHinted(p, rounded, align, huge, o.Hint)
	if err != nil {
		return nil, fail(err)
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

// reserveHinted reserves at hint where the primitives can and the range
// there is free (Options.Hint), else wherever p.reserve places it. A hint
// below the minimum address, misaligned or wrapping past the top is ignored.
func reserveHinted(p prims, size, align uintptr, huge bool, hint uintptr) (unsafe.Pointer, error) {
	if h, ok := p.(hinter); ok && hint != 0 && hint%align == 0 && hint+size > hint && p.caps().ExactPlacement {
		if err := h.reserveHint(pointerAt(hint), size, huge); err == nil {
			return pointerAt(hint), nil
		}
	}
	return p.reserve(size, align, huge)
}

// pointerAt turns an address (a hint, or one returned by VirtualAlloc) into
// a pointer. The memory is outside the Go heap, so the garbage collector
// ignores the pointer whatever its origin; but go vet's unsafeptr check
// rejects a plain unsafe.Pointer(addr) conversion, because for Go memory it
// would be unsafe. Reading the uintptr's bits as a pointer is the same
// operation in a form vet accepts.
func pointerAt(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}

// sizeText renders a requested size for an error message: in units when
// that is exact ("64 KiB"), else in bytes, so that 4097 bytes do not read
// as "4.0 KiB".
func sizeText(n uintptr) string {
	if s := units.Size(n); n%1024 == 0 && !strings.Contains(s, ".") {
		return s
	}
	return fmt.Sprintf("%d B", n)
}

// roundUp rounds n up to a multiple of unit (a power of two). Zero and sizes
// that overflow when rounded are ErrInvalidSize; sizes over math.MaxInt,
// which no address space holds (and unsafe.Add could not reach), are
// ErrNoMemory, as the OS would answer.
func roundUp(n, unit uintptr) (uintptr, error) {
	if n == 0 {
		return 0, fmt.Errorf("%w: size is zero", ErrInvalidSize)
	}
	if n+unit-1 < n {
		return 0, fmt.Errorf("%w: overflows when rounded up to a multiple of %s", ErrInvalidSize, units.Size(unit))
	}
	if r := (n + unit - 1) &^ (unit - 1); r > math.MaxInt {
		return 0, fmt.Errorf("%w: %s is larger than any address space", ErrNoMemory, units.Size(r))
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

// Owner returns the owner name given at Reserve, or by SetOwner since.
func (r *Reservation) Owner() string { return r.owner }

// SetOwner renames the reservation, in the registry and (best effort) in
// the OS's memory map: a heap hands a destroyed range to its address-space
// quarantine under the quarantine's name.
func (r *Reservation) SetOwner(owner string) {
	registry.mu.Lock() // Live reads owners under it
	r.owner = owner
	registry.mu.Unlock()
	if !r.released && owner != "" {
		r.p.name(r.ptr, r.size, owner)
	}
}

// Space returns the name of the space the reservation was made in.
func (r *Reservation) Space() string { return r.space }

// HugePages reports whether the reservation uses transparent huge pages,
// and so commits and decommits in whole huge pages.
func (r *Reservation) HugePages() bool { return r.huge }

// Pieces returns the allocation bases of the reservation in address order:
// one, plus one per successful Extend. On Windows each piece is a separate
// VirtualAlloc allocation; elsewhere they are merged by the kernel.
func (r *Reservation) Pieces() []Range { return append([]Range(nil), r.pieces...) }

// Committed returns the number of bytes committed: the committed interval
// (the watermark) less the holes decommitted inside it. It is safe to call
// concurrently.
func (r *Reservation) Committed() uintptr { return r.committed.Load() }

// CommitCost returns how many bytes Commit(addr, n) would add to
// Committed: the pages between the committed interval and the request,
// which Commit commits with it to keep the interval one piece, the request
// outside the interval and the holes inside it. It lets an owner with a
// budget (the heap's commit limit) check before it commits.
func (r *Reservation) CommitCost(addr, n uintptr) uintptr {
	if r.released || n == 0 {
		return 0
	}
	u := r.Unit()
	lo := addr &^ (u - 1)
	hi := min((addr+n+u-1)&^(u-1), r.Base()+r.size)
	if hi <= lo {
		return 0
	}
	if r.clo == r.chi {
		return hi - lo
	}
	var cost uintptr
	if lo < r.clo {
		cost += r.clo - lo
	}
	if hi > r.chi {
		cost += hi - r.chi
	}
	if a, b := max(lo, r.clo), min(hi, r.chi); a < b {
		cost += r.holes.within(a, b)
	}
	return cost
}

// CommittedRange returns the committed interval. Pages inside it may have
// been decommitted since (see Committed).
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
		return fmt.Errorf("vmem: %s: %s %#x+%s: %w", r.space, op, addr, sizeText(n), ErrReleased)
	}
	if n == 0 {
		return fmt.Errorf("vmem: %s: %s %#x: %w: size is zero", r.space, op, addr, ErrInvalidSize)
	}
	if addr+n < addr {
		return fmt.Errorf("vmem: %s: %s %#x+%s: %w: the range wraps around the address space",
			r.space, op, addr, sizeText(n), ErrInvalidSize)
	}
	if addr < r.Base() || addr+n > r.Base()+r.size {
		return fmt.Errorf("vmem: %s: %s %#x-%#x: %w %s", r.space, op, addr, addr+n, ErrOutOfRange, r.Range())
	}
	return nil
}

// Commit moves the pages covering [addr, addr+n) to Committed: they become
// readable and writable, and physical memory appears when they are first
// touched. The committed interval widens to include them, so pages between
// the interval and the request are committed too: commit upward from the
// base, as a heap does, and nothing extra is committed. For reservations
// with huge pages the unit is the huge page.
//
// On failure the committed interval is as it was.
func (r *Reservation) Commit(addr, n uintptr) error {
	if err := r.check("commit", addr, n); err != nil {
		return err
	}
	u := r.Unit()
	lo := addr &^ (u - 1) // the base and the size are multiples of u
	hi := min((addr+n+u-1)&^(u-1), r.Base()+r.size)
	fail := func(a, b uintptr, err error) error {
		return fmt.Errorf("vmem: %s: commit %#x-%#x: %w", r.space, a, b, err)
	}
	if r.clo == r.chi { // nothing committed: the interval is the request
		if err := r.commitRange(lo, hi); err != nil {
			return fail(lo, hi, err)
		}
		r.clo, r.chi = lo, hi
		r.store()
		return nil
	}
	if lo < r.clo {
		if err := r.commitRange(lo, r.clo); err != nil {
			return fail(lo, r.clo, err)
		}
	}
	if hi > r.chi {
		if err := r.commitRange(r.chi, hi); err != nil {
			if lo < r.clo {
				r.rollback(lo, r.clo)
			}
			return fail(r.chi, hi, err)
		}
	}
	// The holes inside the request are committed again last, after the
	// widenings: a failed widening then leaves the holes decommitted, as
	// they are recorded, and a failed recommit undoes the widenings and
	// decommits the holes again, so a failed Commit never leaves a page
	// committed that is still recorded as a hole.
	if err := r.fillHoles(lo, hi); err != nil {
		if lo < r.clo {
			r.rollback(lo, r.clo)
		}
		if hi > r.chi {
			r.rollback(r.chi, hi)
		}
		return fail(max(lo, r.clo), min(hi, r.chi), err)
	}
	r.clo, r.chi = min(lo, r.clo), max(hi, r.chi)
	r.holes.cut(lo, hi)
	r.store()
	return nil
}

// fillHoles makes the holes inside [lo, hi) usable again before Commit
// forgets them. Where Caps.RecommitAfterDecommit says decommitted pages
// need it, it commits the part of [lo, hi) inside the committed interval
// (committing committed pages is harmless), and if that fails decommits the
// holes again, best effort. Elsewhere the holes are usable already and it
// only tells primitives that track them (see holeTracker).
func (r *Reservation) fillHoles(lo, hi uintptr) error {
	a, b := max(lo, r.clo), min(hi, r.chi)
	if a >= b {
		return nil
	}
	if r.caps.RecommitAfterDecommit {
		if err := r.each(a, b, r.p.commit); err != nil {
			for _, h := range r.holes.list {
				if c, d := max(a, h.Base), min(b, h.End()); c < d {
					_ = r.each(c, d, r.p.decommit)
				}
			}
			return err
		}
		return nil
	}
	if t, ok := r.p.(holeTracker); ok {
		for _, h := range r.holes.list {
			if c, d := max(a, h.Base), min(b, h.End()); c < d {
				_ = r.each(c, d, func(p unsafe.Pointer, n uintptr) error {
					t.filled(p, n)
					return nil
				})
			}
		}
	}
	return nil
}

// commitRange commits [lo, hi), which lies outside the committed interval;
// if that fails part way, it puts back what it did.
func (r *Reservation) commitRange(lo, hi uintptr) error {
	if err := r.each(lo, hi, r.p.commit); err != nil {
		r.rollback(lo, hi)
		return err
	}
	return nil
}

// rollback returns [lo, hi), outside the committed interval, to Reserved,
// best effort: decommit drops anything committed (and on Windows returns the
// charge), uncommit restores the protection. Both are harmless on pages that
// were never committed.
func (r *Reservation) rollback(lo, hi uintptr) {
	_ = r.each(lo, hi, r.p.decommit)
	_ = r.uncommit(lo, hi)
}

// uncommit returns [lo, hi), at an end of the committed interval, to
// Reserved, and gives the range back its attributes where the primitives
// need that (see restorer).
func (r *Reservation) uncommit(lo, hi uintptr) error {
	if err := r.each(lo, hi, r.p.uncommit); err != nil {
		return err
	}
	if rs, ok := r.p.(restorer); ok {
		_ = r.each(lo, hi, func(p unsafe.Pointer, n uintptr) error {
			rs.restore(p, n, r.huge, r.owner)
			return nil
		})
	}
	return nil
}

// Decommit moves the whole pages inside [addr, addr+n) from Committed to
// Decommitted: their contents are lost and their physical memory returns to
// the OS. Partial pages (partial huge pages, for reservations with huge
// pages) at either end are left alone. Pages outside the committed interval
// are already uncommitted and are skipped. Where the range, together with
// the pages decommitted before next to it, reaches an end of the committed
// interval, the interval shrinks past them all; Committed drops either way.
//
// Decommitted pages inside the interval stay readable and writable and read
// as zero, unless Caps.RecommitAfterDecommit says they must be committed
// again first.
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
		return fmt.Errorf("vmem: %s: decommit %#x-%#x: %w", r.space, lo, hi, err)
	}
	// Where the decommitted pages, with the holes next to them, reach an
	// end of the interval, the watermark moves back, returning the commit
	// charge. A failed uncommit (ENOMEM when the mapping limit is reached)
	// leaves them a hole: still correct, only the charge is not returned.
	h := r.holes.add(lo, hi)
	switch {
	case h.Base == r.clo && h.End() == r.chi:
		if r.uncommit(h.Base, h.End()) == nil {
			r.chi = r.clo
			r.holes.reset()
		}
	case h.End() == r.chi:
		if r.uncommit(h.Base, h.End()) == nil {
			r.chi = h.Base
			r.holes.cut(h.Base, h.End())
		}
	case h.Base == r.clo:
		if r.uncommit(h.Base, h.End()) == nil {
			r.clo = h.End()
			r.holes.cut(h.Base, h.End())
		}
	}
	r.store()
	return nil
}

// store publishes the committed byte count for Committed and Live.
func (r *Reservation) store() { r.committed.Store(r.chi - r.clo - r.holes.bytes) }

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
// free. The new part is Reserved; the committed interval does not move.
//
// On failure nothing changes, in the address space or in the registry;
// ErrAddressTaken means the range is in use (or the space cannot place at an
// address: Caps.ExactPlacement), and the caller should reserve elsewhere.
func (r *Reservation) Extend(dir Direction, n uintptr) error {
	if r.released {
		return fmt.Errorf("vmem: %s: extend %s by %s: %w", r.space, dir, sizeText(n), ErrReleased)
	}
	fail := func(err error) error {
		return fmt.Errorf("vmem: %s: extend %s %s by %s: %w", r.space, dir, r.Range(), sizeText(n), err)
	}
	if dir != Below && dir != Above {
		return fail(ErrInvalidDirection)
	}
	if !r.caps.ExactPlacement {
		return fail(fmt.Errorf("%w: the space cannot place at an address", ErrAddressTaken))
	}
	unit := r.caps.Granularity
	if r.huge {
		unit = max(unit, r.caps.HugePageSize)
	}
	n, err := roundUp(n, unit)
	if err != nil {
		return fail(err)
	}
	base, end := r.Base(), r.Base()+r.size
	var at unsafe.Pointer
	if dir == Below {
		if n >= base { // page zero is never mappable
			return fail(fmt.Errorf("%w: it would reach address zero", ErrAddressTaken))
		}
		at = unsafe.Add(r.ptr, -int(n))
	} else {
		if end+n < end {
			return fail(fmt.Errorf("%w: past the top of the address space", ErrAddressTaken))
		}
		at = unsafe.Add(r.ptr, r.size)
	}
	if r.size+n > math.MaxInt {
		return fail(fmt.Errorf("%w: the reservation would be larger than the address space", ErrNoMemory))
	}
	if err := r.p.reserveAt(at, n, r.huge); err != nil {
		return fail(err)
	}
	if r.owner != "" {
		r.p.name(at, n, r.owner)
	}
	piece := Range{uintptr(at), n}
	// Live reads the reservation under the registry's lock: it lists
	// pieces (and id, owner, space, huge and the atomic counter), so the
	// pieces and the range they make up change under it.
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
// ErrReleased. If the OS refuses, the reservation stays registered and
// intact and the error is returned; Release may be called again.
func (r *Reservation) Release() error {
	if r.released {
		return fmt.Errorf("vmem: %s: release %s: %w", r.space, r.Range(), ErrReleased)
	}
	// Leave the registry first: once the range is unmapped another
	// reservation may take it at once, and Live must never list one range
	// twice. If the OS refuses, the reservation comes back under its ID.
	unregister(r)
	if err := r.p.release(r.ptr, r.pieces); err != nil {
		reregister(r)
		return fmt.Errorf("vmem: %s: release %s: %w", r.space, r.Range(), err)
	}
	r.released = true
	r.clo, r.chi = r.Base(), r.Base()
	r.holes.reset()
	r.committed.Store(0)
	return nil
}

// Released reports whether Release has succeeded.
func (r *Reservation) Released() bool { return r.released }

// validate checks the reservation's invariants and says which one is
// broken. Tests call it after every step.
func (r *Reservation) validate() error {
	u := r.Unit()
	base, end := r.Base(), r.Base()+r.size
	switch {
	case len(r.pieces) == 0:
		return fmt.Errorf("no pieces")
	case r.pieces[0].Base != base || r.pieces[len(r.pieces)-1].End() != end:
		return fmt.Errorf("pieces %v do not span %v", r.pieces, r.Range())
	case base%u != 0 || r.size%u != 0 || r.size == 0:
		return fmt.Errorf("range %v is not a non-empty multiple of the unit %#x", r.Range(), u)
	case r.clo > r.chi || r.clo < base || r.chi > end:
		return fmt.Errorf("committed interval %#x-%#x outside %v", r.clo, r.chi, r.Range())
	case r.clo%u != 0 || r.chi%u != 0:
		return fmt.Errorf("committed interval %#x-%#x not aligned to %#x", r.clo, r.chi, u)
	case r.clo == r.chi && len(r.holes.list) != 0:
		return fmt.Errorf("holes %v in an empty interval", r.holes.list)
	case r.committed.Load() != r.chi-r.clo-r.holes.bytes:
		return fmt.Errorf("committed counter %#x, interval %#x less holes %#x",
			r.committed.Load(), r.chi-r.clo, r.holes.bytes)
	}
	var sum uintptr
	for i, h := range r.holes.list {
		sum += h.Size
		switch {
		case h.Size == 0 || h.Base < r.clo || h.End() > r.chi:
			return fmt.Errorf("hole %v outside the interval %#x-%#x", h, r.clo, r.chi)
		case h.Base%u != 0 || h.Size%u != 0:
			return fmt.Errorf("hole %v not aligned to %#x", h, u)
		case i > 0 && r.holes.list[i-1].End() >= h.Base:
			return fmt.Errorf("holes %v and %v overlap, touch or are out of order", r.holes.list[i-1], h)
		}
	}
	if sum != r.holes.bytes {
		return fmt.Errorf("holes sum to %#x, counter says %#x", sum, r.holes.bytes)
	}
	for i := 1; i < len(r.pieces); i++ {
		if r.pieces[i].Base != r.pieces[i-1].End() {
			return fmt.Errorf("pieces %v are not contiguous", r.pieces)
		}
	}
	return nil
}
