package main

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/zebra-heap/zebra/internal/units"
)

// The charts and the page of zebra report.

// line is one series of a chart.
type line struct {
	name  string
	ys    []float64
	color string // "" for the chart's next lineColors entry
}

var lineColors = []string{"#D9480F", "#1971C2", "#2F9E44", "#9C36B5", "#E67700", "#495057"}

// chart is one chart of the report: series against xs (seconds).
type chart struct {
	xs    []float64
	lines []line
	bytes bool  // label the axis in bytes
	marks []int // frames marked in red (the largest drops)
	// limit, when positive, is drawn as a dashed line named limitName if
	// it lies near the values, else named in the corner as off the scale.
	limit     float64
	limitName string
	phases    []phase // where a labelled phase of the recording begins
}

// phase is the start of a labelled part of a recording: the demo's
// scenarios.
type phase struct {
	frame int
	name  string
}

// phases returns where each run of equal non-empty labels begins.
func phases(labels []string) []phase {
	var out []phase
	for i, l := range labels {
		if l != "" && (i == 0 || labels[i-1] != l) {
			out = append(out, phase{i, l})
		}
	}
	return out
}

// svg draws the chart as an inline SVG (no namespace URL: HTML implies
// it).
func (c chart) svg() template.HTML {
	const w, h, left, right, top, bottom = 720, 170, 70, 10, 10, 34
	// The axis spans the values' range, padded, so that a fall of a few
	// MiB in a free block of terabytes still shows.
	lo, hi := c.lines[0].ys[0], c.lines[0].ys[0]
	for _, l := range c.lines {
		for _, y := range l.ys {
			lo, hi = min(lo, y), max(hi, y)
		}
	}
	// A limit up to twice the highest value is drawn within the axis.
	drawLimit := c.limit > 0 && c.limit <= 2*max(hi, 1)
	if drawLimit {
		hi = max(hi, c.limit)
	}
	ticks := niceTicks(lo, hi, c.bytes)
	lo, hi = ticks[0], ticks[len(ticks)-1]
	xs := c.xs
	xmax := max(xs[len(xs)-1], 1e-9)
	px := func(x float64) float64 { return left + (w-left-right)*x/xmax }
	py := func(y float64) float64 { return top + (h-top-bottom)*(1-(y-lo)/(hi-lo)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img">`, w, h)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#fff" stroke="#ccc"/>`, left, top, w-left-right, h-top-bottom)
	for i, label := range axisLabels(ticks, c.bytes) {
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" class="ax">%s</text>`, left-4, py(ticks[i])+4, html.EscapeString(label))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>`, left, w-right, py(ticks[i]), py(ticks[i]))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="ax">0 s</text><text x="%d" y="%d" text-anchor="end" class="ax">%.1f s</text>`,
		left, h-bottom+14, w-right, h-bottom+14, xmax)
	for _, p := range c.phases {
		x := px(xs[p.frame])
		fmt.Fprintf(&b, `<line class="phase" x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#868E96"/>`, x, x, top, h-bottom)
		fmt.Fprintf(&b, `<text class="ax phase" x="%.1f" y="%d" transform="rotate(90 %.1f %d)">%s</text>`,
			x+3, top+2, x+3, top+2, html.EscapeString(clip(p.name, 22)))
	}
	switch {
	case drawLimit:
		fmt.Fprintf(&b, `<line class="limit" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#C92A2A" stroke-dasharray="6 3"/>`,
			left, w-right, py(c.limit), py(c.limit))
		fmt.Fprintf(&b, `<text class="ax limit" x="%d" y="%.1f" text-anchor="end">%s %.0f</text>`, w-right-4, py(c.limit)-3,
			html.EscapeString(c.limitName), c.limit)
	case c.limit > 0:
		fmt.Fprintf(&b, `<text class="ax limit" x="%d" y="%d" text-anchor="end">%s %.0f: far above this axis</text>`,
			w-right-4, top+12, html.EscapeString(c.limitName), c.limit)
	}
	for _, m := range c.marks {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#E03131" stroke-dasharray="3 2"><title>largest free block dropped at frame %d</title></line>`,
			px(xs[m]), px(xs[m]), top, h-bottom, m)
	}
	for i, l := range c.lines {
		col := l.color
		if col == "" {
			col = lineColors[i%len(lineColors)]
		}
		var pts []string
		for j, y := range l.ys {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(xs[j]), py(y)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`, col, strings.Join(pts, " "))
		if len(l.ys) == 1 { // a line of one frame draws nothing: a dot
			fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, px(xs[0]), py(l.ys[0]), col)
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" class="ax">%s</text>`,
			left+i*128, h-12, col, left+i*128+14, h-3, html.EscapeString(l.name))
	}
	b.WriteString(`<line class="cursor" x1="0" x2="0" y1="10" y2="136" stroke="#000" stroke-width="1"/></svg>`)
	return template.HTML(b.String())
}

// axisLabels labels the ticks (lowest first). Byte values that the usual
// one decimal cannot tell apart (a free block of 125.6 TiB that moves by
// MiB) label the top tick in full and the others by their distance below
// it.
func axisLabels(ticks []float64, bytes bool) []string {
	out := make([]string, len(ticks))
	if !bytes {
		for i, y := range ticks {
			out[i] = strconv.FormatFloat(y, 'f', 0, 64) // niceTicks gives integers
		}
		return out
	}
	distinct := map[string]bool{}
	for i, y := range ticks {
		out[i] = units.Bytes(uint64(y))
		distinct[out[i]] = true
	}
	if len(distinct) == len(ticks) {
		return out
	}
	top := ticks[len(ticks)-1]
	for i, y := range ticks[:len(ticks)-1] {
		out[i] = "−" + units.Bytes(uint64(top-y))
	}
	return out
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

var timelineTemplate = template.Must(template.New("timeline").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,'DejaVu Sans',Arial,sans-serif;margin:1.5em;color:#222;max-width:1500px}
h1{font-size:1.35em} h2{font-size:1.05em;margin:.2em 0} .note{color:#666;font-size:.85em;margin:0 0 .3em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:1em}
.ax{font-size:11px;fill:#555} .card{border:1px solid #ddd;padding:.6em;border-radius:4px}
#pic canvas{width:100%;max-width:720px;image-rendering:pixelated}
.legend{font-size:.8em;margin:.3em 0} .legend span{margin-right:1em;white-space:nowrap} .legend b{display:inline-block;width:10px;height:10px;margin-right:4px;border:1px solid #999;vertical-align:-1px}
input[type=number]{width:6em} table{border-collapse:collapse;font-size:.9em} td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}
pre{font-size:.8em;background:#f8f8f8;padding:.5em;max-height:22em;overflow:auto}
input[type=range]{width:100%}
</style></head><body>
<h1>{{.Title}}</h1>
<p class="note">{{.Frames}} snapshot{{if ne .Frames 1}}s{{end}} from {{.Source}}; span {{.Span}}; ended: {{.Ended}}.{{if .Phases}} {{.Phases}}.{{end}}</p>
<div class="grid">
{{range .Charts}}<div class="card"><h2>{{.Title}}</h2><p class="note">{{.Note}}</p>{{.SVG}}</div>
{{end}}</div>
<h2 style="margin-top:1em">Snapshot</h2>
<p class="note" id="bound">Maps: {{.Bound}}.</p>
<input type="range" id="frame" min="0" max="{{.Frames}}" value="0" aria-label="snapshot">
<div class="grid"><div class="card"><table id="fig"></table></div>
<div class="card" id="pic"><p class="note" id="mapcap"></p><canvas id="map" width="720" height="0"></canvas><p class="legend" id="legend"></p></div></div>
<h2 style="margin-top:1em">Diff between two snapshots</h2>
<label>from frame <input type="number" id="da" min="0" value="0"></label> <span class="note" id="dat"></span> <button id="seta">the slider's</button>
&nbsp; <label>to frame <input type="number" id="db" min="0" value="0"></label> <span class="note" id="dbt"></span> <button id="setb">the slider's</button>
<pre id="diff"></pre>
<script type="application/json" id="data">{{.Data}}</script>
<script>{{.Script}}</script>
</body></html>
`))

// niceTicks returns the ticks of an axis that holds [lo, hi] (lo >= 0): 3
// to 9 round values in the unit of the series, the first and the last
// bounding it. Counts step by 1, 2 or 5 times a power of ten, never less
// than 1, so every tick is an integer; bytes step by a power of two, so
// ticks are whole multiples of KiB, MiB… as their labels show. A constant
// series gets an axis around its value, one unit of its size either side
// (41.9 TiB: 40.9 to 42.9 TiB), not ticks at -1 B and -2 B.
func niceTicks(lo, hi float64, bytes bool) []float64 {
	if hi <= lo {
		around := 1.0
		switch {
		case bytes:
			for around*1024 <= hi {
				around *= 1024
			}
		case hi >= 1:
			around = math.Pow(10, math.Floor(math.Log10(hi)))
		}
		lo, hi = max(lo-around, 0), hi+around
	}
	raw := (hi - lo) / 4
	var step float64
	if bytes {
		step = math.Pow(2, math.Ceil(math.Log2(max(raw, 1))))
	} else {
		mag := math.Pow(10, math.Floor(math.Log10(max(raw, 1))))
		step = mag
		for _, m := range []float64{1, 2, 5, 10} {
			if m*mag >= raw {
				step = m * mag
				break
			}
		}
	}
	first, last := math.Floor(lo/step), math.Ceil(hi/step)
	if last == first {
		last++
	}
	ticks := make([]float64, 0, int(last-first)+1)
	for k := first; k <= last; k++ {
		ticks = append(ticks, k*step)
	}
	return ticks
}
