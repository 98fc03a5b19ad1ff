package render

import (
	"image/color"
	"math"
	"testing"

	"github.com/zebra-heap/zebra/vmmap"
)

// TestPaletteSystemOwners checks that only zebra heaps get shades: the brk
// heap and glibc arenas are drawn in the plain heap colour and stay out of
// the legend's owners, even when Options.Owners lists them.
func TestPaletteSystemOwners(t *testing.T) {
	heap := vmmap.Heap.Color()
	regions := []vmmap.Region{
		{Start: 0x1000, End: 0x2000, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: "[heap]"},
		{Start: 0x2000, End: 0x3000, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: vmmap.GlibcArenaOwner},
		{Start: 0x3000, End: 0x4000, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: "heap A"},
		{Start: 0x4000, End: 0x5000, Type: vmmap.GoHeap, State: vmmap.StateCommitted, Owner: vmmap.GoHeapOwner},
		{Start: 0x5000, End: 0x6000, Type: vmmap.Heap, State: vmmap.StateReserved, Owner: vmmap.GlibcArenaOwner},
	}
	p := newPalette([]string{vmmap.GlibcArenaOwner, "heap A"}, regions)
	tests := []struct {
		name string
		r    vmmap.Region
		want [4]uint8
	}{
		{"brk heap", regions[0], rgba(heap)},
		{"glibc arena", regions[1], rgba(heap)},
		{"zebra heap gets the first shade", regions[2], rgba(ownerColor(0))},
		{"Go heap", regions[3], rgba(vmmap.GoHeap.Color())},
		{"reserved arena", regions[4], rgba(tint(heap))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rgba(p.color(tt.r)); got != tt.want {
				t.Errorf("colour %v, want %v", got, tt.want)
			}
		})
	}
	if len(p.owners) != 1 || p.owners[0] != "heap A" {
		t.Errorf("palette owners %q, want only heap A", p.owners)
	}
}

func rgba(c interface{ RGBA() (r, g, b, a uint32) }) [4]uint8 {
	r, g, b, a := c.RGBA()
	return [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// TestHeapShades: every heap shade, and its metadata's, stands apart from
// every type's colour (CIE76 ΔE of at least 20) and from the other heaps'
// shades (at least 15), so that no heap reads as another type or another
// heap (issue 13: the yellow #F0E442 was ΔE 18 from Private Data's
// #F4F400).
func TestHeapShades(t *testing.T) {
	const fromTypes, fromHeaps = 20, 15
	var shades []color.RGBA
	for i := range heapShades {
		shades = append(shades, ownerColor(i), metaShade(ownerColor(i)))
	}
	for i, c := range shades {
		for _, ty := range vmmap.Types {
			if d := deltaE(c, ty.Color()); d < fromTypes {
				t.Errorf("heap shade %s is ΔE %.1f from %s's %s", hexColor(c), d, ty, hexColor(ty.Color()))
			}
		}
		for j, o := range shades {
			if i/2 != j/2 { // another heap's
				if d := deltaE(c, o); d < fromHeaps {
					t.Errorf("heap shades %s and %s are ΔE %.1f apart", hexColor(c), hexColor(o), d)
				}
			}
		}
	}
}

// deltaE is the CIE76 colour difference of two sRGB colours: the distance
// in CIELAB (D65 white).
func deltaE(a, b color.RGBA) float64 {
	la, lb := lab(a), lab(b)
	return math.Sqrt((la[0]-lb[0])*(la[0]-lb[0]) + (la[1]-lb[1])*(la[1]-lb[1]) + (la[2]-lb[2])*(la[2]-lb[2]))
}

func lab(c color.RGBA) [3]float64 {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	r, g, b := lin(c.R), lin(c.G), lin(c.B)
	x := (0.4124*r + 0.3576*g + 0.1805*b) / 0.95047
	y := 0.2126*r + 0.7152*g + 0.0722*b
	z := (0.0193*r + 0.1192*g + 0.9505*b) / 1.08883
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return t*24389/27/116 + 16.0/116
	}
	return [3]float64{116*f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))}
}
