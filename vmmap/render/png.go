package render

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/zebra-heap/zebra/vmmap"
)

// PNG writes the fragmentation view of s as a PNG image: title and scale,
// the map with an address ruler and fold bands, and a legend. See the
// package documentation for how addresses become pixels.
func PNG(w io.Writer, s *vmmap.Snapshot, o Options) error {
	img, _, err := drawPNG(s, o)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("render: writing PNG: %w", err)
	}
	return nil
}

// drawPNG draws the picture and returns it with its geometry, which tests
// use to find the map inside the image.
func drawPNG(s *vmmap.Snapshot, o Options) (*image.RGBA, *geometry, error) {
	f, err := newFaces()
	if err != nil {
		return nil, nil, err
	}
	g, err := newGeometry(s, o, f)
	if err != nil {
		return nil, nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, g.width, g.height))
	fill(img, img.Rect, colBackground)
	l := g.l

	drawText(img, f.title, margin, margin+14, colText, g.title)
	drawText(img, f.label, margin, margin+titleLine+12, colSubtle, g.caption)
	drawText(img, f.label, margin, margin+titleLine+captionLine+12, colText, g.facts)

	for _, p := range l.regions {
		c := g.pal.color(p.Region)
		if p.fold >= 0 {
			c = colFold
		}
		g.fillCells(img, p.first, p.end, c)
	}
	for b := range l.bands {
		g.drawBand(img, f, b)
	}
	frame(img, image.Rect(g.mapX-1, g.mapY-1, g.mapX+l.width+1, g.mapY+l.height()+1), colFrame)
	for _, a := range g.addrs {
		drawText(img, f.label, a.x, a.y, colSubtle, a.text)
	}
	for _, it := range g.legend {
		r := image.Rect(it.x, it.y, it.x+swatchW, it.y+swatchH)
		fill(img, r, it.color)
		frame(img, r, colFrame)
		drawText(img, f.label, it.x+swatchW+6, it.y+swatchH, colText, it.text)
	}
	return img, g, nil
}

// fillCells paints cells [first, end) of the stream, row by row.
func (g *geometry) fillCells(img *image.RGBA, first, end int, c color.RGBA) {
	l := g.l
	for first < end {
		row := first / l.width
		stop := min(end, (row+1)*l.width)
		x := g.mapX + first%l.width
		y := g.mapY + l.rowY(row)
		fill(img, image.Rect(x, y, x+stop-first, y+l.rowH), c)
		first = stop
	}
}

// drawBand draws fold band b: a grey strip with a zigzag along both edges,
// the sign of a break, and its label.
func (g *geometry) drawBand(img *image.RGBA, f *faces, b int) {
	l := g.l
	y := g.mapY + l.bandY(b)
	fill(img, image.Rect(g.mapX, y, g.mapX+l.width, y+bandHeight), colFold)
	for x := 0; x < l.width; x++ {
		d := x % 8
		if d > 4 {
			d = 8 - d
		}
		img.SetRGBA(g.mapX+x, y+d, colFoldMark)
		img.SetRGBA(g.mapX+x, y+bandHeight-1-d, colFoldMark)
	}
	t := g.bands[b]
	tw := textWidth(f.label, t.text)
	fill(img, image.Rect(t.x-6, y+4, t.x+tw+6, y+bandHeight-4), colFold)
	drawText(img, f.label, t.x, t.y, colText, t.text)
}

// fill paints r (clipped to the image) with c.
func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return
	}
	row := img.PixOffset(r.Min.X, r.Min.Y)
	n := r.Dx() * 4
	first := img.Pix[row : row+n]
	for i := 0; i < n; i += 4 {
		first[i], first[i+1], first[i+2], first[i+3] = c.R, c.G, c.B, c.A
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		o := img.PixOffset(r.Min.X, y)
		copy(img.Pix[o:o+n], first)
	}
}

// frame draws a one-pixel outline just inside r.
func frame(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	fill(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	fill(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}
