package render

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/vmmap"
)

// renderPNG encodes and decodes s, so tests look at the bytes a user gets.
func renderPNG(t *testing.T, s *vmmap.Snapshot, o Options) (image.Image, *geometry) {
	t.Helper()
	drawn, g, err := drawPNG(s, o)
	if err != nil {
		t.Fatalf("PNG: %v", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, drawn); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decoding the PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != g.width || b.Dy() != g.height {
		t.Fatalf("image is %v, geometry says %dx%d", b, g.width, g.height)
	}
	if err := g.l.validate(); err != nil {
		t.Fatalf("layout: %v", err)
	}
	return img, g
}

// TestPNGWritesThePicture checks that PNG writes what drawPNG draws, which
// the other tests inspect.
func TestPNGWritesThePicture(t *testing.T) {
	var buf bytes.Buffer
	if err := PNG(&buf, zebraFixture(false), Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := drawPNG(zebraFixture(false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != want.Bounds() {
		t.Fatalf("PNG is %v, drawing %v", got.Bounds(), want.Bounds())
	}
	for y := 0; y < want.Rect.Dy(); y += 7 {
		for x := 0; x < want.Rect.Dx(); x++ {
			if rgbaAt(got, x, y) != want.RGBAAt(x, y) {
				t.Fatalf("pixel (%d,%d) differs", x, y)
			}
		}
	}
	if err := PNG(failWriter{}, zebraFixture(false), Options{}); err == nil {
		t.Error("PNG to a failing writer returned nil")
	}
}

func rgbaAt(img image.Image, x, y int) color.RGBA {
	r, g, b, a := img.At(x, y).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// pixelOf returns the colour of the pixel showing addr.
func pixelOf(t *testing.T, img image.Image, g *geometry, addr uint64) color.RGBA {
	t.Helper()
	c := g.l.cellOf(addr)
	if c < 0 {
		t.Fatalf("address %#x has no cell", addr)
	}
	return rgbaAt(img, g.mapX+c%g.l.width, g.mapY+g.l.rowY(c/g.l.width))
}

func TestPNGPixelAtAddress(t *testing.T) {
	before, after := zebraFixture(false), zebraFixture(true)
	a, b := heapShades[0], heapShades[1]
	tests := []struct {
		name string
		snap *vmmap.Snapshot
		o    Options
		addr uint64
		want color.RGBA
	}{
		{"image", before, Options{}, 0x40_1000, vmmap.Image.Color()},
		{"private data", before, Options{}, 0x10000, vmmap.PrivateData.Color()},
		{"stack reserved is lighter", before, Options{}, 0x40000, tint(vmmap.Stack.Color())},
		{"plain heap keeps VMMap's colour", before, Options{}, 0x58_0000, vmmap.Heap.Color()},
		{"heap A committed", before, Options{}, 0x100_0000, a},
		{"heap A reserved tail", before, Options{}, 0x100_0000 + mib - 0x8000, tint(a)},
		{"heap B committed", before, Options{}, 0x110_0000, b},
		{"heap B in a later segment", before, Options{}, 0x260_0000 + 3*mib, b},
		{"free space is white", before, Options{}, 0x6000_0000, vmmap.Free.Color()},
		{"mapped file", before, Options{}, 0x7008_0000, vmmap.MappedFile.Color()},
		{"destroyed heap A is free", after, Options{}, 0x100_0000, vmmap.Free.Color()},
		{"heap B first in order takes shade 0", after, Options{}, 0x110_0000, a},
		{"heap B keeps its shade with Owners", after, Options{Owners: []string{"A", "B"}}, 0x110_0000, b},
		{"fine scale", before, Options{BytesPerPixel: 4096, Width: 2048}, 0x110_1000, b},
		{"64-bit Go heap", linux64Fixture(), Options{}, 0xc0_0000_1000, vmmap.GoHeap.Color()},
		{"64-bit stack after folds", linux64Fixture(), Options{}, 0x7ffd_cd8c_0000, vmmap.Stack.Color()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, g := renderPNG(t, tt.snap, tt.o)
			if got := pixelOf(t, img, g, tt.addr); got != tt.want {
				t.Errorf("pixel at %#x = %s, want %s", tt.addr, hexColor(got), hexColor(tt.want))
			}
		})
	}
}

// scanLines returns the map's pixels in address order: the first pixel line
// of every row of cells, and one line through the middle of each fold band,
// in drawing order. The legend, title and ruler are outside it.
func scanLines(img image.Image, g *geometry) []color.RGBA {
	l := g.l
	var out []color.RGBA
	line := func(y int) {
		for x := 0; x < l.width; x++ {
			out = append(out, rgbaAt(img, g.mapX+x, y))
		}
	}
	b := 0
	for r := 0; r < l.rows; r++ {
		for ; b < len(l.bands) && l.bands[b].before <= r; b++ {
			line(g.mapY + l.bandY(b) + bandHeight/2)
		}
		line(g.mapY + l.rowY(r))
	}
	for ; b < len(l.bands); b++ {
		line(g.mapY + l.bandY(b) + bandHeight/2)
	}
	return out
}

// runs counts the maximal runs of pixels whose colour is in set.
func runs(px []color.RGBA, set ...color.RGBA) int {
	n, in := 0, false
	for _, c := range px {
		hit := false
		for _, s := range set {
			hit = hit || c == s
		}
		if hit && !in {
			n++
		}
		in = hit
	}
	return n
}

// TestPNGStripesMatchOwners counts the stripes of every heap in the picture
// and compares them with vmmap.Owners, and the owner changes with
// vmmap.ZebraScore.
func TestPNGStripesMatchOwners(t *testing.T) {
	tests := []struct {
		name string
		snap *vmmap.Snapshot
		o    Options
	}{
		{"zebra", zebraFixture(false), Options{}},
		{"zebra narrow rows", zebraFixture(false), Options{Width: 64, RowHeight: 1}},
		{"zebra coarse scale", zebraFixture(false), Options{BytesPerPixel: 4 * mib}},
		{"after destroy", zebraFixture(true), Options{}},
		{"tiny stripes", tinyStripes(), Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, g := renderPNG(t, tt.snap, tt.o)
			px := scanLines(img, g)
			var heaps []color.RGBA
			for _, o := range vmmap.Owners(tt.snap) {
				if o.Type != vmmap.Heap {
					continue
				}
				c := g.pal.of(o.Owner)
				heaps = append(heaps, c, tint(c))
				if got := runs(px, c, tint(c)); got != o.Stripes {
					t.Errorf("heap %s: %d stripes in the picture, vmmap.Owners says %d", o.Owner, got, o.Stripes)
				}
			}
			// Owner changes: runs of any heap colour, merged across
			// free space, minus one.
			changes, prev := 0, -1
			for _, c := range px {
				for i := 0; i < len(heaps); i += 2 {
					if c == heaps[i] || c == heaps[i+1] {
						if prev >= 0 && prev != i {
							changes++
						}
						prev = i
					}
				}
			}
			if want := vmmap.ZebraScore(tt.snap); changes != want {
				t.Errorf("%d owner changes in the picture, ZebraScore %d", changes, want)
			}
		})
	}
	if n := zebraSegments(); n < 20 {
		t.Fatalf("fixture has only %d segments per heap", n)
	}
}

// tinyStripes alternates two heaps in 4 KiB pieces separated by 4 KiB of
// free space, inside a 1 GiB window: every stripe is far smaller than a
// pixel and must still be drawn, and never merged with its neighbour.
func tinyStripes() *vmmap.Snapshot {
	const lo, hi = 0x1000_0000, 0x5000_0000
	var rs []vmmap.Region
	at := uint64(0x2000_0000)
	for i := 0; i < 40; i++ {
		owner := []string{"A", "B"}[i%2]
		if i%5 == 4 {
			owner = "A" // two A stripes next to each other, split by free space
		}
		rs = append(rs, vmmap.Region{Start: at, End: at + 4096, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: owner})
		at += 8192
	}
	return &vmmap.Snapshot{Source: "tiny stripes", Span: vmmap.AddrRange{Start: lo, End: hi}, Regions: withFree(rs, lo, hi)}
}

func TestPNGFoldBand(t *testing.T) {
	s := linux64Fixture()
	img, g := renderPNG(t, s, Options{})
	// The default folds gaps and untouched reservations larger than a
	// quarter of the memory in use; consecutive ones share a band.
	var used uint64
	for _, r := range s.Regions {
		if r.Type != vmmap.Free && !untouched(r) {
			used += r.Size()
		}
	}
	gaps, prev := 0, false
	for _, r := range s.Regions {
		f := (r.Type == vmmap.Free || untouched(r)) && r.Size() > max(used/4, 16<<20)
		if f && !prev {
			gaps++
		}
		prev = f
	}
	if len(g.l.bands) != gaps || gaps == 0 {
		t.Fatalf("%d fold bands, want one per run of huge gaps (%d)", len(g.l.bands), gaps)
	}
	var folded uint64
	for b, bd := range g.l.bands {
		for _, p := range g.l.regions[bd.region : bd.last+1] {
			folded += p.Size()
		}
		y := g.mapY + g.l.bandY(b)
		marks, text := 0, 0
		for x := g.mapX; x < g.mapX+g.l.width; x++ {
			for dy := 0; dy < bandHeight; dy++ {
				switch c := rgbaAt(img, x, y+dy); {
				case c == colFoldMark:
					marks++
				case c.R < 0x80 && c.G < 0x80 && c.B < 0x80:
					text++
				case c.R == c.G && c.G == c.B && c.R < colFold.R:
					// anti-aliased edge of a glyph
				case c != colFold:
					t.Fatalf("band %d has a pixel %s at (%d,%d), neither fold nor text", b, hexColor(c), x, y+dy)
				}
			}
		}
		if marks < g.l.width || text < 50 {
			t.Errorf("band %d: %d zigzag pixels, %d text pixels; want a visible marker and label", b, marks, text)
		}
		if want, _ := g.l.foldText(g.l.bands[b]); !strings.Contains(g.bands[b].text, "folded") {
			t.Errorf("band %d says %q, want like %q", b, g.bands[b].text, want)
		}
	}
	if folded != g.l.folded || !strings.Contains(g.caption, "folded") {
		t.Errorf("folded %d bytes, layout says %d; caption %q", folded, g.l.folded, g.caption)
	}
}

func TestPNGNoFoldInSmallSpans(t *testing.T) {
	_, g := renderPNG(t, zebraFixture(true), Options{})
	if len(g.l.bands) != 0 {
		t.Errorf("a 2 GiB window got %d fold bands; it must be drawn whole", len(g.l.bands))
	}
	if !strings.Contains(g.caption, "1 row = 8 MiB") {
		t.Errorf("caption %q lacks the scale 1 row = 8 MiB", g.caption)
	}
}

func TestPNGBadInput(t *testing.T) {
	good := zebraFixture(false)
	withRegions := func(rs ...vmmap.Region) *vmmap.Snapshot { return &vmmap.Snapshot{Regions: rs} }
	tests := []struct {
		name    string
		snap    *vmmap.Snapshot
		o       Options
		wantErr error
	}{
		{"nil snapshot", nil, Options{}, ErrNilSnapshot},
		{"no regions, no span", &vmmap.Snapshot{}, Options{}, ErrEmptySnapshot},
		{"empty region", withRegions(vmmap.Region{Start: 10, End: 10}), Options{}, ErrBadSnapshot},
		{"reversed region", withRegions(vmmap.Region{Start: 10, End: 5}), Options{}, ErrBadSnapshot},
		{"overlap", withRegions(vmmap.Region{Start: 0, End: 0x2000}, vmmap.Region{Start: 0x1000, End: 0x3000}), Options{}, ErrBadSnapshot},
		{"out of order", withRegions(vmmap.Region{Start: 0x5000, End: 0x6000}, vmmap.Region{Start: 0x1000, End: 0x2000}), Options{}, ErrBadSnapshot},
		{"negative width", good, Options{Width: -1}, ErrBadOptions},
		{"width too small", good, Options{Width: 10}, ErrBadOptions},
		{"width huge", good, Options{Width: 1 << 30}, ErrBadOptions},
		{"negative row height", good, Options{RowHeight: -3}, ErrBadOptions},
		{"row height huge", good, Options{RowHeight: 1000}, ErrBadOptions},
		{"scale not a power of two", good, Options{BytesPerPixel: 3000}, ErrBadOptions},
		{"64-bit span unfolded at page scale", linux64Fixture(), Options{BytesPerPixel: 4096, FoldGapsAbove: NeverFold}, ErrTooLarge},
		{"too many pixels", zebraFixture(false), Options{BytesPerPixel: 2048, RowHeight: 64}, ErrTooLarge},
		{"whole 64-bit space at 1 byte per pixel", withRegions(vmmap.Region{Start: 0, End: ^uint64(0), Type: vmmap.Heap}), Options{BytesPerPixel: 1}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := PNG(&buf, tt.snap, tt.o)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("PNG error = %v, want %v", err, tt.wantErr)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}

// TestPNGSpanOnly draws a snapshot that has a span but no regions: one
// free region, white.
func TestPNGSpanOnly(t *testing.T) {
	s := &vmmap.Snapshot{Source: "empty window", Span: vmmap.AddrRange{Start: 0x10000, End: 0x8000_0000}}
	img, g := renderPNG(t, s, Options{})
	if got := pixelOf(t, img, g, 0x4000_0000); got != vmmap.Free.Color() {
		t.Errorf("pixel = %s, want white", hexColor(got))
	}
}

// readFixture reads a snapshot captured from a real process with
// `zebra map PID -o FILE.json`.
func readFixture(t testing.TB, name string) *vmmap.Snapshot {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := vmmap.ReadJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// TestPNGEveryRegionColour checks, for every region at least two cells
// long, that the pixel at its middle address has its colour: the picture
// is faithful everywhere, not only at hand-picked addresses.
func TestPNGEveryRegionColour(t *testing.T) {
	tests := []struct {
		name string
		snap *vmmap.Snapshot
		o    Options
	}{
		{"python3 process", readFixture(t, "python3.json"), Options{}},
		{"python3 narrow", readFixture(t, "python3.json"), Options{Width: 256, RowHeight: 2}},
		{"zebra self (Go)", readFixture(t, "zebra-self.json"), Options{}},
		{"zebra window", zebraFixture(false), Options{}},
		{"after destroy", zebraFixture(true), Options{Width: 512}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, g := renderPNG(t, tt.snap, tt.o)
			checked := 0
			for _, p := range g.l.regions {
				if p.fold >= 0 || p.Size() < 2*g.l.bpp {
					continue
				}
				mid := p.Start + p.Size()/2
				if got, want := pixelOf(t, img, g, mid), g.pal.color(p.Region); got != want {
					t.Errorf("%s %#x-%#x: pixel at %#x is %s, want %s", p.Type, p.Start, p.End, mid, hexColor(got), hexColor(want))
				}
				checked++
			}
			if checked < 10 {
				t.Errorf("only %d regions checked", checked)
			}
		})
	}
}

// TestPictureFacts: the key numbers are in the picture itself, a heap's
// metadata counted with its heap (issue 13).
func TestPictureFacts(t *testing.T) {
	_, g := renderPNG(t, zebraFixture(true), Options{})
	for _, want := range []string{"largest free block ", " free blocks", "zebra score "} {
		if !strings.Contains(g.facts, want) {
			t.Errorf("facts %q lack %q", g.facts, want)
		}
	}
	s := &vmmap.Snapshot{Span: vmmap.AddrRange{Start: 0, End: 4 << 20}, VMAs: 3, MaxMapCount: 65530, Regions: []vmmap.Region{
		{Start: 0, End: 1 << 20, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: "heap A"},
		{Start: 1 << 20, End: 2 << 20, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: "heap A (metadata)"},
		{Start: 2 << 20, End: 3 << 20, Type: vmmap.Free},
		{Start: 3 << 20, End: 4 << 20, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: "heap A"},
	}}
	if got, want := facts(s), "largest free block 1 MiB · 1 free block · 1 heap in 2 stripes · zebra score 0 · 3 VMAs of 65530"; got != want {
		t.Errorf("facts = %q, want %q", got, want)
	}
}
