package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/internal/visible"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// zebra report: a timeline file as one self-contained HTML page. See
// runReport.

const reportUsage = `usage: zebra report [flags] FILE -o timeline.html

Writes a recording made by 'zebra record' (or 'zebra demo --record') as one
HTML page: charts over time of the VMA count, committed and resident bytes,
the largest free block within the span, the zebra score and the stripes per
owner; the frames where the largest free block dropped most are marked. A
slider picks any snapshot to see its map, drawn in the page, and its
figures; two pickers show the diff between any two snapshots
(FILE.html#frame=N&from=A&to=B opens at frame N and the diff from A to B).
vm.max_map_count is drawn on the VMA chart when it is near the counts (else
named as off the scale); frames labelled by phase (the demo's scenarios)
get a grey line where each phase begins. No external script, font or URL.

Flags:
`

// Limits of a report.
const (
	reportDrops     = 3  // largest drops of the largest free block marked
	reportDiffLines = 40 // diff lines the page shows (with the count of all)
	reportOwnersMax = 5  // owners charted in the stripes chart
)

func runReport(args []string, stdout, stderr io.Writer) error {
	help := stdout
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	out := fs.String("o", "", "write the report to `FILE` (.html)")
	pos, err := parseInterspersed(fs, args, reportUsage, help)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("want one timeline file, got %q", pos)
	}
	if *out == "" || !strings.HasSuffix(strings.ToLower(*out), ".html") {
		return usageErrorf("-o FILE.html is required")
	}
	t, err := timeline.Open(pos[0])
	if err != nil {
		return err
	}
	if t.Truncated {
		fmt.Fprintf(stderr, "zebra report: warning: %s: %s\n", visible.String(pos[0]), t.Dropped)
	}
	if len(t.Frames) == 0 {
		return fmt.Errorf("%s: the timeline holds no snapshot", pos[0])
	}
	if err := writeAtomically(*out, func(w io.Writer) error { return writeTimelineHTML(w, pos[0], t) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d snapshots of %s\n", *out, len(t.Frames), visible.String(t.Header.Source))
	return nil
}

// timelineView is what the template shows.
type timelineView struct {
	Title, Source, Span, Ended string
	Phases                     string // what the grey lines mark, or ""
	Frames                     int
	Charts                     []chartView
	Data                       template.JS // reportData as JSON
	Script                     template.JS // report_timeline.js
}

type chartView struct {
	Title, Note string
	SVG         template.HTML
}

// phaseNames lists the phases' names in order.
func phaseNames(ph []phase) string {
	var names []string
	for _, p := range ph {
		names = append(names, p.name)
	}
	return strings.Join(names, "; ")
}

// writeTimelineHTML renders t.
func writeTimelineHTML(w io.Writer, name string, t *timeline.Timeline) error {
	t = visibleTimeline(t)
	points := make([]timeline.Point, len(t.Frames))
	for i, f := range t.Frames {
		points[i] = timeline.Measure(f.Snapshot)
	}
	drops := largestDrops(points, reportDrops)

	v := timelineView{
		Title:  "zebra timeline: " + t.Header.Source,
		Source: filepath.Base(name), Frames: len(t.Frames),
		Span:  t.Frames[len(t.Frames)-1].Snapshot.Span.String(),
		Ended: t.End,
	}
	switch {
	case t.Truncated:
		v.Ended = "the recording was cut off (its last line is torn); every complete snapshot is shown"
	case v.Ended == "":
		v.Ended = "the recording has no end line (the recorder died)"
	}
	start := t.Frames[0].Taken
	secs := make([]float64, len(points))
	for i, f := range t.Frames {
		secs[i] = f.Taken.Sub(start).Seconds()
	}
	series := func(f func(timeline.Point) float64) []float64 {
		out := make([]float64, len(points))
		for i, p := range points {
			out[i] = f(p)
		}
		return out
	}
	vmaNote := "no kernel mappings: an emulated address space"
	if slices.ContainsFunc(points, func(p timeline.Point) bool { return p.VMAs > 0 }) {
		vmaNote = ""
	}
	limit := float64(points[len(points)-1].MaxMapCount)
	if limit > 0 {
		vmaNote = fmt.Sprintf("vm.max_map_count is %.0f; the last snapshot uses %.2f%% of it", limit,
			100*float64(points[len(points)-1].VMAs)/limit)
	}
	labels := make([]string, len(t.Frames))
	for i, f := range t.Frames {
		labels[i] = f.Label
	}
	ph := phases(labels)
	newChart := func(bytes bool, lines ...line) chart {
		return chart{xs: secs, lines: lines, bytes: bytes, marks: drops, phases: ph}
	}
	vmaChart := newChart(false, line{name: "VMAs", ys: series(func(p timeline.Point) float64 { return float64(p.VMAs) })})
	vmaChart.limit, vmaChart.limitName = limit, "vm.max_map_count"
	v.Charts = []chartView{
		{"VMA count", vmaNote, vmaChart.svg()},
		{"Committed and resident", "bytes; committed counts towards the commit charge (mappings the kernel accounts), resident is the working set (RSS)",
			newChart(true,
				line{name: "committed", ys: series(func(p timeline.Point) float64 { return float64(p.Committed) })},
				line{name: "resident", ys: series(func(p timeline.Point) float64 { return float64(p.Resident) })},
			).svg()},
		{"Largest free block within the span", "what still fits; red marks: the largest drops",
			newChart(true, line{name: "largest free", ys: series(func(p timeline.Point) float64 { return float64(p.Largest) })}).svg()},
		{"Zebra score", "owner changes walking up the address space over zebra heaps' memory",
			newChart(false, line{name: "zebra score", ys: series(func(p timeline.Point) float64 { return float64(p.ZebraScore) })}).svg()},
		{"Stripes per owner", stripesNote(points), newChart(false, stripeLines(points, render.NewPalette(allOwners(t), nil))...).svg()},
	}
	if len(ph) > 0 {
		v.Phases = "grey lines: where each phase begins (" + phaseNames(ph) + ")"
	}

	data := reportData{DiffLines: reportDiffLines}
	for i, p := range points {
		var st []string
		for _, o := range sortedOwners(p.Stripes) {
			st = append(st, fmt.Sprintf("%s %d", o, p.Stripes[o]))
		}
		data.Frames = append(data.Frames, frameData{
			T: fmt.Sprintf("%.1fs", secs[i]), VMAs: p.VMAs, Committed: units.Bytes(p.Committed),
			Resident: units.Bytes(p.Resident), Largest: units.Bytes(p.Largest), Zebra: p.ZebraScore,
			Stripes: strings.Join(st, ", "), Same: t.Frames[i].Same, Phase: t.Frames[i].Label,
		})
	}
	data.addRegions(t, allOwners(t))
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	v.Data, v.Script = template.JS(js), template.JS(reportScript)
	return timelineTemplate.Execute(w, v)
}

// largestDrops returns the frames (up to n) after which the largest free
// block fell most, in frame order.
func largestDrops(ps []timeline.Point, n int) []int {
	type drop struct {
		frame int
		by    uint64
	}
	var ds []drop
	for i := 1; i < len(ps); i++ {
		if ps[i].Largest < ps[i-1].Largest {
			ds = append(ds, drop{i, ps[i-1].Largest - ps[i].Largest})
		}
	}
	slices.SortStableFunc(ds, func(a, b drop) int { return cmpDesc(a.by, b.by) })
	var out []int
	for _, d := range ds[:min(n, len(ds))] {
		out = append(out, d.frame)
	}
	slices.Sort(out)
	return out
}

func cmpDesc(a, b uint64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func sortedOwners(m map[string]int) []string {
	var out []string
	for o := range m {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

func allOwners(t *timeline.Timeline) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range t.Frames {
		if f.Same {
			continue
		}
		for _, o := range vmmap.Owners(f.Snapshot) {
			if !o.System && !seen[o.Owner] {
				seen[o.Owner] = true
				out = append(out, o.Owner)
			}
		}
	}
	return out
}

// stripeLines charts the owners with the most stripes at any moment (a
// destroyed heap included), or the anonymous mappings when no snapshot
// attributes memory to owners.
func stripeLines(ps []timeline.Point, pal *render.Palette) []line {
	most := map[string]int{}
	for _, p := range ps {
		for o, n := range p.Stripes {
			most[o] = max(most[o], n)
		}
	}
	owners := sortedOwners(most)
	slices.SortStableFunc(owners, func(a, b string) int { return most[b] - most[a] })
	var out []line
	for _, o := range owners[:min(len(owners), reportOwnersMax)] {
		// The owner's colour in the pictures, so that a heap is one colour
		// on the page.
		c := pal.Color(vmmap.Region{Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: o})
		l := line{name: o, color: fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B)}
		for _, p := range ps {
			l.ys = append(l.ys, float64(p.Stripes[o]))
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		l := line{name: "anonymous mappings"}
		for _, p := range ps {
			l.ys = append(l.ys, float64(p.AnonMappings))
		}
		out = append(out, l)
	}
	return out
}

func stripesNote(ps []timeline.Point) string {
	if !slices.ContainsFunc(ps, func(p timeline.Point) bool { return len(p.Stripes) > 0 }) {
		return "no region is attributed to an owner (another process, on a kernel without named anonymous mappings): the chart counts anonymous private mappings instead"
	}
	return "separate address ranges of each owner"
}
