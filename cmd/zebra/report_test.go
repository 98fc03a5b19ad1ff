package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// demoTimeline records a small demo (emulated win32 window) and returns the
// timeline's path.
func demoTimeline(t *testing.T) string {
	t.Helper()
	path := filepath.Join(tempDir(t), "demo.jsonl.gz")
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
	html := filepath.Join(tempDir(t), "timeline.html")
	var out bytes.Buffer
	if err := runReport([]string{path, "-o", html}, &out, &out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"VMA count", "Largest free block", "Zebra score", "Stripes per owner",
		"heap A", "data:image/png;base64,", `type="range"`, "largest free block dropped"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	if m := externalURL.Find(b); m != nil {
		t.Errorf("report holds an external reference %q", m)
	}
}

func TestReportErrors(t *testing.T) {
	dir := tempDir(t)
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

// TestReportInChromium opens the report in headless Chromium and takes a
// screenshot; it checks that the page drew (the picture is mostly but not
// all white). ZEBRA_SCREENSHOT=FILE keeps the screenshot (the README's
// docs/timeline.png is made so). Skipped when chromium is not installed.
func TestReportInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	path := demoTimeline(t)
	dir := tempDir(t)
	html := filepath.Join(dir, "timeline.html")
	if err := runReport([]string{path, "-o", html}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	shot := os.Getenv("ZEBRA_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(dir, "shot.png")
	}
	shot, _ = filepath.Abs(shot)
	c := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--hide-scrollbars", "--window-size=1400,1700",
		"--virtual-time-budget=2000", "--screenshot="+shot, "file://"+html)
	done := make(chan error, 1)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, out.String())
		}
	case <-time.After(90 * time.Second):
		c.Process.Kill()
		t.Fatal("chromium did not finish in 90 s")
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
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
