package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap"
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

func TestReportFromDemo(t *testing.T) {
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
	for _, want := range []string{"VMA count", "Largest free block", "Zebra score", "Stripes per owner",
		"heap A", "data:image/png;base64,", `type="range"`, "largest free block dropped",
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

var reportData = regexp.MustCompile(`const D = (\{.*\});`)

// TestReportDiffTotal: a diff cut to its first lines still counts all its
// changes.
func TestReportDiffTotal(t *testing.T) {
	tests := []struct {
		name             string
		step             int // mappings added per frame
		wantTotal, lines int // of the diff between frames 0 and 1
	}{
		{"short", 3, 3, 3},
		{"cut", 100, 100, reportDiffLines},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeTimelineHTML(&b, "synthetic.jsonl", synthTimeline(3, tt.step)); err != nil {
				t.Fatal(err)
			}
			m := reportData.FindSubmatch(b.Bytes())
			if m == nil {
				t.Fatal("no data in the report")
			}
			var d struct {
				Diffs map[string]diffLines `json:"diffs"`
			}
			if err := json.Unmarshal(m[1], &d); err != nil {
				t.Fatal(err)
			}
			got := d.Diffs["0-1"]
			if got.Total != tt.wantTotal || len(got.Lines) != tt.lines {
				t.Errorf("diff 0-1: total %d, %d lines; want %d, %d", got.Total, len(got.Lines), tt.wantTotal, tt.lines)
			}
		})
	}
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
			c := chart{xs: xs, lines: []line{{"y", tt.ys}}, bytes: tt.bytes, limit: tt.limit, limitName: "vm.max_map_count"}
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
			for _, m := range axisText.FindAllStringSubmatch(svg, -1) {
				labels[m[1]] = true
			}
			if tt.wantDistinct && len(labels) != 3 {
				t.Errorf("axis labels %v; want three distinct ones", labels)
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
	tests := []struct {
		name string
		args []string
		want string
	}{
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

// TestReportInChromium opens the report in headless Chromium at the frame
// with the highest zebra score (report.html#frame=N): the page's figures
// and picture are that frame's, and the screenshot drew. ZEBRA_SCREENSHOT=FILE keeps the screenshot (the README's
// docs/timeline.png is made so). Skipped when chromium is not installed.
func TestReportInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	path := demoTimeline(t)
	dir := tempdir.New(t)
	html := filepath.Join(dir, "timeline.html")
	if err := runReport([]string{path, "-o", html}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	tl, err := timeline.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	best, score := 0, -1
	for i, f := range tl.Frames {
		if z := vmmap.ZebraScore(f.Snapshot); z > score {
			best, score = i, z
		}
	}
	url := "file://" + html + "#frame=" + strconv.Itoa(best)
	shot := os.Getenv("ZEBRA_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(dir, "shot.png")
	}
	shot, _ = filepath.Abs(shot)
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
	dom := headless("--dump-dom", url)
	if want := "<td>frame</td><td>" + strconv.Itoa(best) + " at "; !strings.Contains(dom, want) {
		t.Errorf("the page opened at #frame=%d does not show that frame (no %q)", best, want)
	}
	// The frame's own picture (it has one: it is a drop or evenly picked,
	// or the nearest before it) is the one not hidden.
	shown := regexp.MustCompile(`<img data-frame="(\d+)" src="data:image/png;base64,[^"]*" alt="[^"]*">`).FindAllStringSubmatch(dom, -1)
	if len(shown) != 1 {
		t.Errorf("%d pictures shown at #frame=%d; want one", len(shown), best)
	} else if n, _ := strconv.Atoi(shown[0][1]); n > best {
		t.Errorf("the picture of frame %d is shown at #frame=%d", n, best)
	}
	headless("--screenshot="+shot, url)
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
}
