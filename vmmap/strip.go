package vmmap

// Cell is one character of the one-line strip of an address space.
type Cell struct {
	Type     Type // the type holding most non-free bytes of the cell; Free if none
	Reserved bool // most of those bytes are reserved rather than committed
}

// Strip divides the snapshot's span into width equal cells (the last one
// may be shorter) and reports for each the type with the most bytes in it,
// preferring any used memory over Free: on a 64-bit span most cells would
// otherwise be white, and a small mapping is what one looks for. It returns
// nil for a width below 1 or an empty span.
func Strip(s *Snapshot, width int) []Cell {
	size := s.Span.Size()
	if width < 1 || s.Span.End <= s.Span.Start {
		return nil
	}
	// Both divisions round up without computing size+divisor-1, which
	// wraps for spans near 2^64 (a --range of 0-ffffffffffffffff).
	cell := size / uint64(width)
	if size%uint64(width) != 0 {
		cell++
	}
	if cell == 0 {
		cell = 1
	}
	n := int(size / cell)
	if size%cell != 0 {
		n++
	}
	used := make([][len(typeNames)]uint64, n)
	reserved := make([][len(typeNames)]uint64, n)
	for _, r := range s.Regions {
		if r.Type == Free || int(r.Type) >= len(typeNames) || r.End <= s.Span.Start || r.Start >= s.Span.End {
			continue
		}
		lo, hi := max(r.Start, s.Span.Start)-s.Span.Start, min(r.End, s.Span.End)-s.Span.Start
		for c := lo / cell; c < uint64(n) && c*cell < hi; c++ {
			// The cell ends at c*cell+cell, or at size for the last
			// (shorter) cell, whose end may not fit in 64 bits otherwise.
			end := size
			if size-c*cell > cell {
				end = c*cell + cell
			}
			a, b := max(lo, c*cell), min(hi, end)
			used[c][r.Type] += b - a
			if r.State == StateReserved {
				reserved[c][r.Type] += b - a
			}
		}
	}
	out := make([]Cell, width)
	for c := range out {
		if c >= n {
			break
		}
		var best uint64
		for t, b := range used[c] {
			if b > best {
				best = b
				out[c] = Cell{Type: Type(t), Reserved: 2*reserved[c][t] > b}
			}
		}
	}
	return out
}
