package main

import (
	"bytes"
	"encoding/xml"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
)

// anonProc is a procfs fixture with two zebra heaps alternating.
const anonProc = "../../vmmap/testdata/anon/proc"

// TestMapPictures writes every picture format from a captured process and
// checks each file is what its extension promises.
func TestMapPictures(t *testing.T) {
	dir := tempdir.New(t)
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, data []byte)
	}{
		{"png", "map.png", func(t *testing.T, data []byte) {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() < 1024 || b.Dy() < 200 {
				t.Errorf("PNG is only %v", b)
			}
		}},
		{"svg", "map.svg", func(t *testing.T, data []byte) {
			d := xml.NewDecoder(bytes.NewReader(data))
			for {
				if _, err := d.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("SVG is not XML: %v", err)
				}
			}
			if n := bytes.Count(data, []byte(`<g class="region"`)); n < 20 {
				t.Errorf("SVG has %d regions", n)
			}
		}},
		{"html", "MAP.HTML", func(t *testing.T, data []byte) {
			s := string(data)
			for _, want := range []string{"<caption>Summary</caption>", "heap A", "heap B", "<svg"} {
				if !strings.Contains(s, want) {
					t.Errorf("report lacks %q", want)
				}
			}
			if strings.Contains(s, "://") {
				t.Error("report has a URL")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			var stdout, stderr bytes.Buffer
			if code := run([]string{"map", "--proc", anonProc, "-o", path, "4242"}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), "wrote "+path) {
				t.Errorf("stdout %q does not name the file", stdout.String())
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, data)
		})
	}
}

// TestMapPicturesLive is what a new user types: the command's own map as
// HTML and SVG, and a process by PID as PNG. Each file is decoded and
// checked for what any live Go process shows.
func TestMapPicturesLive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("live maps are read from /proc")
	}
	dir := tempdir.New(t)
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, data []byte)
	}{
		{"html of self", []string{"map", "self", "-o", filepath.Join(dir, "map.html")}, func(t *testing.T, data []byte) {
			s := string(data)
			for _, want := range []string{"<caption>Summary</caption>", "</span>Image</td>", "Go heap", "<svg", "</html>"} {
				if !strings.Contains(s, want) {
					t.Errorf("report lacks %q", want)
				}
			}
		}},
		{"svg of self", []string{"map", "self", "-o", filepath.Join(dir, "map.svg")}, func(t *testing.T, data []byte) {
			d := xml.NewDecoder(bytes.NewReader(data))
			root := ""
			for {
				tok, err := d.Token()
				if err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("SVG is not XML: %v", err)
				}
				if se, ok := tok.(xml.StartElement); ok && root == "" {
					root = se.Name.Local
				}
			}
			if root != "svg" {
				t.Errorf("root element %q, want svg", root)
			}
			if n := bytes.Count(data, []byte(`<g class="region"`)); n < 5 {
				t.Errorf("SVG has %d regions", n)
			}
		}},
		{"png by pid", []string{"map", strconv.Itoa(os.Getpid()), "-o", filepath.Join(dir, "map.png")}, func(t *testing.T, data []byte) {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			// The default is 1024 cells a row, plus the address gutter
			// and margins.
			b := img.Bounds()
			if b.Dx() <= render.DefaultWidth || b.Dx() > render.DefaultWidth+400 || b.Dy() < 100 {
				t.Errorf("PNG is %v, want a little over %d wide and at least 100 high", b, render.DefaultWidth)
			}
			// The test binary and libc are committed images: some
			// pixels must have the Image colour.
			want := color.RGBAModel.Convert(vmmap.Image.Color())
			images, white := 0, 0
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					switch color.RGBAModel.Convert(img.At(x, y)) {
					case want:
						images++
					case color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}:
						white++
					}
				}
			}
			if images == 0 || white == b.Dx()*b.Dy() {
				t.Errorf("%d pixels of the Image colour %v, %d white of %d", images, want, white, b.Dx()*b.Dy())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != 0 {
				t.Fatalf("zebra %s: exit %d: %s", strings.Join(tt.args, " "), code, stderr.String())
			}
			data, err := os.ReadFile(tt.args[len(tt.args)-1])
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, data)
		})
	}
}

func TestMapPictureErrors(t *testing.T) {
	dir := tempdir.New(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown extension", []string{"map", "--proc", anonProc, "-o", filepath.Join(dir, "m.gif"), "4242"}, 2, `unknown format ".gif"`},
		{"missing directory", []string{"map", "--proc", anonProc, "-o", filepath.Join(dir, "no", "m.png"), "4242"}, 1, "m.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}
