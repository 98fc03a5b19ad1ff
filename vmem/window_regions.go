package vmem

import (
	"cmp"
	"fmt"
	"slices"
)

// Regions describes the whole window, [Low, High) in emulated addresses, as
// runs in address order: free blocks; pre-occupied ranges (Occupied true,
// with their Kind and Name as Owner); and for each reservation, piece by
// piece (a run never crosses an allocation base), its Reserved parts, its
// committed interval as Committed, and pages decommitted inside that
// interval as Decommitted. The runs tile the window exactly. After Close it
// returns nil.
//
// It is a consistent picture: it holds the window's lock while it copies.
func (w *Window) Regions() []WindowRegion {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gone {
		return nil
	}
	out := make([]WindowRegion, 0, len(w.free.rs)+len(w.occupied)+3*len(w.allocs))
	for _, f := range w.free.rs {
		out = append(out, WindowRegion{Range: f, State: Free})
	}
	for _, o := range w.occupied {
		st := Reserved
		if o.Committed {
			st = Committed
		}
		out = append(out, WindowRegion{Range: o.Range, State: st, Kind: o.Kind, Owner: o.Name, Occupied: true})
	}
	for a := range w.allocs {
		out = a.regions(out)
	}
	slices.SortFunc(out, func(a, b WindowRegion) int { return cmp.Compare(a.Range.Base, b.Range.Base) })
	return out
}

// regions appends the runs of one reservation.
func (a *windowAlloc) regions(out []WindowRegion) []WindowRegion {
	run := func(r Range, st State) {
		out = append(out, WindowRegion{Range: r, State: st, Kind: KindPrivate, Owner: a.owner})
	}
	for _, pc := range a.pieces {
		at := pc.Base
		for _, c := range a.committed.clip(pc) {
			if c.Base > at {
				run(Range{at, c.Base - at}, Reserved)
			}
			cat := c.Base
			for _, d := range a.decommitted.clip(c) {
				if d.Base > cat {
					run(Range{cat, d.Base - cat}, Committed)
				}
				run(d, Decommitted)
				cat = d.End()
			}
			if cat < c.End() {
				run(Range{cat, c.End() - cat}, Committed)
			}
			at = c.End()
		}
		if at < pc.End() {
			run(Range{at, pc.End() - at}, Reserved)
		}
	}
	return out
}

// check verifies every invariant of the window and returns the first one
// broken, or nil: the free list is sorted and coalesced; each reservation's
// pieces are contiguous and make up its range, its committed pages lie
// inside it and its decommitted pages inside those; its real range matches
// its Reservation; and free blocks, occupied ranges and reservations tile
// [Low, High) without overlap. Tests call it after every step.
func (w *Window) check() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("window %q: "+format, append([]any{w.cfg.Name}, args...)...)
	}
	if w.gone {
		if len(w.allocs) != 0 || len(w.free.rs) != 0 {
			return bad("closed, but %d reservations and %d free blocks remain", len(w.allocs), len(w.free.rs))
		}
		return nil
	}
	if msg := w.free.valid(); msg != "" {
		return bad("free list: %s", msg)
	}
	type part struct {
		r    Range
		what string
	}
	var parts []part
	for _, f := range w.free.rs {
		parts = append(parts, part{f, "free"})
	}
	for _, o := range w.occupied {
		parts = append(parts, part{o.Range, "occupied " + o.Name})
	}
	for a := range w.allocs {
		if !a.live {
			return bad("reservation %s is listed but not live", a.rng)
		}
		at := a.rng.Base
		for _, pc := range a.pieces {
			if pc.Base != at || pc.Size == 0 {
				return bad("reservation %s: pieces %v are not contiguous", a.rng, a.pieces)
			}
			at = pc.End()
		}
		if at != a.rng.End() {
			return bad("reservation %s: pieces %v do not make up its range", a.rng, a.pieces)
		}
		for name, s := range map[string]*rangeSet{"committed": &a.committed, "decommitted": &a.decommitted} {
			if msg := s.valid(); msg != "" {
				return bad("reservation %s: %s pages: %s", a.rng, name, msg)
			}
		}
		for _, c := range a.committed.rs {
			if c.Base < a.rng.Base || c.End() > a.rng.End() {
				return bad("reservation %s: committed %s lies outside it", a.rng, c)
			}
		}
		for _, d := range a.decommitted.rs {
			if !a.committed.covers(d) {
				return bad("reservation %s: decommitted %s lies outside the committed pages %v", a.rng, d, a.committed.rs)
			}
		}
		if a.res != nil {
			if e, ok := w.emulated(a.res.Base()); !ok || e != a.rng.Base || a.res.Size() != a.rng.Size {
				return bad("reservation %s: its Reservation says %s", a.rng, a.res.Range())
			}
		}
		parts = append(parts, part{a.rng, "reservation " + a.owner})
	}
	slices.SortFunc(parts, func(a, b part) int { return cmp.Compare(a.r.Base, b.r.Base) })
	at := w.cfg.Low
	for _, p := range parts {
		if p.r.Base != at {
			return bad("%s %s does not start where the previous range ends (%#x)", p.what, p.r, at)
		}
		at = p.r.End()
	}
	if at != w.cfg.High {
		return bad("the ranges end at %#x, not at the window's top %#x", at, w.cfg.High)
	}
	return nil
}
