package heap

import "testing"

func TestSizeText(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0 bytes"},
		{300, "300 bytes"},
		{1023, "1023 bytes"},
		{64 << 10, "64 KiB"},
		{16 << 40, "16 TiB"},
		{16<<40 - 4096, "17592186040320 bytes (16.0 TiB)"},
		{1536 << 10, "1572864 bytes (1.5 MiB)"},
	}
	for _, tt := range tests {
		if got := sizeText(tt.n); got != tt.want {
			t.Errorf("sizeText(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestNoMemoryErrorUnits checks that the no-memory error prints its sizes
// with units rather than as raw byte counts.
func TestNoMemoryErrorUnits(t *testing.T) {
	e := &NoMemoryError{Heap: "h", Op: "alloc", Asked: 400 << 10, Largest: 224 << 10}
	want := `heap "h": alloc 400 KiB: out of memory (the largest request that fits is 224 KiB)`
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
