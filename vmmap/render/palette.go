package render

import (
	"fmt"
	"image/color"

	"github.com/zebra-heap/zebra/vmmap"
)

// heapShades are the committed colours of zebra heaps, in order of first
// appearance: all reddish-orange like VMMap's heap colour, but far enough
// apart in hue and lightness to tell stripes of two heaps apart, and none
// equal to the plain heap colour or another type's colour.
var heapShades = []color.RGBA{
	rgb(0xE0542B), // vermilion
	rgb(0x9C3D14), // rust
	rgb(0xF5A623), // amber
	rgb(0xC22E4A), // crimson
	rgb(0xD87A2A), // copper
	rgb(0x6E2C0E), // dark brown
	rgb(0xFF6F61), // coral
	rgb(0xB8683C), // sienna
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

// newPalette gives the owners in order their shades first, then the other
// zebra heaps of regions in order of appearance. Only owners present in
// regions are kept in p.owners (the legend), but listed ones keep their
// index so their colour does not depend on the other heaps present.
func newPalette(order []string, regions []vmmap.Region) *palette {
	p := &palette{shade: map[string]int{}}
	next := 0
	for _, o := range order {
		if _, ok := p.shade[o]; !ok && o != "" && !vmmap.IsSystemOwner(o) {
			p.shade[o] = next
			next++
		}
	}
	seen := map[string]bool{}
	for _, r := range regions {
		if !isZebraHeap(r) || seen[r.Owner] {
			continue
		}
		seen[r.Owner] = true
		if _, ok := p.shade[r.Owner]; !ok {
			p.shade[r.Owner] = next
			next++
		}
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

// color returns the colour a region is drawn with.
func (p *palette) color(r vmmap.Region) color.RGBA {
	c := r.Type.Color()
	if isZebraHeap(r) {
		c = ownerColor(p.shade[r.Owner])
	}
	if r.State == vmmap.StateReserved && r.Type != vmmap.Free {
		c = tint(c)
	}
	return c
}
