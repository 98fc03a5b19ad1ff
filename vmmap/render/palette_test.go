package render

import (
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
