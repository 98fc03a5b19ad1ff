package main

import (
	"encoding/json"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/internal/tempdir"
)

// TestScreenshots opens the demo's report, the timeline of its recording
// (zebra report) and a `map -o .html` page in headless Chromium at 1400 and
// 800 px wide (scripts/screenshot) and checks that the pages render: the
// pictures' heap colours show at both widths (in the timeline, the map its
// script draws of the last frame).
// It skips when Chromium is not installed; .ci/run installs it. Set
// ZEBRA_SCREENSHOTS=DIR to keep the PNGs for a look.
func TestScreenshots(t *testing.T) {
	browser := os.Getenv("CHROMIUM")
	if browser == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				browser = p
				break
			}
		}
	}
	if browser == "" || testing.Short() {
		t.Skip("no chromium (apt-get install chromium), or -short")
	}
	if runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		t.Skip("a 32-bit process cannot hold the windows of the demo")
	}
	dir := tempdir.New(t)
	shots := os.Getenv("ZEBRA_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(dir, "shots")
	}
	rec := filepath.Join(dir, "demo.jsonl.gz")
	if code := run([]string{"demo", "--no-progress", "--total", "64MiB", "--out", filepath.Join(dir, "demo"), "--record", rec}, io.Discard, os.Stderr); code != 0 {
		t.Fatalf("demo exit %d", code)
	}
	timelinePage := filepath.Join(dir, "timeline.html")
	if code := run([]string{"report", rec, "-o", timelinePage}, io.Discard, os.Stderr); code != 0 {
		t.Fatalf("report exit %d", code)
	}
	if code := run([]string{"map", "--proc", anonFixture, "-o", filepath.Join(dir, "map.html"), "4242"}, io.Discard, os.Stderr); code != 0 {
		t.Fatalf("map exit %d", code)
	}
	// The demo's survivor is heap B, drawn in the first shade; the map's
	// fixture has heap A first; the timeline's last frame has heap B, in
	// the shade its data names.
	vermilion := [3]uint8{0xD5, 0x5E, 0x00}
	pages := []struct {
		path   string
		color  [3]uint8
		height string // of the screenshot: the timeline's map is below its charts
	}{
		{filepath.Join(dir, "demo", "report.html"), vermilion, "1400"},
		{filepath.Join(dir, "map.html"), vermilion, "1400"},
		{timelinePage, timelineColor(t, timelinePage, "heap B"), "3600"},
	}
	for _, pg := range pages {
		page := pg.path
		cmd := exec.Command("../../scripts/screenshot", page, shots, pg.height)
		cmd.Env = append(os.Environ(), "CHROMIUM="+browser)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("scripts/screenshot %s: %v\n%s", page, err, out)
		}
		name := filepath.Base(page[:len(page)-len(".html")])
		for _, width := range []int{1400, 800} {
			img := decodePNG(t, filepath.Join(shots, name+"-"+strconv.Itoa(width)+".png"))
			if img.Bounds().Dx() != width {
				t.Errorf("%s at %d px: screenshot is %d px wide", name, width, img.Bounds().Dx())
			}
			if n := countColor(img, pg.color); n < 500 {
				t.Errorf("%s at %d px: %d pixels of the first heap's colour; the pictures did not render", name, width, n)
			}
		}
	}
}

// timelineColor returns the colour of a legend name in a timeline page's
// data.
func timelineColor(t *testing.T, page, name string) [3]uint8 {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	m := reportJSON.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no data", page)
	}
	var d reportData
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Colors {
		if v, err := strconv.ParseUint(strings.TrimPrefix(c[0], "#"), 16, 32); err == nil && c[1] == name {
			return [3]uint8{uint8(v >> 16), uint8(v >> 8), uint8(v)}
		}
	}
	t.Fatalf("%s: no colour for %q", page, name)
	return [3]uint8{}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// countColor counts the pixels within a few levels of c (Chromium's colour
// management may shift a channel by one or two).
func countColor(img image.Image, c [3]uint8) int {
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d >= -3 && d <= 3 }
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, c[0]) && near(g, c[1]) && near(bl, c[2]) {
				n++
			}
		}
	}
	return n
}
