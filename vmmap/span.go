package vmmap

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// kernelHalf is where the kernel's half of a 64-bit address space begins on
// x86-64 and arm64 with 48-bit addresses; [vsyscall] lives above it. The
// default span stops below it so that one kernel page does not stretch the
// measured free space to 16 EiB.
const kernelHalf = 0xffff_8000_0000_0000

// defaultSpan returns the range from the lowest to the highest user mapping,
// or the zero range when there is none.
func defaultSpan(regions []Region) AddrRange {
	var a AddrRange
	first := true
	for _, r := range regions {
		if r.Type == Free || r.Start >= kernelHalf {
			continue
		}
		if first || r.Start < a.Start {
			a.Start = r.Start
		}
		if first || r.End > a.End {
			a.End = r.End
		}
		first = false
	}
	return a
}

// fillFree sorts regions by address, drops any Free ones and inserts a Free
// region for every gap inside span. Regions outside span are kept as they
// are: they are part of the address space, only the free space is measured
// within the span.
func fillFree(regions []Region, span AddrRange) []Region {
	// The result is allocated at its exact size, and the used regions
	// copied only when they need filtering or sorting: at 60,000
	// mappings, each Region slice is 10 MB.
	byStart := func(a, b Region) int { return cmp.Compare(a.Start, b.Start) }
	used := regions
	if slices.ContainsFunc(regions, func(r Region) bool { return r.Type == Free || r.End <= r.Start }) ||
		!slices.IsSortedFunc(regions, byStart) {
		used = make([]Region, 0, len(regions))
		for _, r := range regions {
			if r.Type != Free && r.End > r.Start {
				used = append(used, r)
			}
		}
		slices.SortStableFunc(used, byStart)
	}
	n, at := len(used), span.Start
	for _, r := range used {
		if r.Start > at && at < span.End {
			n++
		}
		at = max(at, r.End)
	}
	if at < span.End {
		n++
	}
	out := make([]Region, 0, n)
	at = span.Start
	for _, r := range used {
		if r.Start > at && at < span.End {
			out = append(out, freeRegion(at, min(r.Start, span.End)))
		}
		out = append(out, r)
		if r.End > at {
			at = r.End
		}
	}
	if at < span.End {
		out = append(out, freeRegion(at, span.End))
	}
	return out
}

func freeRegion(start, end uint64) Region {
	return Region{Start: start, End: end, Type: Free, State: StateFree}
}

// WithSpan returns a copy of the snapshot restricted to span: regions that
// overlap it are clipped to it, the others dropped, and the gaps inside it
// are Free. A clipped region keeps a share of its memory counters
// proportional to the part that remains (the kernel reports them per
// mapping, not per page), so counters of clipped regions are estimates.
func (s *Snapshot) WithSpan(span AddrRange) (*Snapshot, error) {
	if span.Start >= span.End {
		return nil, fmt.Errorf("%w: %v is empty", ErrRange, span)
	}
	c := *s
	c.Span = span
	c.Regions = nil
	for _, r := range s.Regions {
		if r.Type == Free || r.End <= span.Start || r.Start >= span.End {
			continue
		}
		c.Regions = append(c.Regions, clip(r, max(r.Start, span.Start), min(r.End, span.End)))
	}
	c.Regions = fillFree(c.Regions, span)
	return &c, nil
}

// Normalized returns a copy of the snapshot in the form pictures draw:
// regions checked to be non-empty, in address order and not overlapping
// (an error wrapping ErrParse names the first that is not), clipped to the
// span as WithSpan does, with a Free region in every gap. Used regions
// outside the span are dropped; OutsideSpan counts them. When the span is
// empty the range from the first region's start to the last one's end
// stands for it (and becomes the copy's Span); a snapshot with neither
// regions nor span comes back as it is.
func (s *Snapshot) Normalized() (*Snapshot, error) {
	if err := s.checkRegionOrder(); err != nil {
		return nil, err
	}
	span := s.Span
	if span.Start >= span.End {
		if len(s.Regions) == 0 {
			c := *s
			return &c, nil
		}
		span = AddrRange{s.Regions[0].Start, s.Regions[len(s.Regions)-1].End}
	}
	return s.WithSpan(span)
}

// OutsideSpan returns the number of used (non-Free) regions that lie
// wholly outside a non-empty span, and so are left out of the metrics, of
// WithSpan and of pictures.
func (s *Snapshot) OutsideSpan() int {
	n := 0
	for _, r := range s.Regions {
		if r.Type != Free && !s.inSpan(r) {
			n++
		}
	}
	return n
}

// clip returns the part [start, end) of r with its counters scaled to it.
func clip(r Region, start, end uint64) Region {
	if start == r.Start && end == r.End {
		return r
	}
	n, d := end-start, r.Size()
	scale := func(v uint64) uint64 { return mulDiv(v, n, d) }
	out := r
	out.Start, out.End = start, end
	out.Committed = min(scale(r.Committed), n)
	out.RSS = min(scale(r.RSS), n)
	out.PSS = scale(r.PSS)
	out.Private = min(scale(r.Private), n)
	out.PrivateDirty = min(scale(r.PrivateDirty), n)
	out.Shared = min(scale(r.Shared), n)
	out.Swap = scale(r.Swap)
	out.AnonHuge = min(scale(r.AnonHuge), n)
	out.Flags = slices.Clone(r.Flags)
	return out
}

// mulDiv returns v*n/d rounded down to a 4 KiB page, without overflowing
// for any 64-bit sizes.
func mulDiv(v, n, d uint64) uint64 {
	if d == 0 {
		return 0
	}
	// v <= 2^64 and n/d <= 1: split to avoid overflow of v*n.
	q, r := v/d, v%d
	x := q*n + uint64(float64(r)*float64(n)/float64(d))
	return x &^ 0xfff
}

// ParseRange reads an address range written "LO-HI" in hexadecimal, with or
// without 0x prefixes (as in /proc/PID/maps and the --range flag): the range
// [LO, HI).
func ParseRange(text string) (AddrRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(text), "-")
	if !ok {
		return AddrRange{}, fmt.Errorf("%w: %q: want LO-HI in hexadecimal", ErrRange, text)
	}
	a, err1 := parseHex(lo)
	b, err2 := parseHex(hi)
	if err1 != nil || err2 != nil {
		return AddrRange{}, fmt.Errorf("%w: %q: want LO-HI in hexadecimal", ErrRange, text)
	}
	if a >= b {
		return AddrRange{}, fmt.Errorf("%w: %q is empty", ErrRange, text)
	}
	return AddrRange{a, b}, nil
}

func parseHex(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(s, 16, 64)
}
