package render

import (
	"fmt"
	"math/bits"

	"github.com/zebra-heap/zebra/vmmap"
)

// A layout places every region of a snapshot on the stream of cells (see the
// package documentation for the rules). It knows nothing about pixels
// beyond row heights: PNG and SVG both draw from it.
type layout struct {
	width     int    // cells per row
	bpp       uint64 // bytes per cell
	rowH      int    // pixel height of a row of cells
	foldAbove uint64 // free gaps larger than this are folded
	folded    uint64 // bytes folded in total
	outside   int    // regions of the snapshot outside its span, not drawn

	regions []placed // every region in address order, gaps filled with Free
	rows    int      // rows of cells
	bands   []band   // fold bands, in order; band.before is non-decreasing
}

// placed is a region with its cells [first, end) in the stream.
type placed struct {
	vmmap.Region
	first, end int
	fold       int // index into layout.bands, or -1 when drawn to scale
	// segStart and segCell anchor the linear address→cell map of the
	// stretch between two folds the region lies in.
	segStart uint64
	segCell  int
}

// band is a fold: a labelled strip drawn before row `before` that stands for
// the consecutive regions regions[region] to regions[last]: free space and
// untouched reservations (see folds).
type band struct {
	before       int
	region, last int
}

const bandHeight = 18 // pixels

const gib4 = 4 << 30

// newLayout checks the snapshot and the options and places the regions.
func newLayout(s *vmmap.Snapshot, o Options) (*layout, error) {
	if s == nil {
		return nil, ErrNilSnapshot
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	regions, outside, err := normalize(s)
	if err != nil {
		return nil, err
	}
	l := &layout{width: o.width(), bpp: o.BytesPerPixel, foldAbove: o.FoldGapsAbove, outside: outside}
	if l.foldAbove == 0 {
		l.foldAbove = autoFold(regions)
	}
	var drawn uint64
	for _, r := range regions {
		if !l.folds(r) {
			drawn += r.Size()
		}
	}
	if l.bpp == 0 {
		l.bpp = autoScale(drawn, l.width)
	}
	// Refuse before allocating: the stream needs drawn/bpp cells, plus at
	// most one per region inflated by the rounding rule and a row per fold.
	if drawn/l.bpp > MaxCells {
		return nil, fmt.Errorf("%w: %d bytes at %d bytes per pixel need %d cells (max %d); raise BytesPerPixel or fold gaps",
			ErrTooLarge, drawn, l.bpp, drawn/l.bpp, MaxCells)
	}
	l.place(regions)
	l.rowH = o.RowHeight
	if l.rowH == 0 {
		l.rowH = max(1, min(16, targetHeight/max(1, l.rows)))
	}
	return l, nil
}

// normalize returns the regions to draw: vmmap's Normalized form (checked,
// clipped to the span, gaps filled with Free; the span of the regions
// themselves when the snapshot's is empty) and the number of regions left
// out, which the caption reports. Nothing to draw at all is an error here,
// unlike in vmmap.
func normalize(s *vmmap.Snapshot) (regions []vmmap.Region, outside int, err error) {
	if len(s.Regions) == 0 && s.Span.Start >= s.Span.End {
		return nil, 0, fmt.Errorf("%w: %s has no regions", ErrEmptySnapshot, s.Source)
	}
	n, err := s.Normalized()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	return n.Regions, s.OutsideSpan(), nil
}

// autoFold is the default FoldGapsAbove: nothing when the regions drawn
// cover 4 GiB or less, else gaps and untouched reservations larger than a
// quarter of the memory in use (not counting untouched reservations) and
// at least 16 MiB.
func autoFold(regions []vmmap.Region) uint64 {
	lo, hi := regions[0].Start, regions[len(regions)-1].End
	if hi-lo <= gib4 {
		return NeverFold
	}
	var used uint64
	for _, r := range regions {
		if r.Type != vmmap.Free && !untouched(r) {
			used += r.Size()
		}
	}
	return max(used/4, 16<<20)
}

// untouched reports whether r is a reservation nothing has used: reserved,
// nothing committed, nothing resident. In 64-bit processes such ranges
// dwarf the rest (the Go runtime's arena hints, a JVM's maximum heap, the
// 64 MiB reservations of glibc arenas) and are folded like free gaps.
func untouched(r vmmap.Region) bool {
	return r.Type != vmmap.Free && r.State == vmmap.StateReserved && r.Committed == 0 && r.RSS == 0
}

// autoScale returns the smallest power of two that draws `drawn` bytes in at
// most targetRows rows of width cells.
func autoScale(drawn uint64, width int) uint64 {
	cells := uint64(width) * targetRows
	per := (drawn + cells - 1) / cells
	if per <= 1 {
		return 1
	}
	return 1 << bits.Len64(per-1)
}

func (l *layout) folds(r vmmap.Region) bool {
	return (r.Type == vmmap.Free || untouched(r)) && r.Size() > l.foldAbove
}

// place assigns cells to regions: see the package documentation.
func (l *layout) place(regions []vmmap.Region) {
	l.regions = make([]placed, len(regions))
	next := 0 // first free cell
	segStart, segCell := regions[0].Start, 0
	cellOf := func(addr uint64) int { return segCell + int((addr-segStart)/l.bpp) }
	for i, r := range regions {
		p := placed{Region: r, fold: -1}
		if l.folds(r) && i > 0 && l.regions[i-1].fold >= 0 {
			// Folds in a row share one band.
			p.first, p.end, p.fold = next, next, len(l.bands)-1
			l.bands[p.fold].last = i
			l.folded += r.Size()
			segStart, segCell = r.End, next
		} else if l.folds(r) {
			// Finish the row with the fold colour, then a band.
			p.first = next
			next = (next + l.width - 1) / l.width * l.width
			p.end = next
			p.fold = len(l.bands)
			l.bands = append(l.bands, band{before: next / l.width, region: i, last: i})
			l.folded += r.Size()
			segStart, segCell = r.End, next
		} else {
			p.first = max(cellOf(r.Start), next)
			p.end = max(cellOf(r.End), p.first+1)
			next = p.end
		}
		p.segStart, p.segCell = segStart, segCell
		l.regions[i] = p
	}
	l.rows = (next + l.width - 1) / l.width
}

// cellOf returns the cell that shows addr, or -1 when addr lies in no region
// or in a folded gap. Regions inflated or shrunk by the rounding rule may
// show an address one cell away from its linear place; cellOf clamps to the
// region's own cells so the answer always has the region's colour.
func (l *layout) cellOf(addr uint64) int {
	lo, hi := 0, len(l.regions)
	for lo < hi {
		m := (lo + hi) / 2
		if l.regions[m].End <= addr {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(l.regions) || addr < l.regions[lo].Start {
		return -1
	}
	p := l.regions[lo]
	if p.fold >= 0 {
		return -1
	}
	c := p.segCell + int((addr-p.segStart)/l.bpp)
	return min(max(c, p.first), p.end-1)
}

// rowY returns the pixel offset of row r from the top of the map, counting
// the bands drawn before it.
func (l *layout) rowY(r int) int {
	nb := 0
	for nb < len(l.bands) && l.bands[nb].before <= r {
		nb++
	}
	return r*l.rowH + nb*bandHeight
}

// bandY returns the pixel offset of band b from the top of the map.
func (l *layout) bandY(b int) int {
	return l.bands[b].before*l.rowH + b*bandHeight
}

// height returns the map's height in pixels.
func (l *layout) height() int { return l.rows*l.rowH + len(l.bands)*bandHeight }

// validate checks the layout's invariants: cells in order, non-overlapping,
// at least one per region, bands in order. Tests and the fuzzer call it.
func (l *layout) validate() error {
	prevEnd := 0
	for i, p := range l.regions {
		if p.fold < 0 && p.end <= p.first {
			return fmt.Errorf("region %d [%#x, %#x) has no cell", i, p.Start, p.End)
		}
		if p.first < prevEnd || p.end < p.first {
			return fmt.Errorf("region %d cells [%d, %d) overlap previous end %d", i, p.first, p.end, prevEnd)
		}
		if p.end > l.rows*l.width {
			return fmt.Errorf("region %d ends at cell %d past %d rows", i, p.end, l.rows)
		}
		if p.fold >= 0 && p.end%l.width != 0 {
			return fmt.Errorf("fold %d does not end a row (cell %d)", i, p.end)
		}
		prevEnd = p.end
	}
	for b := 1; b < len(l.bands); b++ {
		if l.bands[b].before < l.bands[b-1].before {
			return fmt.Errorf("band %d before row %d precedes band %d", b, l.bands[b].before, b-1)
		}
	}
	return nil
}
