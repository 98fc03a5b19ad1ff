package main

import (
	"slices"
	"strings"
	"testing"
)

// TestNiceTicks: chart axes tick at round values in the series' unit,
// integers for counts; a constant series gets an axis around its value.
func TestNiceTicks(t *testing.T) {
	const tib = 1 << 40
	tests := []struct {
		name    string
		lo, hi  float64
		bytes   bool
		want    []string
		wantLen [2]int // when want is nil: the number of ticks, at least and at most
	}{
		{"VMAs 65,800 to 65,830", 65800, 65830, false, []string{"65800", "65810", "65820", "65830"}, [2]int{}},
		{"VMAs 337 to 338", 337, 338, false, []string{"337", "338"}, [2]int{}},
		{"constant VMA count", 65810, 65810, false, []string{"55000", "60000", "65000", "70000", "75000", "80000"}, [2]int{}},
		{"constant zero", 0, 0, false, []string{"0", "1"}, [2]int{}},
		{"constant 41.9 TiB", 41.9 * tib, 41.9 * tib, true, []string{"40.5 TiB", "41 TiB", "41.5 TiB", "42 TiB", "42.5 TiB", "43 TiB"}, [2]int{}},
		{"0 to 3 MiB", 0, 3 << 20, true, []string{"0 B", "1 MiB", "2 MiB", "3 MiB"}, [2]int{}},
		{"a free block of 125.6 TiB moving by MiB", 125.6*tib - 3<<20, 125.6 * tib, true, nil, [2]int{3, 6}},
		{"constant 100 B", 100, 100, true, []string{"99 B", "100 B", "101 B"}, [2]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks := niceTicks(tt.lo, tt.hi, tt.bytes)
			got := axisLabels(ticks, tt.bytes)
			if ticks[0] > tt.lo || ticks[len(ticks)-1] < tt.hi || ticks[0] < 0 {
				t.Errorf("ticks %v do not hold [%v, %v] from 0 up", ticks, tt.lo, tt.hi)
			}
			if !slices.IsSorted(ticks) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("labels %q are not distinct and in order", got)
			}
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("labels %q, want %q", got, tt.want)
			}
			if tt.want == nil && (len(got) < tt.wantLen[0] || len(got) > tt.wantLen[1]) {
				t.Errorf("%d labels %q", len(got), got)
			}
			for _, l := range got {
				if strings.ContainsAny(l, "e.") && !tt.bytes || strings.HasPrefix(l, "-") {
					t.Errorf("label %q", l)
				}
			}
		})
	}
}

// TestChartOneFrame: a chart of a single frame draws its value as a dot.
func TestChartOneFrame(t *testing.T) {
	c := chart{xs: []float64{0}, lines: []line{{name: "VMAs", ys: []float64{42}}}}
	if svg := string(c.svg()); !strings.Contains(svg, `<circle class="dot"`) {
		t.Errorf("no dot in the chart of one frame:\n%s", svg)
	}
	c.xs, c.lines[0].ys = []float64{0, 1}, []float64{42, 43}
	if svg := string(c.svg()); strings.Contains(svg, `<circle class="dot"`) {
		t.Errorf("a dot in a chart of two frames")
	}
}
