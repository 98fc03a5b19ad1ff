package main

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		in   []float64
		want summary
	}{
		{[]float64{3}, summary{3, 3, 3}},
		{[]float64{5, 1, 3}, summary{3, 1, 5}},
		{[]float64{4, 1, 3, 2}, summary{2.5, 1, 4}},
	}
	for _, tt := range tests {
		if got := summarize(tt.in); got != tt.want {
			t.Errorf("summarize(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := summarize(nil); !math.IsNaN(got.med) {
		t.Errorf("summarize(nil) = %v, want NaN", got)
	}
}

func TestQuantile(t *testing.T) {
	buckets := []float64{0, 1, 2, 3, math.Inf(1)}
	tests := []struct {
		name   string
		counts []uint64
		q      float64
		want   float64
	}{
		{"none", []uint64{0, 0, 0, 0}, 0.99, 0},
		{"all in the first", []uint64{10, 0, 0, 0}, 0.99, 1},
		{"tail bucket", []uint64{98, 1, 0, 1}, 0.99, 2},
		{"open top bucket", []uint64{0, 0, 0, 5}, 0.99, 3},
		{"median", []uint64{1, 1, 1, 1}, 0.5, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(buckets, tt.counts, tt.q); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseSizes(t *testing.T) {
	got, err := parseSizes([]string{"16:100", "4194304:2"})
	if err != nil || len(got) != 2 || got[1] != [2]int{4 << 20, 2} {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"16", "x:1", "16:0", "0:5", "-1:5"} {
		if _, err := parseSizes([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
