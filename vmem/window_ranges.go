package vmem

import (
	"slices"
	"sort"
)

// rangeSet is a set of addresses kept as sorted, disjoint, non-adjacent
// ranges: touching ranges are merged as they are added. A window uses one for
// its free list and two per reservation (committed and decommitted pages).
//
// Lookups are binary searches; adding or removing moves the tail of the
// slice, so both are O(n) with the constant of a memmove — a window holding a
// few thousand reservations stays in the microseconds. See window.go for the
// overview.
type rangeSet struct {
	rs []Range
}

// first returns the index of the first range that ends at or after addr:
// the only candidates to touch a range starting at addr.
func (s *rangeSet) first(addr uintptr) int {
	return sort.Search(len(s.rs), func(i int) bool { return s.rs[i].End() >= addr })
}

// add puts r into the set, merging it with every range it overlaps or
// touches.
func (s *rangeSet) add(r Range) {
	if r.Size == 0 {
		return
	}
	lo, hi := r.Base, r.End()
	i := s.first(lo)
	j := i
	for j < len(s.rs) && s.rs[j].Base <= hi {
		lo = min(lo, s.rs[j].Base)
		hi = max(hi, s.rs[j].End())
		j++
	}
	merged := Range{lo, hi - lo}
	switch {
	case i == j:
		s.rs = append(s.rs, Range{})
		copy(s.rs[i+1:], s.rs[i:])
		s.rs[i] = merged
	default:
		s.rs[i] = merged
		s.rs = append(s.rs[:i+1], s.rs[j:]...)
	}
}

// remove takes r out of the set; addresses of r not in the set are ignored.
func (s *rangeSet) remove(r Range) {
	if r.Size == 0 {
		return
	}
	lo, hi := r.Base, r.End()
	i := s.first(lo + 1) // ranges ending at lo do not overlap r
	var buf [2]Range
	keep := buf[:0] // the parts of the end ranges sticking out of r
	j := i
	for j < len(s.rs) && s.rs[j].Base < hi {
		c := s.rs[j]
		if c.Base < lo {
			keep = append(keep, Range{c.Base, lo - c.Base})
		}
		if c.End() > hi {
			keep = append(keep, Range{hi, c.End() - hi})
		}
		j++
	}
	if i == j {
		return
	}
	s.rs = slices.Replace(s.rs, i, j, keep...)
}

// covers reports whether every address of r is in the set.
func (s *rangeSet) covers(r Range) bool {
	i := s.first(r.Base + 1)
	return i < len(s.rs) && s.rs[i].Base <= r.Base && s.rs[i].End() >= r.End()
}

// overlaps reports whether some address of r is in the set.
func (s *rangeSet) overlaps(r Range) bool {
	i := s.first(r.Base + 1)
	return r.Size > 0 && i < len(s.rs) && s.rs[i].Base < r.End()
}

// total returns the number of addresses in the set.
func (s *rangeSet) total() uintptr {
	var n uintptr
	for _, r := range s.rs {
		n += r.Size
	}
	return n
}

// largest returns the size of the largest range.
func (s *rangeSet) largest() uintptr {
	var n uintptr
	for _, r := range s.rs {
		n = max(n, r.Size)
	}
	return n
}

// clip returns the parts of the set inside r, in address order.
func (s *rangeSet) clip(r Range) []Range {
	var out []Range
	for i := s.first(r.Base + 1); i < len(s.rs) && s.rs[i].Base < r.End(); i++ {
		c := s.rs[i]
		a, b := max(c.Base, r.Base), min(c.End(), r.End())
		if a < b {
			out = append(out, Range{a, b - a})
		}
	}
	return out
}

// valid reports the first broken invariant, or "" when the set is sorted,
// disjoint, coalesced and free of empty or overflowing ranges.
func (s *rangeSet) valid() string {
	for i, r := range s.rs {
		if r.Size == 0 {
			return "empty range " + r.String()
		}
		if r.End() < r.Base {
			return "range overflows " + r.String()
		}
		if i > 0 && s.rs[i-1].End() >= r.Base {
			return "ranges " + s.rs[i-1].String() + " and " + r.String() + " overlap or touch"
		}
	}
	return ""
}
