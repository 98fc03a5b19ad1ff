package units

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		in   uint64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{150 << 20, "150 MiB"},
		{2<<30 - 128<<10, "2.0 GiB"},
		{1 << 60, "1 EiB"},
		{^uint64(0), "16 EiB"},
		{1<<20 - 1, "1.0 MiB"},
		{536866816, "512.0 MiB"},
	}
	for _, tt := range tests {
		if got := Bytes(tt.in); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"300", 300, false},
		{" 300 ", 300, false},
		{"150MiB", 150 << 20, false},
		{"150 MiB", 150 << 20, false},
		{"64k", 64000, false},
		{"64KB", 64000, false},
		{"64Ki", 64 << 10, false},
		{"200MB", 200e6, false}, // SI, as go-humanize reads it; was 200 MiB
		{"200mib", 200 << 20, false},
		{"1.5GB", 15e8, false},
		{"1.5GiB", 3 << 29, false},
		{"2g", 2e9, false},
		{"2gi", 2 << 30, false},
		{"1t", 1e12, false},
		{"16EiB", 0, true},
		{"19EB", 0, true},
		{"18446744073709551615B", 1<<64 - 1, false},
		{"0", 0, false},
		{"12b", 12, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"-5", 0, true},
		{"+5", 0, true},
		{"1.5", 0, true},    // not a whole number of bytes
		{"0.1KiB", 0, true}, // 102.4 bytes
		{"3 parsecs", 0, true},
		{"1.2.3", 0, true},
		{"18446744073709551616", 0, true},
		{"16777216TiB", 0, true},
		{"1e300", 0, true},
		{"NaN", 0, true},
		{"1e3", 0, true},
		{"0x10", 0, true},
		{"1.", 0, true},
		{".5k", 0, true},
		{"1_000", 0, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error %v does not wrap ErrSyntax", tt.in, err)
		}
	}
}

// FuzzParse checks that Parse never panics, and that what Bytes prints
// parses back: exactly when it has no decimals, within 5% when it has one.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"300", "150MiB", "1.5 GiB", "-1", "1e9", "9999999999999999999999k", "1024t", "15.9e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		text := Bytes(n)
		back, err := Parse(text)
		switch {
		case strings.Contains(text, "."):
			if err == nil && (float64(back) < 0.95*float64(n) || float64(back) > 1.05*float64(n)) {
				t.Errorf("Parse(%q) = %d prints as %q, which parses back as %d", s, n, text, back)
			}
		case err != nil || back != n:
			t.Errorf("Parse(%q) = %d prints as %q, which parses back as %d, %v", s, n, text, back, err)
		}
	})
}

func ExampleParse() {
	n, _ := Parse("150MiB")
	fmt.Println(n, Bytes(n))
	// Output: 157286400 150 MiB
}
