package render

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"strings"

	"golang.org/x/image/font"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
)

// SVG writes the fragmentation view of s as an SVG document with the same
// content as PNG, plus a tooltip (an SVG <title>) for every region: its
// range, size, type, state, owner, path and resident size. Hovering shows
// it in browsers.
func SVG(w io.Writer, s *vmmap.Snapshot, o Options) error {
	f, err := newFaces()
	if err != nil {
		return err
	}
	g, err := newGeometry(s, o, f)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	g.writeSVG(bw, false)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render: writing SVG: %w", err)
	}
	return nil
}

// writeSVG writes the picture. Inline pictures (inside the HTML report)
// leave out the XML namespace, which HTML5 implies, so that the report
// holds no URL at all; they scale to the width of their container.
func (g *geometry) writeSVG(w *bufio.Writer, inline bool) {
	l := g.l
	if inline {
		fmt.Fprintf(w, `<svg class="map" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet" role="img">`,
			g.width, g.height)
	} else {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`,
			g.width, g.height, g.width, g.height)
	}
	w.WriteString("\n<title>")
	esc(w, g.title)
	w.WriteString("</title>\n")
	fmt.Fprintf(w, `<rect width="%d" height="%d" fill="%s"/>`+"\n", g.width, g.height, hexColor(colBackground))
	w.WriteString(`<g font-family="Go, 'DejaVu Sans', Arial, sans-serif" font-size="12">` + "\n")
	g.svgText(w, margin, margin+14, colText, `font-size="15" font-weight="bold"`, g.title, g.faces.title)
	g.svgText(w, margin, margin+titleLine+12, colSubtle, "", g.caption, g.faces.label)
	g.svgText(w, margin, margin+titleLine+captionLine+12, colText, `class="facts"`, g.facts, g.faces.label)
	for _, a := range g.addrs {
		g.svgText(w, a.x, a.y, colSubtle, "", a.text, g.faces.label)
	}

	w.WriteString(`<g class="regions" shape-rendering="crispEdges">` + "\n")
	for i, p := range l.regions {
		c := g.pal.color(p.Region)
		if p.fold >= 0 {
			c = colFold
		}
		fmt.Fprintf(w, `<g class="region" fill="%s"><title>`, hexColor(c))
		esc(w, tooltip(p.Region))
		w.WriteString("</title>")
		g.svgCells(w, p.first, p.end)
		if p.fold >= 0 && l.bands[p.fold].region == i {
			g.svgBand(w, p.fold) // once per band, with its first region
		}
		w.WriteString("</g>\n")
	}
	w.WriteString("</g>\n")
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="%s"/>`+"\n",
		g.mapX-1, g.mapY-1, l.width+1, l.height()+1, hexColor(colFrame))

	w.WriteString(`<g class="legend">` + "\n")
	for _, it := range g.legend {
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="%s"/>`,
			it.x, it.y, swatchW, swatchH, hexColor(it.color), hexColor(colFrame))
		g.svgText(w, it.x+swatchW+6, it.y+swatchH, colText, "", it.text, g.faces.label)
	}
	w.WriteString("</g>\n</g>\n</svg>\n")
}

// svgCells draws cells [first, end) as at most three rectangles: the rest
// of the first row, the whole rows in between, the start of the last row.
// Rows separated by a fold band are never merged, since the band lies
// between them.
func (g *geometry) svgCells(w *bufio.Writer, first, end int) {
	l := g.l
	rect := func(x, y, wd, h int) {
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d"/>`, g.mapX+x, g.mapY+y, wd, h)
	}
	for first < end {
		row := first / l.width
		col := first % l.width
		if col == 0 && end-first >= 2*l.width {
			// Whole rows, up to the next band.
			last := end/l.width - 1
			for b := range l.bands {
				if bb := l.bands[b].before; bb > row && bb <= last {
					last = bb - 1
					break
				}
			}
			rect(0, l.rowY(row), l.width, (last-row+1)*l.rowH)
			first = (last + 1) * l.width
			continue
		}
		stop := min(end, (row+1)*l.width)
		rect(col, l.rowY(row), stop-first, l.rowH)
		first = stop
	}
}

// svgBand draws fold band b: grey strip, zigzag edges, label.
func (g *geometry) svgBand(w *bufio.Writer, b int) {
	l := g.l
	y := g.mapY + l.bandY(b)
	fmt.Fprintf(w, `<rect class="fold" x="%d" y="%d" width="%d" height="%d"/>`, g.mapX, y, l.width, bandHeight)
	var top, bottom strings.Builder
	for x := 0; x <= l.width; x += 4 {
		d := 0
		if (x/4)%2 == 1 {
			d = 4
		}
		fmt.Fprintf(&top, "%d,%d ", g.mapX+x, y+d)
		fmt.Fprintf(&bottom, "%d,%d ", g.mapX+x, y+bandHeight-1-d)
	}
	for _, pts := range []string{top.String(), bottom.String()} {
		fmt.Fprintf(w, `<polyline fill="none" stroke="%s" points="%s"/>`, hexColor(colFoldMark), strings.TrimSpace(pts))
	}
	t := g.bands[b]
	tw := textWidth(g.faces.label, t.text)
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, t.x-6, y+4, tw+12, bandHeight-8, hexColor(colFold))
	g.svgText(w, t.x, t.y, colText, `class="fold-label"`, t.text, g.faces.label)
}

// svgText writes a text element stretched or squeezed to the width the Go
// font gives it, as in the PNG: the viewer's font differs, and the layout
// (legend flow, ruler, band labels) was measured with the Go font.
func (g *geometry) svgText(w *bufio.Writer, x, y int, c color.RGBA, attrs, text string, face font.Face) {
	fmt.Fprintf(w, `<text x="%d" y="%d" fill="%s" textLength="%d" lengthAdjust="spacingAndGlyphs" %s>`,
		x, y, hexColor(c), max(1, textWidth(face, text)), attrs)
	esc(w, text)
	w.WriteString("</text>\n")
}

// tooltip describes a region for people: range in hex, sizes with units.
func tooltip(r vmmap.Region) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%#x-%#x  %s  %s", r.Start, r.End, units.Bytes(r.Size()), r.Type)
	if r.Type != vmmap.Free {
		fmt.Fprintf(&b, " (%s)", r.State)
	}
	if r.Owner != "" {
		fmt.Fprintf(&b, "\nowner: %s", r.Owner)
	}
	if r.Path != "" {
		fmt.Fprintf(&b, "\npath: %s", r.Path)
	}
	if r.Perms != "" {
		fmt.Fprintf(&b, "\nprotection: %s", r.Perms)
	}
	if r.Type != vmmap.Free {
		fmt.Fprintf(&b, "\nRSS: %s  committed: %s  private: %s", units.Bytes(r.RSS), units.Bytes(r.Committed), units.Bytes(r.Private))
	}
	return b.String()
}

// esc writes s escaped for XML text and attribute values. Invalid UTF-8 and
// characters XML forbids become U+FFFD rather than breaking the document.
func esc(w io.Writer, s string) {
	_ = xml.EscapeText(w, []byte(strings.ToValidUTF8(s, "\uFFFD")))
}
