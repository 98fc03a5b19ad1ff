package heap

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestOptionsContradictions checks that each contradictory combination of
// options is refused with one error naming both fields and their values
// with units.
func TestOptionsContradictions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string // substrings of the error; nil means accepted
	}{
		{"commit above reserve", Options{Reserve: 1 << 20, Commit: 2 << 20},
			[]string{"Options.Commit (2 MiB)", "Options.Reserve (1 MiB)"}},
		{"commit above maximum", Options{Maximum: 1 << 20, Commit: 3 << 20},
			[]string{"Options.Commit (3 MiB)", "Options.Maximum (1 MiB)"}},
		{"reserve above maximum", Options{Maximum: 1 << 20, Reserve: 2 << 20},
			[]string{"Options.Reserve (2 MiB)", "Options.Maximum (1 MiB)"}},
		{"cap below segment reserve", Options{SegmentReserve: 4 << 20, SegmentCap: 1 << 20},
			[]string{"Options.SegmentCap (1 MiB)", "Options.SegmentReserve (4 MiB)"}},
		{"cap below default segment reserve", Options{SegmentCap: 512 << 10},
			[]string{"Options.SegmentCap (512 KiB)", "Options.SegmentReserve (default 1 MiB)"}},
		{"nt default cap below segment reserve", Options{Policy: NT, SegmentReserve: 16 << 20},
			[]string{"Options.SegmentCap (default 8 MiB)", "Options.SegmentReserve (16 MiB)"}},
		{"huge block in a fixed heap", Options{Maximum: 4 << 20, HugeBlock: 1 << 20},
			[]string{"Options.HugeBlock (1 MiB)", "Options.Maximum (4 MiB)"}},
		{"segment reserve in a fixed heap", Options{Maximum: 4 << 20, SegmentReserve: 1 << 20},
			[]string{"Options.SegmentReserve (1 MiB)", "Options.Maximum (4 MiB)"}},
		{"segment cap in a fixed heap", Options{Maximum: 4 << 20, SegmentCap: 8 << 20},
			[]string{"Options.SegmentCap (8 MiB)", "Options.Maximum (4 MiB)"}},
		{"odd sizes keep their bytes", Options{Reserve: 1<<20 + 1, Commit: 1<<20 + 2},
			[]string{"Options.Commit (1048578 bytes (1.0 MiB))", "Options.Reserve (1048577 bytes (1.0 MiB))"}},

		{"commit above segment reserve grows the first segment", Options{Commit: 3 << 20}, nil},
		{"commit equal to reserve", Options{Reserve: 1 << 20, Commit: 1 << 20}, nil},
		{"cap equal to segment reserve", Options{SegmentReserve: 2 << 20, SegmentCap: 2 << 20}, nil},
		{"fixed heap never huge", Options{Maximum: 4 << 20, HugeBlock: math.MaxInt}, nil},
	}
	for _, tt := range tests {
		_, err := tt.o.config()
		if tt.want == nil {
			if err != nil {
				t.Errorf("%s: %v, want accepted", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidSize) {
			t.Errorf("%s: err = %v, want ErrInvalidSize", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not name %q", tt.name, err, w)
			}
		}
	}
}
