package vmem

import "sort"

// holes are the decommitted ranges inside a reservation's committed
// interval, kept so that Committed tells the truth and so that the
// watermark can fall past them: when a decommit reaches an end of the
// interval, the adjacent holes go back to Reserved with it. Without them, a
// heap that decommits its free runs one by one, the middle ones first, would
// keep its watermark over memory it no longer uses.
//
// The list is sorted, its ranges disjoint and never adjacent (they merge),
// and all of them lie inside the interval. It lives in the Go heap like the
// rest of the Reservation: it is the owner's bookkeeping, not the heap's.
type holes struct {
	list  []Range
	bytes uintptr // the sum of the sizes in list
}

// add records [lo, hi) as decommitted and returns the hole that now
// contains it (merged with the holes it overlaps or touches).
func (h *holes) add(lo, hi uintptr) Range {
	// i: the first hole ending at or after lo; j: the first starting after hi.
	i := sort.Search(len(h.list), func(k int) bool { return h.list[k].End() >= lo })
	j := sort.Search(len(h.list), func(k int) bool { return h.list[k].Base > hi })
	for _, m := range h.list[i:j] {
		lo, hi = min(lo, m.Base), max(hi, m.End())
		h.bytes -= m.Size
	}
	merged := Range{lo, hi - lo}
	h.list = append(h.list[:i], append([]Range{merged}, h.list[j:]...)...)
	h.bytes += merged.Size
	return merged
}

// cut removes [lo, hi) from the holes: those pages are committed again.
func (h *holes) cut(lo, hi uintptr) {
	i := sort.Search(len(h.list), func(k int) bool { return h.list[k].End() > lo })
	j := sort.Search(len(h.list), func(k int) bool { return h.list[k].Base >= hi })
	if i >= j {
		return
	}
	var keep []Range
	for _, m := range h.list[i:j] {
		h.bytes -= m.Size
		if m.Base < lo {
			keep = append(keep, Range{m.Base, lo - m.Base})
		}
		if m.End() > hi {
			keep = append(keep, Range{hi, m.End() - hi})
		}
	}
	for _, k := range keep {
		h.bytes += k.Size
	}
	h.list = append(h.list[:i], append(keep, h.list[j:]...)...)
}

// within returns how many bytes of the holes lie inside [lo, hi).
func (h *holes) within(lo, hi uintptr) (n uintptr) {
	i := sort.Search(len(h.list), func(k int) bool { return h.list[k].End() > lo })
	for _, m := range h.list[i:] {
		if m.Base >= hi {
			break
		}
		n += min(hi, m.End()) - max(lo, m.Base)
	}
	return n
}

// reset forgets every hole.
func (h *holes) reset() { h.list, h.bytes = nil, 0 }
