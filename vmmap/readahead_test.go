package vmmap

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAhead: what readAhead reads is what its reader holds, in order,
// whatever the sizes of the reads on either side; the reader's error
// comes after its data; Close before the end stops the goroutine.
func TestReadAhead(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 3*readAheadChunk/16+7)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		want    string
		wantErr error
	}{
		{"empty", strings.NewReader(""), "", nil},
		{"short", strings.NewReader("abc"), "abc", nil},
		{"several chunks", strings.NewReader(long), long, nil},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader("hello, world")), "hello, world", nil},
		{"error after data", io.MultiReader(strings.NewReader("data"), iotest.ErrReader(boom)), "data", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ra := newReadAhead(tt.r)
			defer ra.Close()
			var got bytes.Buffer
			_, err := io.Copy(&got, iotest.HalfReader(ra))
			if got.String() != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("read %d bytes, %v; want %d, %v", got.Len(), err, len(tt.want), tt.wantErr)
			}
		})
	}
	ra := newReadAhead(strings.NewReader(long))
	buf := make([]byte, 10)
	if _, err := ra.Read(buf); err != nil {
		t.Fatal(err)
	}
	ra.Close() // with chunks unread: must not block or leak
}
