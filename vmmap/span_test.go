package vmmap

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    AddrRange
		wantErr error
	}{
		{"hex with prefixes", "0x1000-0x2000", AddrRange{0x1000, 0x2000}, nil},
		{"maps style", "7f0000000000-7f0000200000", AddrRange{0x7f0000000000, 0x7f0000200000}, nil},
		{"spaces", " 0x10 - 0x20 ", AddrRange{0x10, 0x20}, nil},
		{"top of 64 bits", "0-ffffffffffffffff", AddrRange{0, 0xffffffffffffffff}, nil},
		{"empty", "0x1000-0x1000", AddrRange{}, ErrRange},
		{"reversed", "0x2000-0x1000", AddrRange{}, ErrRange},
		{"no dash", "0x1000", AddrRange{}, ErrRange},
		{"not hex", "0x1000-0xg", AddrRange{}, ErrRange},
		{"negative", "-1-0x10", AddrRange{}, ErrRange},
		{"overflow", "0-10000000000000000", AddrRange{}, ErrRange},
		{"blank", "", AddrRange{}, ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRange(tt.input)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("ParseRange(%q) = %v, %v; want %v, %v", tt.input, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestWithSpan(t *testing.T) {
	const unit = 0x1000
	s := layout(t, "AA..BBBB..", 0x10000, unit)
	s.Regions[0].RSS = unit
	tests := []struct {
		name      string
		span      AddrRange
		wantErr   error
		regions   int
		free      uint64 // free bytes in the new span
		heapBytes uint64
	}{
		{"whole", s.Span, nil, 8, 4 * unit, 6 * unit},
		{"inside B", AddrRange{0x10000 + 5*unit, 0x10000 + 7*unit}, nil, 2, 0, 2 * unit},
		{"cuts A and B", AddrRange{0x10000 + unit, 0x10000 + 5*unit}, nil, 3, 2 * unit, 2 * unit},
		{"beyond the snapshot", AddrRange{0x10000 + 8*unit, 0x10000 + 20*unit}, nil, 1, 12 * unit, 0},
		{"empty", AddrRange{0x20000, 0x20000}, ErrRange, 0, 0, 0},
		{"reversed", AddrRange{0x20000, 0x10000}, ErrRange, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.WithSpan(tt.span)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WithSpan(%v) error %v, want %v", tt.span, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
			if got.Span != tt.span || len(got.Regions) != tt.regions {
				t.Errorf("span %v, %d regions; want %v, %d", got.Span, len(got.Regions), tt.span, tt.regions)
			}
			sum := Summarize(got)
			if sum.Row(Free).Size != tt.free || sum.Row(Heap).Size != tt.heapBytes {
				t.Errorf("free %#x heap %#x, want %#x %#x", sum.Row(Free).Size, sum.Row(Heap).Size, tt.free, tt.heapBytes)
			}
			for _, r := range got.Regions {
				if r.RSS > r.Size() || r.Committed > r.Size() {
					t.Errorf("clipped region %v-%v keeps RSS %d committed %d", r.Start, r.End, r.RSS, r.Committed)
				}
			}
		})
	}
	if len(s.Regions) != 8 || s.Span != (AddrRange{0x10000, 0x10000 + 10*unit}) {
		t.Errorf("WithSpan changed the original: %d regions, span %v", len(s.Regions), s.Span)
	}
}

func TestMulDiv(t *testing.T) {
	tests := []struct{ v, n, d, want uint64 }{
		{0x10000, 1, 2, 0x8000},
		{1 << 63, 1 << 62, 1 << 63, 1 << 62},
		{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0) &^ 0xfff},
		{0x1000, 3, 0, 0},
	}
	for _, tt := range tests {
		if got := mulDiv(tt.v, tt.n, tt.d); got != tt.want {
			t.Errorf("mulDiv(%#x, %#x, %#x) = %#x, want %#x", tt.v, tt.n, tt.d, got, tt.want)
		}
	}
}

func TestNormalized(t *testing.T) {
	img := func(start, end uint64) Region {
		return Region{Start: start, End: end, Type: Image, State: StateCommitted}
	}
	tests := []struct {
		name        string
		input       Snapshot
		want        []AddrRange // regions of the result
		wantTypes   string      // Type.Letter of each
		wantSpan    AddrRange
		wantOutside int
		wantErr     error
	}{
		{"clip, drop and fill", Snapshot{Span: AddrRange{0x2000, 0x9000}, Regions: []Region{
			img(0x1000, 0x3000), img(0x5000, 0x6000), img(0xa000, 0xb000)}},
			[]AddrRange{{0x2000, 0x3000}, {0x3000, 0x5000}, {0x5000, 0x6000}, {0x6000, 0x9000}}, "I.I.",
			AddrRange{0x2000, 0x9000}, 1, nil},
		{"empty span: the regions' own range", Snapshot{Regions: []Region{img(0x1000, 0x2000), img(0x4000, 0x5000)}},
			[]AddrRange{{0x1000, 0x2000}, {0x2000, 0x4000}, {0x4000, 0x5000}}, "I.I", AddrRange{0x1000, 0x5000}, 0, nil},
		{"span only", Snapshot{Span: AddrRange{0x1000, 0x2000}}, []AddrRange{{0x1000, 0x2000}}, ".", AddrRange{0x1000, 0x2000}, 0, nil},
		{"nothing", Snapshot{}, nil, "", AddrRange{}, 0, nil},
		{"empty region", Snapshot{Regions: []Region{img(0x1000, 0x1000)}}, nil, "", AddrRange{}, 0, ErrParse},
		{"overlap", Snapshot{Regions: []Region{img(0x1000, 0x3000), img(0x2000, 0x4000)}}, nil, "", AddrRange{}, 0, ErrParse},
		{"out of order", Snapshot{Regions: []Region{img(0x5000, 0x6000), img(0x1000, 0x2000)}}, nil, "", AddrRange{}, 0, ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := tt.input.OutsideSpan(); n != tt.wantOutside {
				t.Errorf("OutsideSpan = %d, want %d", n, tt.wantOutside)
			}
			got, err := tt.input.Normalized()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var rs []AddrRange
			var types []byte
			for _, r := range got.Regions {
				rs = append(rs, AddrRange{r.Start, r.End})
				types = append(types, r.Type.Letter())
			}
			if fmt.Sprint(rs) != fmt.Sprint(tt.want) || string(types) != tt.wantTypes || got.Span != tt.wantSpan {
				t.Errorf("Normalized = %v %q span %v, want %v %q span %v", rs, types, got.Span, tt.want, tt.wantTypes, tt.wantSpan)
			}
		})
	}
}
