package render

import (
	"fmt"
	"image/color"

	"github.com/zebra-heap/zebra/vmmap"
)

// heapShades are the committed colours of zebra heaps, in order of first
// appearance: the Okabe–Ito palette, which readers with any common form of
// colour blindness can still tell apart, starting with its vermilion, the
// one nearest VMMap's heap colour, without its yellow (#F0E442), which
// looks like Private Data (#F4F400); Paul Tol's wine and a purple complete
// it. Every shade stands apart from every type's colour (TestHeapShades).
// A heap's metadata takes its heap's colour, darkened (metaShade):
// related, yet distinguishable.
var heapShades = []color.RGBA{
	rgb(0xD55E00), // vermilion
	rgb(0x0072B2), // blue
	rgb(0xE69F00), // orange
	rgb(0x009E73), // bluish green
	rgb(0xCC79A7), // reddish purple
	rgb(0x56B4E9), // sky blue
	rgb(0x882255), // wine (Paul Tol's muted scheme)
	rgb(0x7F3C8D), // purple
}

// metaShade darkens a heap's colour for its metadata: 60% of each channel.
func metaShade(c color.RGBA) color.RGBA {
	d := func(v uint8) uint8 { return uint8(uint16(v) * 3 / 5) }
	return color.RGBA{d(c.R), d(c.G), d(c.B), 0xFF}
}

// Colours of the parts of the picture that are not regions.
var (
	colBackground = rgb(0xFFFFFF)
	colText       = rgb(0x202020)
	colSubtle     = rgb(0x606060)
	colFrame      = rgb(0x9A9A9A)
	colFold       = rgb(0xE2E2E2) // fold cells and band background
	colFoldMark   = rgb(0x7A7A7A) // the zigzag of a fold band
)

func rgb(v uint32) color.RGBA {
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xFF}
}

// tint lightens c towards white: reserved ranges are drawn with it so that
// an owner's address space reads as one stripe, its used part darker.
func tint(c color.RGBA) color.RGBA {
	l := func(v uint8) uint8 { return v + uint8((uint16(0xFF-v)*11)/20) }
	return color.RGBA{l(c.R), l(c.G), l(c.B), 0xFF}
}

func hexColor(c color.RGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// palette assigns colours to the regions of one snapshot.
type palette struct {
	owners []string       // zebra heaps present, in order of first appearance
	shade  map[string]int // owner -> index into heapShades (mod its length)
}

// newPalette gives the heaps of the owners in order their shades first,
// then the other zebra heaps of regions in order of appearance. Shades go
// to heaps (vmmap.HeapOf), so a heap's metadata never takes a shade of its
// own, whichever of the two appears first. Only owners present in regions
// are kept in p.owners (the legend), but listed ones keep their index so
// their colour does not depend on the other heaps present.
func newPalette(order []string, regions []vmmap.Region) *palette {
	p := &palette{shade: map[string]int{}}
	next := 0
	give := func(owner string) {
		if h := vmmap.HeapOf(owner); h != "" && !vmmap.IsSystemOwner(h) {
			if _, ok := p.shade[h]; !ok {
				p.shade[h] = next
				next++
			}
		}
	}
	for _, o := range order {
		give(o)
	}
	seen := map[string]bool{}
	for _, r := range regions {
		if !isZebraHeap(r) || seen[r.Owner] {
			continue
		}
		seen[r.Owner] = true
		give(r.Owner)
		p.owners = append(p.owners, r.Owner)
	}
	return p
}

// isZebraHeap reports whether r belongs to a named heap, which gets a shade
// of its own rather than the plain heap colour. System owners (the brk
// heap, glibc arenas: vmmap.IsSystemOwner) are many allocations of one
// allocator, not heaps a program created, and keep the type's colour.
func isZebraHeap(r vmmap.Region) bool {
	return r.Type == vmmap.Heap && r.Owner != "" && !vmmap.IsSystemOwner(r.Owner)
}

// ownerColor is the committed colour of the i-th zebra heap.
func ownerColor(i int) color.RGBA { return heapShades[i%len(heapShades)] }

// of returns the committed colour of a zebra heap's owner.
func (p *palette) of(owner string) color.RGBA {
	c := ownerColor(p.shade[vmmap.HeapOf(owner)])
	if vmmap.IsMetadata(owner) {
		c = metaShade(c)
	}
	return c
}

// swatch is the colour a table shows for a region of owner and type t:
// the committed colour its pictures draw it with (the heap's shade for a
// zebra heap's regions, else the type's).
func (p *palette) swatch(owner string, t vmmap.Type) string {
	r := vmmap.Region{Type: t, Owner: owner}
	if _, ok := p.shade[vmmap.HeapOf(owner)]; ok && isZebraHeap(r) {
		return hexColor(p.of(owner))
	}
	return hexColor(t.Color())
}

// color returns the colour a region is drawn with.
func (p *palette) color(r vmmap.Region) color.RGBA {
	c := r.Type.Color()
	if isZebraHeap(r) {
		c = p.of(r.Owner)
	}
	if r.State == vmmap.StateReserved && r.Type != vmmap.Free {
		c = tint(c)
	}
	return c
}

// plural returns "1 region" or "2 regions".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Palette is the colouring of the pictures, for drawing a snapshot
// elsewhere in their style (zebra report draws any frame of a timeline in
// the page's script from the colours it is given).
type Palette struct{ p *palette }

// NewPalette colours regions as a picture drawn with Options.Owners set to
// owners does: the heaps in owners take the first shades, the other zebra
// heaps of regions follow in order of appearance.
func NewPalette(owners []string, regions []vmmap.Region) *Palette {
	return &Palette{newPalette(owners, regions)}
}

// Color returns the colour a picture draws r with.
func (p *Palette) Color(r vmmap.Region) color.RGBA { return p.p.color(r) }

// Legend returns the legend's name for r's colour: the zebra heap's owner
// or the type, followed by " (reserved)" for a reservation.
func (p *Palette) Legend(r vmmap.Region) string {
	name := r.Type.String()
	if isZebraHeap(r) {
		name = r.Owner
	}
	if r.State == vmmap.StateReserved && r.Type != vmmap.Free {
		name += " (reserved)"
	}
	return name
}

// FoldColors returns the colours of a fold band: its fill (also the cells
// that finish the row before it) and its zigzag.
func FoldColors() (fill, mark color.RGBA) { return colFold, colFoldMark }
