package render

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestPNGLabelsHostile: the PNG's text (title, caption, facts, ruler,
// bands, legend) shows a hostile process name and heap name escaped, as
// the other outputs do (cmd/zebra's TestHostileNames), and draws no
// control character or invalid byte as a glyph.
func TestPNGLabelsHostile(t *testing.T) {
	const name, heap = "\x1b[2J\x1b]0;pwn\x07", "A\x1b]0;pwn\x07\xff"
	tests := []struct {
		name  string
		opt   Options
		title string // the title drawn
	}{
		{"source as title", Options{}, `linux pid 1 (\x1b[2J\x1b]0;pwn\x07)`},
		{"caller's title", Options{Title: "zebra map: " + name, Owners: []string{heap}}, `zebra map: \x1b[2J\x1b]0;pwn\x07`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := zebraFixture(false)
			s.Source = "linux pid 1 (" + name + ")"
			for i, r := range s.Regions {
				if r.Owner == "A" {
					s.Regions[i].Owner = heap
				}
			}
			_, g, err := drawPNG(s, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			texts := []string{g.title, g.caption, g.facts}
			for _, l := range append(g.addrs, g.bands...) {
				texts = append(texts, l.text)
			}
			legend := ""
			for _, it := range g.legend {
				texts = append(texts, it.text)
				legend += it.text + "|"
			}
			for _, x := range texts {
				if !utf8.ValidString(x) || strings.ContainsFunc(x, func(r rune) bool { return !unicode.IsPrint(r) }) {
					t.Errorf("the PNG draws %q", x)
				}
			}
			if g.title != tt.title {
				t.Errorf("title %q, want %q", g.title, tt.title)
			}
			if !strings.Contains(legend, `A\x1b]0;pwn\x07\xff`) {
				t.Errorf("the legend (%s) does not name the heap escaped", legend)
			}
			var b bytes.Buffer
			if err := PNG(&b, s, tt.opt); err != nil {
				t.Fatal(err)
			}
		})
	}
}
