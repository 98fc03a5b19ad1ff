package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette has a distinct color for each of up to 16 peers (plotutil's has
// seven, so peers would share colors).
var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {188, 189, 34, 255},
	{23, 190, 207, 255}, {0, 0, 128, 255}, {128, 128, 0, 255}, {255, 187, 120, 255},
	{152, 223, 138, 255}, {197, 176, 213, 255}, {0, 0, 0, 255}, {128, 0, 0, 255},
}

func colorOf(i int) color.Color { return palette[i%len(palette)] }

// charts draws the report's PNGs into dir and returns their file names:
// one grouped bar chart per family of cases (medians, lower is better) and
// the sizes as lines on log scales.
func (r *report) charts(dir string) ([]string, error) {
	var out []string
	groups := []struct {
		file, title, metric, prefix string
	}{
		{"churn.png", "Churn: ns per operation (median, lower is better)", "ns/op", "churn/"},
		{"seed.png", "Seed: time to fill two heaps to " + mib(r.scale.seedPer) + " each, ms", "alloc ms", "seed"},
		{"destroy.png", "Destroy: ms to destroy a heap of live 64 B blocks", "destroy ms", "destroy"},
		{"mappings.png", "Mappings: VMAs of the process with N heaps growing", "VMAs before", "mappings/"},
		{"bubbles.png", "Bubbles: 100 B blocks that fit the emulated space (higher is better)", "blocks", "bubbles"},
		{"arena.png", "Per-request arena: ns per object (lower is better)", "ns/object", "arena"},
		{"gc.png", "GC relief: GC CPU seconds over the same work (lower is better)", "GC CPU s", "gc"},
	}
	for _, g := range groups {
		var cases []string
		for _, c := range r.cases {
			if strings.HasPrefix(c, g.prefix) {
				cases = append(cases, c)
			}
		}
		if len(cases) == 0 {
			continue
		}
		if err := r.bars(filepath.Join(dir, g.file), g.title, g.metric, cases); err != nil {
			return nil, err
		}
		out = append(out, g.file)
	}
	if slices.ContainsFunc(r.cases, func(c string) bool { return strings.HasPrefix(c, "sizes/") }) {
		if err := r.sizesChart(filepath.Join(dir, "sizes.png")); err != nil {
			return nil, err
		}
		out = append(out, "sizes.png")
	}
	return out, nil
}

// measured lists the peers with a result in any of cases.
func (r *report) measured(cases []string) []*peer {
	var ps []*peer
	for _, p := range r.peers {
		if slices.ContainsFunc(cases, func(c string) bool { return r.cells[c][p.Name] != nil }) {
			ps = append(ps, p)
		}
	}
	return ps
}

func (r *report) bars(path, title, metric string, cases []string) error {
	ps := r.measured(cases)
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = metric
	p.Legend.Top = true
	w := vg.Points(float64(60) / float64(len(cases)+1))
	for i, c := range cases {
		vals := make(plotter.Values, len(ps))
		for k, q := range ps {
			if e := r.cells[c][q.Name]; e != nil {
				vals[k] = summarize(e.values[metric]).med
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return fmt.Errorf("chart %s: %w", path, err)
		}
		b.LineStyle.Width = 0
		b.Color = colorOf(i)
		b.Offset = w * vg.Length(float64(i)-float64(len(cases)-1)/2)
		p.Add(b)
		if len(cases) > 1 {
			p.Legend.Add(r.title(c), b)
		}
	}
	names := make([]string, len(ps))
	for i, q := range ps {
		names[i] = q.Name
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	// Room above the tallest bar for the legend.
	p.Y.Min = 0
	p.Y.Max *= 1.3
	return p.Save(vg.Length(max(8, len(ps)))*vg.Inch, 5*vg.Inch, path)
}

func (r *report) sizesChart(path string) error {
	var cases []string
	for _, c := range r.cases {
		if strings.HasPrefix(c, "sizes/") {
			cases = append(cases, c)
		}
	}
	p := plot.New()
	p.Title.Text = "Alloc+Free pair: ns by block size (median, log scales)"
	p.X.Label.Text = "block size, bytes"
	p.Y.Label.Text = "ns per pair"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	for i, q := range r.measured(cases) {
		var pts plotter.XYs
		for _, c := range cases {
			e := r.cells[c][q.Name]
			if e == nil {
				continue
			}
			n, err := strconv.Atoi(strings.TrimPrefix(c, "sizes/"))
			if err != nil {
				return fmt.Errorf("chart: case %q: %w", c, err)
			}
			if v := summarize(e.values["ns/op"]).med; v > 0 {
				pts = append(pts, plotter.XY{X: float64(n), Y: v})
			}
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("chart %s: %w", path, err)
		}
		l.Color, s.Color = colorOf(i), colorOf(i)
		s.Shape = plotutil.Shape(i)
		if q.Floor {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			l.Color, s.Color = color.Gray{Y: 120}, color.Gray{Y: 120}
		}
		p.Add(l, s)
		p.Legend.Add(q.Name, l, s)
	}
	return p.Save(10*vg.Inch, 6*vg.Inch, path)
}
