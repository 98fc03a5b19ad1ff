package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

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

The file is read once, one snapshot at a time, so a long recording of a
large process costs the memory of a few snapshots. The page embeds each
distinct region once and each frame as the regions it adds to and drops
from the one before; that region data stops growing at --max-page: frames
past it keep their figures in the charts and the table, the last frame
keeps its map, and the page says which frames have one.

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
	maxIn := fs.String("max-input", units.Bytes(timeline.DefaultMaxBytes), "stop with an error when the timeline's text, decompressed, passes `SIZE` (a guard against a small gzip file that expands without end)")
	maxData := fs.String("max-page", units.Bytes(reportMaxData), "embed the maps of frames until their regions take `SIZE` of the page (later frames keep their figures, the last its map too)")
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
	limIn, err := units.Parse(*maxIn)
	if err != nil || limIn == 0 || limIn > 1<<62 {
		return usageErrorf("--max-input %q: want a size such as 4GiB", *maxIn)
	}
	limPage, err := units.Parse(*maxData)
	if err != nil || limPage == 0 || limPage > 1<<40 {
		return usageErrorf("--max-page %q: want a size such as 64MiB", *maxData)
	}
	r, err := timeline.OpenReader(pos[0], timeline.Options{MaxBytes: int64(limIn)})
	if err != nil {
		return err
	}
	defer r.Close()
	// The file is read whole before the page is written: a timeline
	// that fails leaves no page.
	v, frames, err := timelineView(pos[0], r, int(limPage))
	switch {
	case errors.Is(err, timeline.ErrTooLarge):
		return fmt.Errorf("%s: %w (--max-input raises the cap)", pos[0], err)
	case err != nil:
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if err := writeAtomically(*out, func(w io.Writer) error { return timelineTemplate.Execute(w, v) }); err != nil {
		return err
	}
	if trunc, dropped := r.Truncated(); trunc {
		fmt.Fprintf(stderr, "zebra report: warning: %s: %s\n", visible.String(pos[0]), dropped)
	}
	what := "snapshots"
	if frames == 1 {
		what = "snapshot"
	}
	fmt.Fprintf(stdout, "wrote %s: %d %s of %s\n", *out, frames, what, visible.String(r.Header().Source))
	return nil
}

// errNoFrame is returned for a timeline without a snapshot: there is
// nothing to draw.
var errNoFrame = errors.New("the timeline holds no snapshot")

// timelinePage is what the template shows.
type timelinePage struct {
	Title, Source, Span, Ended string
	Phases                     string // what the grey lines mark, or ""
	Frames                     int
	Charts                     []chartView
	Bound                      string      // what the page embeds, and its bound
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

// frameSource yields a timeline's frames one at a time: a
// timeline.Reader (the tests give timelines held in memory).
type frameSource interface {
	Header() timeline.Header
	Next() (timeline.Frame, error)
	End() (string, *int)
	Truncated() (bool, string)
}

// timelineView reads the frames of src in one pass that holds one
// frame's snapshot at a time (and the one before, for the reference frames
// share): per frame it keeps the figures the charts and the slider's table
// show, and adds the frame's map to the page data, whose distinct regions
// are kept until they take maxData bytes of the page. It returns what the
// page shows and the number of frames.
func timelineView(name string, src frameSource, maxData int) (*timelinePage, int, error) {
	h := src.Header()
	var (
		points []timeline.Point
		secs   []float64
		labels []string
		same   []bool
		start  time.Time
		raw    *vmmap.Snapshot // the last frame's snapshot
		vis    *vmmap.Snapshot // raw, escaped for the page
	)
	page := newPageData(maxData)
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		// Frames stored as references share the snapshot before them:
		// escaped and measured once.
		ref := raw != nil && f.Snapshot == raw
		if !ref {
			raw, vis = f.Snapshot, vmmap.Visible(f.Snapshot)
			points = append(points, timeline.Measure(vis))
		} else {
			points = append(points, points[len(points)-1])
		}
		if len(secs) == 0 {
			start = f.Taken
		}
		secs = append(secs, f.Taken.Sub(start).Seconds())
		labels = append(labels, f.Label)
		same = append(same, f.Same)
		page.add(vis, ref)
	}
	if len(points) == 0 {
		return nil, 0, errNoFrame
	}
	page.finish(vis)
	end, _ := src.End()
	truncated, _ := src.Truncated()
	drops := largestDrops(points, reportDrops)

	source := visible.String(h.Source)
	v := &timelinePage{
		Title:  "zebra timeline: " + source,
		Source: filepath.Base(name), Frames: len(points),
		Span:  vis.Span.String(),
		Ended: end,
		Bound: page.bound(),
	}
	switch {
	case truncated:
		v.Ended = "the recording was cut off (its last line is torn); every complete snapshot is shown"
	case v.Ended == "":
		v.Ended = "the recording has no end line (the recorder died)"
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
		{"Stripes per owner", stripesNote(points), newChart(false, stripeLines(points, page.palette)...).svg()},
	}
	if len(ph) > 0 {
		v.Phases = "grey lines: where each phase begins (" + phaseNames(ph) + ")"
	}
	for i, p := range points {
		var st []string
		for _, o := range sortedOwners(p.Stripes) {
			st = append(st, fmt.Sprintf("%s %d", o, p.Stripes[o]))
		}
		fd := &page.d.Frames[i]
		fd.T, fd.VMAs, fd.Committed = fmt.Sprintf("%.1fs", secs[i]), p.VMAs, units.Bytes(p.Committed)
		fd.Resident, fd.Largest, fd.Zebra = units.Bytes(p.Resident), units.Bytes(p.Largest), p.ZebraScore
		fd.Stripes, fd.Same, fd.Phase = strings.Join(st, ", "), same[i], labels[i]
	}
	js, err := json.Marshal(page.d)
	if err != nil {
		return nil, 0, err
	}
	v.Data, v.Script = template.JS(js), template.JS(reportScript)
	return v, len(points), nil
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
