package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// demoTimeline records a small demo (emulated win32 window) and returns the
// timeline's path.
func demoTimeline(t *testing.T) string {
	t.Helper()
	path := filepath.Join(tempdir.New(t), "demo.jsonl.gz")
	var out, errb bytes.Buffer
	if err := runDemo([]string{"--no-report", "--no-progress", "--total", "24MiB", "--record", path}, &out, &errb); err != nil {
		t.Fatalf("demo --record: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "timeline: "+path) {
		t.Errorf("demo does not name its timeline:\n%s", out.String())
	}
	return path
}

var externalURL = regexp.MustCompile(`(?i)(https?:|//[a-z0-9.-]+\.[a-z]{2,}/|<link|src="(?:https?:)?//)`)

// demoPage returns the page zebra report writes for the demo's timeline.
func demoPage(t *testing.T) []byte {
	t.Helper()
	path := demoTimeline(t)
	html := filepath.Join(tempdir.New(t), "timeline.html")
	var out bytes.Buffer
	if err := runReport([]string{path, "-o", html}, &out, &out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReportFromDemo(t *testing.T) {
	b := demoPage(t)
	for _, want := range []string{"VMA count", "Largest free block", "Zebra score", "Stripes per owner",
		"heap A", `<canvas id="map"`, `type="range"`, "largest free block dropped",
		"snapshots from demo.jsonl.gz;", `class="phase"`, "where each phase begins", `"phase":"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	if m := externalURL.Find(b); m != nil {
		t.Errorf("report holds an external reference %q", m)
	}
	if bytes.Contains(b, []byte(os.TempDir())) {
		t.Errorf("report names the temporary directory %s", os.TempDir())
	}
}

// TestReportOneColourPerOwner: on the timeline page a heap's line in the
// stripes chart has the colour the page's map draws that heap with.
func TestReportOneColourPerOwner(t *testing.T) {
	b := demoPage(t)
	m := regexp.MustCompile(`(?s)<script type="application/json" id="data">(.*?)</script>`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no data in the page")
	}
	var data reportData
	if err := json.Unmarshal(m[1], &data); err != nil {
		t.Fatal(err)
	}
	mapColor := map[string]string{} // legend name → colour
	for _, c := range data.Colors {
		mapColor[c[1]] = strings.ToUpper(c[0])
	}
	// The chart's legend: a swatch, then the owner's name.
	legend := regexp.MustCompile(`<rect [^>]*fill="(#[0-9A-Fa-f]{6})"/><text [^>]*>([^<]+)</text>`)
	checked := 0
	for _, owner := range []string{"heap A", "heap B", "heap A (metadata)", "heap B (metadata)"} {
		want, ok := mapColor[owner]
		if !ok {
			t.Errorf("the map's legend has no %q", owner)
			continue
		}
		for _, l := range legend.FindAllSubmatch(b, -1) {
			if string(l[2]) == owner {
				checked++
				if got := strings.ToUpper(string(l[1])); got != want {
					t.Errorf("%s: chart line %s, map %s", owner, got, want)
				}
			}
		}
	}
	if checked < 4 {
		t.Errorf("found %d of the 4 heaps' lines in the stripes chart", checked)
	}
}

// synthTimeline is a timeline of n frames of a snapshot whose k-th frame
// has k*step mappings of 4 KiB, one page apart.
func synthTimeline(n, step int) *timeline.Timeline {
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	tl := &timeline.Timeline{Header: timeline.Header{Source: "synthetic"}, End: timeline.EndDone}
	for k := range n {
		s := &vmmap.Snapshot{Source: "synthetic", Taken: t0.Add(time.Duration(k) * time.Second),
			Span: vmmap.AddrRange{Start: 0x100000, End: 0x10000000}, Granularity: 4096}
		for j := range k * step {
			start := uint64(0x100000 + j*0x2000)
			s.Regions = append(s.Regions, vmmap.Region{Start: start, End: start + 0x1000, Type: vmmap.PrivateData,
				State: vmmap.StateCommitted, Perms: "rw-p", Committed: 0x1000})
		}
		n, _ := s.Normalized()
		tl.Frames = append(tl.Frames, timeline.Frame{Seq: k, Taken: s.Taken, Snapshot: n})
	}
	return tl
}

var reportJSON = regexp.MustCompile(`<script type="application/json" id="data">(.*?)</script>`)

// reportPage writes tl's page and returns it with its decoded data.
func reportPage(t *testing.T, tl *timeline.Timeline) ([]byte, reportData) {
	t.Helper()
	var b bytes.Buffer
	if err := writePage(&b, "synthetic.jsonl", tl); err != nil {
		t.Fatal(err)
	}
	m := reportJSON.FindSubmatch(b.Bytes())
	if m == nil {
		t.Fatal("no data in the report")
	}
	var d reportData
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), d
}

// edgeTimeline is two frames whose diff has a line of every kind, sizes
// that %.1f rounds half to even (1.25 KiB, 1.75 KiB), a block of two
// regions, and a region above 2^53 (JavaScript numbers cannot hold it)
// outside the span.
func edgeTimeline() *timeline.Timeline {
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	const c, r = vmmap.StateCommitted, vmmap.StateReserved
	// Each region in frames 0 and 1: its end (0: absent), owner and
	// committed bytes there.
	rows := []struct {
		start     uint64
		end       [2]uint64
		ty        vmmap.Type
		st        vmmap.State
		owner     [2]string
		base      uint64
		committed [2]uint64
	}{
		{0x10000, [2]uint64{0x10500, 0x10700}, vmmap.PrivateData, c, [2]string{}, 0, [2]uint64{0x500, 0x700}},
		{0x20000, [2]uint64{0x30000, 0x60000}, vmmap.Heap, c, [2]string{"heap A", "heap A"}, 0, [2]uint64{0x10000, 0x40000}},
		{0x30000, [2]uint64{0x80000}, vmmap.Heap, r, [2]string{"heap A"}, 0x20000, [2]uint64{}},
		{0x60000, [2]uint64{0, 0x80000}, vmmap.Heap, r, [2]string{"", "heap A"}, 0x20000, [2]uint64{}},
		{0x100000, [2]uint64{0x100700}, vmmap.Stack, c, [2]string{}, 0, [2]uint64{0x700}},
		{0x200000, [2]uint64{0x300000, 0x300000}, vmmap.Heap, c, [2]string{"heap B", "heap C"}, 0, [2]uint64{0x100000, 0x80000}},
		{0x400000, [2]uint64{0, 0x400500}, vmmap.Heap, c, [2]string{"", "heap B"}, 0, [2]uint64{0, 0x500}},
		{0x500000, [2]uint64{0x510000, 0x508000}, vmmap.MappedFile, c, [2]string{}, 0, [2]uint64{0x10000, 0x8000}},
		{0xffffffffff600000, [2]uint64{0xffffffffff601000, 0xffffffffff602000}, vmmap.Image, c, [2]string{}, 0, [2]uint64{0x1000, 0x2000}},
	}
	var a, b []vmmap.Region
	for _, row := range rows {
		for k, rs := range []*[]vmmap.Region{&a, &b} {
			if row.end[k] != 0 {
				*rs = append(*rs, vmmap.Region{Start: row.start, End: row.end[k], Type: row.ty, State: row.st, Owner: row.owner[k],
					Base: row.base, Committed: row.committed[k], Perms: "rw-p"})
			}
		}
	}
	tl := &timeline.Timeline{Header: timeline.Header{Source: "edges"}, End: timeline.EndDone}
	for k, rs := range [][]vmmap.Region{a, b} {
		s := &vmmap.Snapshot{Source: "edges", Taken: t0.Add(time.Duration(k) * time.Second),
			Span: vmmap.AddrRange{Start: 0x10000, End: 0x1000000}, Granularity: 4096, Regions: rs}
		tl.Frames = append(tl.Frames, timeline.Frame{Seq: k, Taken: s.Taken, Snapshot: s})
	}
	return tl
}

// TestReportData: the regions embedded for the page's script decode to
// every frame's regions, in their colours, unchanged frames by reference.
func TestReportData(t *testing.T) {
	demo, err := timeline.Open(demoTimeline(t))
	if err != nil {
		t.Fatal(err)
	}
	// Frames 5 and 6 unchanged since 4: frame 7 is stored as its
	// difference from frame 4.
	pause := churnTimeline(12, 300, 5)
	for _, k := range []int{5, 6} {
		pause.Frames[k].Snapshot, pause.Frames[k].Same = pause.Frames[4].Snapshot, true
	}
	idle := synthTimeline(4, 2)
	for i := range idle.Frames[2:] {
		idle.Frames[2+i].Snapshot, idle.Frames[2+i].Same = idle.Frames[1].Snapshot, true
	}
	tests := []struct {
		name    string
		tl      *timeline.Timeline
		wantRef []int // frames stored as references
	}{
		{"demo", demo, nil},
		{"synthetic", synthTimeline(5, 3), nil},
		{"unchanged frames", idle, []int{2, 3}},
		{"edges", edgeTimeline(), nil},
		// 50 frames of 300 mappings, 5 of which change each time: the
		// frames are stored as differences (and every 32nd whole).
		{"a few changes a frame", churnTimeline(50, 300, 5), nil},
		{"a pause between differences", pause, []int{5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, d := reportPage(t, tt.tl)
			if len(d.Frames) != len(tt.tl.Frames) {
				t.Fatalf("%d frames, want %d", len(d.Frames), len(tt.tl.Frames))
			}
			pal := render.NewPalette(ownersOf(tt.tl), nil)
			var refs []int
			for i, f := range tt.tl.Frames {
				fd := d.Frames[i]
				if fd.Ref != nil {
					refs = append(refs, i)
					if tt.tl.Frames[*fd.Ref].Snapshot != f.Snapshot {
						t.Errorf("frame %d refers to frame %d, another snapshot", i, *fd.Ref)
					}
				}
				got := decodeRegions(t, d, i)
				var want []vmmap.Region
				for _, r := range f.Snapshot.Regions {
					if r.Type != vmmap.Free {
						c := pal.Color(r)
						want = append(want, vmmap.Region{Start: r.Start, End: r.End, Type: r.Type, State: r.State, Owner: r.Owner,
							Path: r.Path, Base: r.Base, Committed: r.Committed, Perms: fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B)})
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("frame %d regions (-want +got):\n%s", i, diff)
				}
			}
			if !slices.Equal(refs, tt.wantRef) {
				t.Errorf("frames by reference %v, want %v", refs, tt.wantRef)
			}
			if tt.name == "a pause between differences" {
				if f := d.Frames[7].From; f == nil || *f != 4 {
					t.Errorf("frame 7 is from frame %v, want 4", f)
				}
			}
		})
	}
}

// decodeRegions reads frame i's regions back from the page's data, as
// the page's script does (following references and differences), the
// colour in Perms.
func decodeRegions(t *testing.T, d reportData, i int) []vmmap.Region {
	t.Helper()
	var out []vmmap.Region
	for _, j := range decodeRows(t, d, i) {
		row := d.Regions[j]
		out = append(out, vmmap.Region{Start: row.start, End: row.end, Type: row.typ, State: row.state,
			Owner: d.Strings[row.owner], Path: d.Strings[row.path], Base: row.base, Committed: row.committed,
			Perms: d.Colors[row.color][0]})
	}
	slices.SortStableFunc(out, func(a, b vmmap.Region) int { return cmpDesc(b.Start, a.Start) })
	return out
}

// decodeRows returns the rows of Regions frame i lists.
func decodeRows(t *testing.T, d reportData, i int) []int {
	t.Helper()
	fd := d.Frames[i]
	if fd.Ref != nil {
		fd = d.Frames[*fd.Ref]
	}
	var rows []int
	switch {
	case fd.NoMap:
		t.Fatalf("frame %d has no map", i)
	case fd.From != nil:
		for _, j := range decodeRows(t, d, *fd.From) {
			if !slices.Contains(fd.Del, j) {
				rows = append(rows, j)
			}
		}
		rows = append(rows, fd.Add...)
	default:
		for k := 0; k < len(fd.Runs); k += 2 {
			for j := fd.Runs[k]; j < fd.Runs[k]+fd.Runs[k+1]; j++ {
				rows = append(rows, j)
			}
		}
	}
	return rows
}

// churnTimeline is n frames of m mappings of a page, k of which move to
// a new place each frame (so every frame changes, by little).
func churnTimeline(n, m, k int) *timeline.Timeline {
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	tl := &timeline.Timeline{Header: timeline.Header{Source: "churn"}, End: timeline.EndDone}
	slot := make([]uint64, m) // each mapping's slot, 2 pages each
	for j := range slot {
		slot[j] = uint64(j)
	}
	next := uint64(m)
	for f := range n {
		for c := range k {
			slot[(f*k+c*7)%m] = next
			next++
		}
		s := &vmmap.Snapshot{Source: "churn", Taken: t0.Add(time.Duration(f) * time.Second),
			Span: vmmap.AddrRange{Start: 0x100000, End: 0x100000 + 0x2000*next}, Granularity: 4096}
		for _, at := range slices.Sorted(slices.Values(slot)) {
			start := 0x100000 + at*0x2000
			s.Regions = append(s.Regions, vmmap.Region{Start: start, End: start + 0x1000, Type: vmmap.PrivateData,
				State: vmmap.StateCommitted, Perms: "rw-p", Committed: 0x1000, Path: fmt.Sprint("[anon:", at%3, "]")})
		}
		tl.Frames = append(tl.Frames, timeline.Frame{Seq: f, Taken: s.Taken, Snapshot: s})
	}
	return tl
}

// TestReportBound: a page whose region data would pass its bound holds
// the maps of the frames before it and of the last, says so, and the
// others keep their figures; the frames stored as differences decode to
// their regions.
func TestReportBound(t *testing.T) {
	tl := churnTimeline(40, 2000, 400)
	var b bytes.Buffer
	frames, err := writeTimelineHTML(&b, "churn.jsonl", framesOf(tl), 400<<10)
	if err != nil || frames != 40 {
		t.Fatalf("%d frames, %v", frames, err)
	}
	m := reportJSON.FindSubmatch(b.Bytes())
	var d reportData
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatal(err)
	}
	var mapped []int
	diffs := 0
	for i, fd := range d.Frames {
		if fd.NoMap {
			if fd.T == "" || fd.VMAs != tl.Frames[i].Snapshot.VMAs {
				t.Errorf("frame %d without map lacks its figures: %+v", i, fd)
			}
			continue
		}
		mapped = append(mapped, i)
		if fd.From != nil {
			diffs++
		}
		if got, want := decodeRegions(t, d, i), tl.Frames[i].Snapshot.Regions; len(got) != len(want) || got[0].Start != want[0].Start ||
			got[len(got)-1].Start != want[len(want)-1].Start {
			t.Errorf("frame %d: %d regions from %#x, want %d from %#x", i, len(got), got[0].Start, len(want), want[0].Start)
		}
	}
	k := len(mapped) - 1
	if k < 2 || mapped[k] != 39 || mapped[k-1] != k-1 || diffs == 0 {
		t.Fatalf("frames with maps %v (%d differences); want a first run and the last", mapped, diffs)
	}
	want := fmt.Sprintf("the page holds the maps of frames 0 to %d and of the last (39), ", k-1)
	if !strings.HasPrefix(d.Bound, want) || !bytes.Contains(b.Bytes(), []byte("Maps: "+want)) ||
		!strings.HasSuffix(d.Bound, "it stops adding maps at 400 KiB (zebra report --max-page), so the other frames show their figures only") {
		t.Errorf("bound %q\nwant it to start %q, and the page to say it", d.Bound, want)
	}
	if len(m[1]) > 400<<10+200<<10 {
		t.Errorf("page data %d B for a bound of 400 KiB and a last frame", len(m[1]))
	}
}

// TestReportSize: a page costs its charts, its figures and each distinct
// region once, however many frames repeat them; the bound is documented
// in the README ("Over time").
func TestReportSize(t *testing.T) {
	demo, err := timeline.Open(demoTimeline(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tl   *timeline.Timeline
		max  int // bytes
	}{
		{"demo", demo, 400 << 10},
		// Frame k holds k mappings: 500,500 regions in all, 1,000 distinct.
		{"1000 frames", synthTimeline(1000, 1), 600 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, _ := reportPage(t, tt.tl)
			t.Logf("%d frames: %d bytes", len(tt.tl.Frames), len(page))
			if len(page) > tt.max {
				t.Errorf("page of %d frames is %d bytes, over %d", len(tt.tl.Frames), len(page), tt.max)
			}
		})
	}
}

// diffText is the diff the page shows from frame a to frame b:
// vmmap.Diff's first reportDiffLines changes and the count of all.
func diffText(tl *timeline.Timeline, a, b int) string {
	if a == b {
		return "the same snapshot"
	}
	cs := vmmap.Diff(tl.Frames[a].Snapshot, tl.Frames[b].Snapshot)
	var s strings.Builder
	for _, c := range cs[:min(len(cs), reportDiffLines)] {
		s.WriteString(c.String() + "\n")
	}
	if len(cs) > reportDiffLines {
		fmt.Fprintf(&s, "… and %d more\n", len(cs)-reportDiffLines)
	}
	s.WriteString(plural(len(cs), "change", "changes"))
	return s.String()
}

// axisText returns the axis labels of an SVG chart, top to bottom order
// as drawn (lowest first).
var axisText = regexp.MustCompile(`<text x="66" y="[0-9.]+" text-anchor="end" class="ax">([^<]*)</text>`)

func TestChartAxisAndLimit(t *testing.T) {
	const tib = 1 << 40
	tests := []struct {
		name         string
		ys           []float64
		bytes        bool
		limit        float64
		want         []string // in the SVG
		notWant      []string
		wantDistinct bool
	}{
		{"free block of 125.6 TiB falling by MiB", []float64{125.6 * tib, 125.6*tib - 8<<20, 125.6*tib - 12<<20}, true, 0,
			[]string{"125.6 TiB", "−"}, nil, true},
		{"ordinary bytes", []float64{1 << 20, 64 << 20}, true, 0, []string{"MiB"}, []string{"−"}, true},
		{"VMAs near the limit", []float64{100, 300, 500}, false, 600,
			[]string{`class="limit"`, "vm.max_map_count 600"}, []string{"far above"}, true},
		{"VMAs far below the limit", []float64{40, 45}, false, 65530,
			[]string{"vm.max_map_count 65530: far above this axis"}, []string{`<line class="limit"`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xs := make([]float64, len(tt.ys))
			for i := range xs {
				xs[i] = float64(i)
			}
			c := chart{xs: xs, lines: []line{{name: "y", ys: tt.ys}}, bytes: tt.bytes, limit: tt.limit, limitName: "vm.max_map_count"}
			svg := string(c.svg())
			for _, w := range tt.want {
				if !strings.Contains(svg, w) {
					t.Errorf("chart lacks %q:\n%s", w, svg)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(svg, w) {
					t.Errorf("chart has %q", w)
				}
			}
			labels := map[string]bool{}
			ms := axisText.FindAllStringSubmatch(svg, -1)
			for _, m := range ms {
				labels[m[1]] = true
			}
			if tt.wantDistinct && (len(labels) != len(ms) || len(ms) < 3) {
				t.Errorf("axis labels %v; want three or more distinct ones", labels)
			}
		})
	}
}

func TestPhases(t *testing.T) {
	tests := []struct {
		labels []string
		want   []phase
	}{
		{nil, nil},
		{[]string{"", ""}, nil},
		{[]string{"a", "a", "b", "b", "a"}, []phase{{0, "a"}, {2, "b"}, {4, "a"}}},
		{[]string{"", "a", "", "b"}, []phase{{1, "a"}, {3, "b"}}},
	}
	for _, tt := range tests {
		if got := phases(tt.labels); !slices.Equal(got, tt.want) {
			t.Errorf("phases(%q) = %v, want %v", tt.labels, got, tt.want)
		}
	}
}

func TestReportErrors(t *testing.T) {
	dir := tempdir.New(t)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"schema":"other"}`+"\n"), 0o644)
	good := filepath.Join(dir, "good.jsonl.gz")
	w, err := timeline.Create(good, timeline.Header{Source: "churn", Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range churnTimeline(5, 300, 5).Frames {
		w.Write(f.Snapshot)
	}
	if err := w.Close(timeline.EndDone); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.jsonl")
	os.WriteFile(newer, []byte(`{"schema":"zebra.timeline/v3"}`+"\n"), 0o644)
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, []byte(`{"schema":"zebra.timeline/v2","source":"x","started":"2026-12-02T14:00:00Z"}`+"\n"), 0o644)
	page := filepath.Join(dir, "x.html")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"past --max-input", []string{good, "--max-input", "1KiB", "-o", page},
			good + ": line 2: timeline too large: more than 1 KiB of text (the reader's cap) (--max-input raises the cap)"},
		{"bad --max-input", []string{good, "--max-input", "lots", "-o", page}, `--max-input "lots": want a size such as 4GiB`},
		{"zero --max-page", []string{good, "--max-page", "0", "-o", page}, `--max-page "0": want a size such as 64MiB`},
		{"newer version", []string{newer, "-o", page},
			newer + `: timeline version not supported: "zebra.timeline/v3" (this zebra reads zebra.timeline/v1 and zebra.timeline/v2)`},
		{"no frame", []string{empty, "-o", page}, empty + ": the timeline holds no snapshot"},
		{"no file", []string{"-o", "x.html"}, "want one timeline"},
		{"no output", []string{bad}, "-o FILE.html"},
		{"not html", []string{bad, "-o", "x.png"}, "-o FILE.html"},
		{"missing", []string{filepath.Join(dir, "none"), "-o", filepath.Join(dir, "x.html")}, "none"},
		{"not a timeline", []string{bad, "-o", filepath.Join(dir, "x.html")}, "not a zebra timeline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runReport(tt.args, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want %q", err, tt.want)
			}
		})
	}
}

var diffPre = regexp.MustCompile(`(?s)<pre id="diff">(.*?)</pre>`)

// TestReportInChromium opens reports in headless Chromium at a frame and a
// pair of frames (report.html#frame=N&from=A&to=B): the page's figures are
// that frame's, the diff its script computes is vmmap.Diff's, to the
// letter, and the map it draws shows the heaps. ZEBRA_SCREENSHOT=FILE
// keeps the screenshot of the demo's report at the frame with the highest
// zebra score (the README's docs/timeline.png is made so). Skipped when
// chromium is not installed.
func TestReportInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	dir := tempdir.New(t)
	demoPath := demoTimeline(t)
	demo, err := timeline.Open(demoPath)
	if err != nil {
		t.Fatal(err)
	}
	best, score := 0, -1
	for i, f := range demo.Frames {
		if z := vmmap.ZebraScore(f.Snapshot); z > score {
			best, score = i, z
		}
	}
	headless := func(args ...string) string {
		t.Helper()
		c := exec.Command(chromium, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--hide-scrollbars", "--window-size=1400,1700",
			"--virtual-time-budget=2000"}, args...)...)
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("chromium: %v\n%s", err, errb.String())
			}
		case <-time.After(90 * time.Second):
			c.Process.Kill()
			t.Fatal("chromium did not finish in 90 s")
		}
		return out.String()
	}
	page := func(name string, tl *timeline.Timeline) string {
		t.Helper()
		path := filepath.Join(dir, name+".html")
		if err := writeAtomically(path, func(w io.Writer) error { return writePage(w, name+".jsonl", tl) }); err != nil {
			t.Fatal(err)
		}
		return path
	}
	demoPage := page("demo", demo)
	churn := churnTimeline(50, 300, 2)
	for _, k := range []int{10, 11} { // unchanged: frame 12 is stored from frame 9
		churn.Frames[k].Snapshot, churn.Frames[k].Same = churn.Frames[9].Snapshot, true
	}
	tests := []struct {
		name            string
		page            string
		tl              *timeline.Timeline
		frame, from, to int
	}{
		{"demo, first to the highest zebra score", demoPage, demo, best, 0, best},
		{"demo, backwards", demoPage, demo, best, best, 0},
		{"demo, a later scenario", demoPage, demo, len(demo.Frames) - 1, best, len(demo.Frames) - 1},
		{"edges", page("edges", edgeTimeline()), edgeTimeline(), 1, 0, 1},
		{"cut at 40 lines", page("cut", synthTimeline(3, 50)), synthTimeline(3, 50), 2, 0, 2},
		// Frames stored as differences in the page, built by the script
		// from the last whole one (frame 0, then 32).
		{"differences", page("churn", churn), churn, 40, 3, 40},
		{"differences, backwards", page("churn", churn), churn, 2, 45, 2},
		{"differences across references", page("churn", churn), churn, 12, 11, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := fmt.Sprintf("file://%s#frame=%d&from=%d&to=%d", tt.page, tt.frame, tt.from, tt.to)
			dom := headless("--dump-dom", url)
			if want := "<td>frame</td><td>" + strconv.Itoa(tt.frame) + " at "; !strings.Contains(dom, want) {
				t.Errorf("the page opened at #frame=%d does not show that frame (no %q)", tt.frame, want)
			}
			m := diffPre.FindStringSubmatch(dom)
			if m == nil {
				t.Fatal("no diff in the page")
			}
			if got, want := html.UnescapeString(m[1]), diffText(tt.tl, tt.from, tt.to); got != want {
				t.Errorf("the page's diff from frame %d to %d:\n%s\nwant (Go's vmmap.Diff):\n%s", tt.from, tt.to, got, want)
			}
		})
	}

	shot := os.Getenv("ZEBRA_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(dir, "shot.png")
	}
	shot, _ = filepath.Abs(shot)
	headless("--screenshot="+shot, fmt.Sprintf("file://%s#frame=%d&from=0&to=%d", demoPage, best, best))
	img := decodePNG(t, shot)
	b := img.Bounds()
	var white, all int
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r > 0xf000 && g > 0xf000 && bl > 0xf000 {
				white++
			}
			all++
		}
	}
	if frac := float64(white) / float64(all); frac > 0.97 || frac < 0.3 {
		t.Errorf("screenshot is %.0f%% white: the page did not draw as expected", 100*frac)
	}
	// The map drawn in the page shows both heaps in their colours.
	for _, heap := range []string{"heap A", "heap B"} {
		if n := countColor(img, timelineColor(t, demoPage, heap)); n < 500 {
			t.Errorf("%d pixels of %s's colour in the screenshot; the map did not draw", n, heap)
		}
	}
}

// UnmarshalJSON reads a row as MarshalJSON writes it.
func (r *regionRow) UnmarshalJSON(b []byte) error {
	var a [10]any
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	num := func(v any) (n uint64) {
		if s, _ := v.(string); s != "" {
			n, _ = strconv.ParseUint(s, 16, 64)
		}
		return n
	}
	idx := func(v any) int32 { f, _ := v.(float64); return int32(f) }
	*r = regionRow{start: num(a[0]), end: num(a[1]), typ: vmmap.Type(idx(a[2])), state: vmmap.State(idx(a[3])),
		owner: idx(a[4]), path: idx(a[5]), base: num(a[6]), committed: num(a[7]), color: idx(a[8]), untouched: idx(a[9]) == 1}
	return nil
}

// ownersOf lists the zebra heaps of tl's snapshots in order of
// appearance, as the page's palette takes them.
func ownersOf(tl *timeline.Timeline) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range tl.Frames {
		for _, o := range vmmap.Owners(f.Snapshot) {
			if !o.System && !seen[o.Owner] {
				seen[o.Owner] = true
				out = append(out, o.Owner)
			}
		}
	}
	return out
}
