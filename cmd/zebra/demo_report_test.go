package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/tempdir"
)

// svgRegion is one region of a picture of the HTML report: its colour, the
// state its tooltip names and its owner.
var svgRegion = regexp.MustCompile(`<g class="region" fill="(#[0-9A-F]{6})"><title>[^<]*?Heap \((\w+)\)&#xA;owner: ([^&<]*)&#xA;`)

// TestDemoReportOneColourPerOwner: every picture of a report, the HTML's
// and the PNG files, draws an owner in one colour: heap B's metadata keeps
// its colour after heap A is destroyed, heap B keeps its own, and no two
// owners share one (issue 13, defect 2: heap B's metadata took heap A's
// metadata colour in the "after" pictures).
func TestDemoReportOneColourPerOwner(t *testing.T) {
	if runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		t.Skip("a 32-bit process cannot hold the windows of the demo")
	}
	for _, args := range [][]string{
		{"--total", "24MiB"},
		{"--total", "24MiB", "--heaps", "3"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			c := defaultDemo(t, append(args, "--out", tempdir.New(t))...)
			scs := demoScenarios(c)
			var results []result
			for _, sc := range scs {
				r, err := runScenario(c, sc, nil)
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, r)
			}
			path, err := writeReport(c, scs, results)
			if err != nil {
				t.Fatal(err)
			}
			html, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// owner and state -> the colours drawn, and how many pictures
			// show it.
			fills := map[string]map[string]bool{}
			pictures := map[string]int{}
			for _, svg := range strings.Split(string(html), "<svg")[1:] {
				seen := map[string]bool{}
				for _, m := range svgRegion.FindAllStringSubmatch(svg, -1) {
					key := m[3] + ", " + m[2]
					if fills[key] == nil {
						fills[key] = map[string]bool{}
					}
					fills[key][m[1]] = true
					seen[m[3]] = true
				}
				for o := range seen {
					pictures[o]++
				}
			}
			survivor, meta := heapName(c.heaps-1), heap.MetadataOwner(heapName(c.heaps-1))
			if pictures[meta] < 2*len(scs) || pictures[survivor] < 2*len(scs) {
				t.Fatalf("%s is in %d pictures and %s in %d; want both before and after in every scenario",
					meta, pictures[meta], survivor, pictures[survivor])
			}
			byColour := map[string]string{}
			for key, cs := range fills {
				if len(cs) != 1 {
					t.Errorf("%s is drawn in %d colours across the report: %v", key, len(cs), cs)
				}
				for c := range cs {
					if other, ok := byColour[c]; ok {
						t.Errorf("%s and %s are both drawn %s", key, other, c)
					}
					byColour[c] = key
				}
			}
			// The PNG files are drawn apart from the HTML: each shows its
			// heaps in the HTML's colours.
			for _, sc := range scs {
				for _, shot := range []string{"before", "after"} {
					img := decodePNG(t, filepath.Join(c.out, sc.key+"-"+shot+".png"))
					for _, o := range []string{survivor, meta} {
						for c := range fills[o+", committed"] {
							if countColor(img, rgbOf(t, c)) == 0 {
								t.Errorf("%s-%s.png does not draw %s in %s, the report's colour", sc.key, shot, o, c)
							}
						}
					}
				}
			}
		})
	}
}

// rgbOf reads "#RRGGBB".
func rgbOf(t *testing.T, hex string) [3]uint8 {
	t.Helper()
	var c [3]uint8
	if _, err := fmt.Sscanf(hex, "#%02X%02X%02X", &c[0], &c[1], &c[2]); err != nil {
		t.Fatalf("colour %q: %v", hex, err)
	}
	return c
}
