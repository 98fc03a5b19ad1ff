package zebrahttp

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/zebra-heap/zebra/vmmap"
)

// TestHostileNames: a process named with escape sequences and a mapped
// file whose name is not UTF-8 are shown escaped on every page for people
// (map.svg, map.html; the index's heap names are HTML-escaped), never raw; the JSON pages carry
// no raw control byte; the timeline keeps the exact bytes (cmd/zebra's
// TestHostileNames covers the other outputs).
func TestHostileNames(t *testing.T) {
	const name, path = "\x1b[2J\x1b]0;pwn\x07", "/tmp/\x1b]0;pwn\x07\xff.so"
	newHeaps(t, "heap <b>&") // heap.New refuses control characters
	s := fakeSnapshot(t, 20)
	s.Source, s.Command = "linux pid 1 ("+name+")", name
	s.Regions[3].Path = path
	h := newHandler(Options{Path: "/"}, func() (*vmmap.Snapshot, error) { return s, nil })
	srv := httptest.NewServer(h)
	defer srv.Close()
	tests := []struct {
		page  string
		shown string // "" for JSON
	}{
		{"", `heap &lt;b&gt;&amp;`},
		{"heaps.json", ""},
		{"map.svg", `\x1b[2J\x1b]0;pwn\x07`},
		{"map.html", `/tmp/\x1b]0;pwn\x07\xff.so`},
		{"snapshot.json", ""},
		{"leaks.txt", "heap heap <b>&\n"},
	}
	for _, tt := range tests {
		t.Run("/"+tt.page, func(t *testing.T) {
			_, body := get(t, srv.URL+"/"+tt.page)
			if bytes.IndexByte(body, 0x1b) >= 0 || bytes.IndexByte(body, 0x07) >= 0 || !utf8.Valid(body) {
				t.Errorf("raw hostile bytes in /%s", tt.page)
			}
			if !bytes.Contains(body, []byte(tt.shown)) {
				t.Errorf("/%s does not show %q", tt.page, tt.shown)
			}
		})
	}
	_, body := get(t, srv.URL+"/timeline.jsonl.gz")
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.IndexByte(raw, 0x1b) >= 0 || !bytes.Contains(raw, []byte(`"pathBytes"`)) {
		t.Errorf("the timeline holds raw control bytes or lost the path's bytes")
	}
}
