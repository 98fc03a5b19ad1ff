package render

import (
	"io"
	"math/rand/v2"
	"testing"

	"github.com/zebra-heap/zebra/vmmap"
)

// manyRegions builds a 64-bit process with n regions: clusters of
// libraries, heaps and stacks separated by gaps, some of them terabytes.
func manyRegions(n int) *vmmap.Snapshot {
	rng := rand.New(rand.NewPCG(1, 2))
	types := []vmmap.Type{vmmap.Image, vmmap.MappedFile, vmmap.Heap, vmmap.PrivateData, vmmap.Stack, vmmap.GoHeap, vmmap.Shareable}
	var rs []vmmap.Region
	at := uint64(0x5555_0000_0000)
	for len(rs) < n {
		switch rng.IntN(100) {
		case 0:
			at += 1 << 40 // a terabyte gap
		case 1, 2, 3, 4, 5, 6, 7, 8, 9:
			at += uint64(rng.IntN(256)+1) << 12
		}
		size := uint64(rng.IntN(64)+1) << 12
		if rng.IntN(20) == 0 {
			size <<= 8
		}
		r := vmmap.Region{Start: at, End: at + size, Type: types[rng.IntN(len(types))], State: vmmap.StateCommitted, RSS: size / 2}
		if rng.IntN(4) == 0 {
			r.State = vmmap.StateReserved
		}
		if r.Type == vmmap.Heap {
			r.Owner = []string{"A", "B", "C", ""}[rng.IntN(4)]
		}
		rs = append(rs, r)
		at += size
	}
	lo, hi := rs[0].Start, rs[len(rs)-1].End
	s := &vmmap.Snapshot{Source: "synthetic", Span: vmmap.AddrRange{Start: lo, End: hi}, Regions: withFree(rs, lo, hi)}
	return s
}

func benchmarkFormat(b *testing.B, write func(io.Writer, *vmmap.Snapshot) error) {
	s := manyRegions(5000)
	b.ReportAllocs()
	for b.Loop() {
		if err := write(io.Discard, s); err != nil {
			b.Fatal(err)
		}
	}
}

// The issue asks for under a second for 5,000 regions, per format.
func BenchmarkPNG5000(b *testing.B) {
	benchmarkFormat(b, func(w io.Writer, s *vmmap.Snapshot) error { return PNG(w, s, Options{}) })
}

func BenchmarkSVG5000(b *testing.B) {
	benchmarkFormat(b, func(w io.Writer, s *vmmap.Snapshot) error { return SVG(w, s, Options{}) })
}

func BenchmarkHTML5000(b *testing.B) {
	benchmarkFormat(b, func(w io.Writer, s *vmmap.Snapshot) error {
		return HTML(w, Report{Title: "bench", Sections: []Section{{Snapshots: []Labelled{{"", s}}}}})
	})
}

func BenchmarkHTMLPair5000(b *testing.B) {
	after := manyRegions(5000)
	for i := range after.Regions {
		if after.Regions[i].Owner == "A" {
			after.Regions[i].Type, after.Regions[i].Owner = vmmap.Free, ""
		}
	}
	benchmarkFormat(b, func(w io.Writer, s *vmmap.Snapshot) error {
		return HTML(w, Report{Title: "bench", Sections: []Section{{Snapshots: []Labelled{{"before", s}, {"after", after}}}}})
	})
}

func TestManyRegions(t *testing.T) {
	s := manyRegions(5000)
	if len(s.Regions) < 5000 {
		t.Fatalf("%d regions", len(s.Regions))
	}
	img, g := renderPNG(t, s, Options{})
	if len(g.l.bands) == 0 {
		t.Error("no fold in a space with terabyte gaps")
	}
	_ = img
}
