package render

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
)

// geometry is everything about a picture except the pixels: where the map,
// its labels and the legend go. PNG and SVG draw the same geometry, so they
// show the same content at the same coordinates.
type geometry struct {
	snap    *vmmap.Snapshot
	faces   *faces
	l       *layout
	pal     *palette
	title   string
	caption string // scale and span, under the title
	facts   string // the key numbers, under the caption

	mapX, mapY    int // top-left of the map's cells
	width, height int // whole picture

	addrs  []label      // address ruler left of the map
	bands  []label      // one per fold band, centred in it
	legend []legendItem // swatches under the map
}

type label struct {
	x, y int // baseline
	text string
}

type legendItem struct {
	x, y  int // top-left of the swatch
	color color.RGBA
	text  string
}

const (
	margin      = 10
	titleLine   = 20
	captionLine = 16
	legendLine  = 18
	swatchW     = 18
	swatchH     = 11
)

func newGeometry(s *vmmap.Snapshot, o Options, f *faces) (*geometry, error) {
	s, o = vmmap.Visible(s), visibleOptions(o) // see visible.go
	l, err := newLayout(s, o)
	if err != nil {
		return nil, err
	}
	regions := make([]vmmap.Region, len(l.regions))
	for i, p := range l.regions {
		regions[i] = p.Region
	}
	g := &geometry{snap: s, faces: f, l: l, pal: newPalette(o.Owners, regions)}
	g.title = o.Title
	if g.title == "" {
		g.title = s.Source
	}
	if g.title == "" {
		g.title = "address space"
	}
	g.caption = caption(s, l)
	g.facts = facts(s)

	gutter := textWidth(f.label, "0x00007fffffff0000") + 8
	g.mapX = margin + gutter
	g.mapY = margin + titleLine + 2*captionLine + 8
	g.width = g.mapX + l.width + margin
	g.addrs = g.ruler()
	for b, bd := range l.bands {
		text, short := l.foldText(bd)
		if tw := textWidth(f.label, text); tw > l.width-20 {
			text = short
		}
		g.bands = append(g.bands, label{
			x:    g.mapX + (l.width-textWidth(f.label, text))/2,
			y:    g.mapY + l.bandY(b) + bandHeight/2 + 4,
			text: text,
		})
	}
	g.legend, g.height = g.layoutLegend(f, g.mapY+l.height()+12)
	if int64(g.width)*int64(g.height) > MaxPixels {
		return nil, fmt.Errorf("%w: %dx%d pixels (max %d); lower RowHeight or raise BytesPerPixel",
			ErrTooLarge, g.width, g.height, MaxPixels)
	}
	return g, nil
}

// caption says how to read the picture: span, scale and what was folded.
func caption(s *vmmap.Snapshot, l *layout) string {
	parts := []string{}
	if s.Span.End > s.Span.Start {
		parts = append(parts, fmt.Sprintf("span %#x-%#x (%s)", s.Span.Start, s.Span.End, units.Bytes(s.Span.Size())))
	}
	parts = append(parts,
		"1 px = "+units.Bytes(l.bpp),
		"1 row = "+units.Bytes(l.bpp*uint64(l.width)),
		plural(len(l.regions), "region", "regions"))
	if len(l.bands) > 0 {
		parts = append(parts, fmt.Sprintf("%s folded in %s", units.Bytes(l.folded), plural(len(l.bands), "break", "breaks")))
	}
	switch {
	case l.outside == 1:
		parts = append(parts, "1 region outside the span not drawn")
	case l.outside > 1:
		parts = append(parts, plural(l.outside, "region", "regions")+" outside the span not drawn")
	}
	return strings.Join(parts, " · ")
}

// foldText labels band b: what it stands for, its range, and a short form
// for narrow pictures.
// facts are the numbers that tell fragmentation, printed in the picture so
// that it reads without the tables: the largest free block and the count of
// free blocks in the span, the zebra heaps' stripes and score, and the
// mappings against the kernel's limit.
func facts(s *vmmap.Snapshot) string {
	free := vmmap.FreeBlocks(s)
	var parts []string
	if len(free) > 0 {
		parts = append(parts, "largest free block "+units.Bytes(free[0].Size()), plural(len(free), "free block", "free blocks"))
	} else {
		parts = append(parts, "no free block")
	}
	// A heap's metadata is part of the heap; its stripes are the data's.
	var heaps, stripes int
	for _, o := range vmmap.Owners(s) {
		if !o.System && o.Type == vmmap.Heap && !vmmap.IsMetadata(o.Owner) {
			heaps++
			stripes += o.Stripes
		}
	}
	if heaps > 0 {
		parts = append(parts, fmt.Sprintf("%s in %s", plural(heaps, "heap", "heaps"), plural(stripes, "stripe", "stripes")),
			fmt.Sprintf("zebra score %d", vmmap.ZebraScore(s)))
	}
	if s.VMAs > 0 {
		v := plural(s.VMAs, "VMA", "VMAs")
		if s.MaxMapCount > 0 {
			v += fmt.Sprintf(" of %d", s.MaxMapCount)
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, " · ")
}

func (l *layout) foldText(b band) (text, short string) {
	first, last := l.regions[b.region], l.regions[b.last]
	var free, reserved uint64
	var types []string // owners or types of the reserved regions
	for _, p := range l.regions[b.region : b.last+1] {
		if p.Type == vmmap.Free {
			free += p.Size()
			continue
		}
		reserved += p.Size()
		// Named by owner where one is known ("Go runtime"), else by type.
		t := p.Owner
		if t == "" {
			t = p.Type.String()
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	var what []string
	if reserved > 0 {
		what = append(what, fmt.Sprintf("%s reserved, untouched (%s)", units.Bytes(reserved), strings.Join(types, ", ")))
	}
	if free > 0 {
		what = append(what, units.Bytes(free)+" free")
	}
	short = "folded: " + strings.Join(what, " + ")
	return fmt.Sprintf("%s, %#x-%#x, not to scale", short, first.Start, last.End), short
}

// ruler labels the start address of a row every few rows, and the first row
// after each fold (where addresses jump).
func (g *geometry) ruler() []label {
	l := g.l
	every := max(1, (28+l.rowH-1)/l.rowH)
	var out []label
	lastY := -1000
	nextBand := 0
	for r := 0; r < l.rows; r++ {
		afterBand := false
		for nextBand < len(l.bands) && l.bands[nextBand].before == r {
			afterBand = true
			nextBand++
		}
		y := l.rowY(r)
		if (r%every != 0 && !afterBand) || y-lastY < 16 {
			continue
		}
		addr, ok := l.addrAt(r * l.width)
		if !ok {
			continue
		}
		lastY = y
		out = append(out, label{x: margin, y: g.mapY + y + 10, text: fmt.Sprintf("%#x", addr)})
	}
	return out
}

// addrAt returns the address cell c stands for.
func (l *layout) addrAt(c int) (uint64, bool) {
	lo, hi := 0, len(l.regions)
	for lo < hi {
		m := (lo + hi) / 2
		if l.regions[m].end <= c {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(l.regions) || l.regions[lo].fold >= 0 {
		return 0, false
	}
	p := l.regions[lo]
	a := p.segStart + uint64(c-p.segCell)*l.bpp
	return min(max(a, p.Start), p.End-1), true
}

// layoutLegend flows the legend's swatches in rows under the map and returns
// them with the picture's total height.
func (g *geometry) layoutLegend(f *faces, top int) ([]legendItem, int) {
	var items []legendItem
	add := func(c color.RGBA, text string) { items = append(items, legendItem{color: c, text: text}) }
	present := map[vmmap.Type]bool{}
	reserved := map[vmmap.Type]bool{}
	ownerReserved := map[string]bool{}
	for _, p := range g.l.regions {
		if isZebraHeap(p.Region) {
			ownerReserved[p.Owner] = ownerReserved[p.Owner] || p.State == vmmap.StateReserved
			continue
		}
		if p.fold >= 0 {
			continue
		}
		present[p.Type] = true
		if p.State == vmmap.StateReserved {
			reserved[p.Type] = true
		}
	}
	for _, t := range vmmap.Types {
		if present[t] {
			add(t.Color(), t.String())
		}
		if reserved[t] && t != vmmap.Free {
			add(tint(t.Color()), t.String()+" (reserved)")
		}
	}
	stripes := map[string]int{}
	for _, o := range vmmap.Owners(g.snap) {
		stripes[o.Owner] = o.Stripes
	}
	for _, o := range g.pal.owners {
		c := g.pal.of(o)
		n := stripes[o]
		word := "stripes"
		if n == 1 {
			word = "stripe"
		}
		add(c, fmt.Sprintf("%s: %d %s", o, n, word))
		if ownerReserved[o] {
			add(tint(c), o+" (reserved)")
		}
	}
	if len(g.l.bands) > 0 {
		add(colFold, "folded: free space, untouched reservations")
	}
	x, y := margin, top
	for i := range items {
		w := swatchW + 6 + textWidth(f.label, items[i].text) + 18
		if x > margin && x+w > g.width-margin {
			x, y = margin, y+legendLine
		}
		items[i].x, items[i].y = x, y
		x += w
	}
	return items, y + legendLine + margin
}
