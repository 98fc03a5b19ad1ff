package render

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/vmmap"
)

// svgRegions parses an SVG document and returns the tooltip of every
// region group, failing the test if the XML is malformed or a group has
// not exactly one title.
func svgRegions(t *testing.T, doc []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var tips []string
	depth, regionDepth, titles := 0, -1, 0
	var inTitle bool
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if e.Name.Local == "g" && attr(e, "class") == "region" {
				regionDepth, titles = depth, 0
			}
			if e.Name.Local == "title" && depth == regionDepth+1 {
				inTitle = true
				text.Reset()
			}
		case xml.CharData:
			if inTitle {
				text.Write(e)
			}
		case xml.EndElement:
			if inTitle && e.Name.Local == "title" {
				inTitle = false
				titles++
				tips = append(tips, text.String())
			}
			if depth == regionDepth {
				if titles != 1 {
					t.Errorf("region group %d has %d titles", len(tips), titles)
				}
				regionDepth = -1
			}
			depth--
		}
	}
	return tips
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestSVGOneTooltipPerRegion(t *testing.T) {
	hostile := zebraFixture(false)
	for i := range hostile.Regions {
		if hostile.Regions[i].Type == vmmap.Image {
			hostile.Regions[i].Path = `<script>alert("x")</script> & ]]> ` + "\x00\xff"
		}
	}
	tests := []struct {
		name     string
		snap     *vmmap.Snapshot
		wantTips []string // substrings some tooltip must contain
	}{
		{"zebra", zebraFixture(false), []string{"0x1000000-0x10e0000  896 KiB  Heap (committed)\nowner: A", "Free"}},
		{"64-bit with folds", linux64Fixture(), []string{"[stack]", "0xc000000000-0xc000400000  4 MiB  Go heap (committed)"}},
		{"tiny stripes", tinyStripes(), []string{"4 KiB  Heap"}},
		{"hostile path", hostile, []string{`path: <script>alert("x")</script> & ]]> \x00\xff`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := SVG(&buf, tt.snap, Options{}); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf.Bytes(), []byte("<script")) {
				t.Error("SVG contains an unescaped <script")
			}
			tips := svgRegions(t, buf.Bytes())
			if len(tips) != len(tt.snap.Regions) {
				t.Errorf("%d tooltips, %d regions", len(tips), len(tt.snap.Regions))
			}
			for _, want := range tt.wantTips {
				found := false
				for _, tip := range tips {
					found = found || strings.Contains(tip, want)
				}
				if !found {
					t.Errorf("no tooltip contains %q", want)
				}
			}
		})
	}
}

func TestSVGFoldLabel(t *testing.T) {
	var buf bytes.Buffer
	if err := SVG(&buf, linux64Fixture(), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), `class="fold-label"`); got != 4 {
		t.Errorf("%d fold labels, want 4", got)
	}
	// The Go heap's untouched reservation folds with the gap above it
	// (issue 13: huge untouched reservations are folded by default).
	if !strings.Contains(buf.String(), "folded: 60 MiB reserved, untouched (Go heap) + 126.6 TiB free, 0xc000400000-0x7f4eba660000") {
		t.Error("the 126.6 TiB gap is not labelled with the reservation folded into it")
	}
}

func TestSVGBadInput(t *testing.T) {
	var buf bytes.Buffer
	if err := SVG(&buf, nil, Options{}); !errors.Is(err, ErrNilSnapshot) {
		t.Errorf("SVG(nil) = %v, want ErrNilSnapshot", err)
	}
	if err := SVG(&buf, zebraFixture(false), Options{Width: -5}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("SVG(Width -5) = %v, want ErrBadOptions", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes despite errors", buf.Len())
	}
	if err := SVG(failWriter{}, zebraFixture(false), Options{}); err == nil {
		t.Error("SVG to a failing writer returned nil")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestFoldLabelNamesOwners: a folded reservation with an owner is named by
// it ("Go runtime"), one without by its type.
func TestFoldLabelNamesOwners(t *testing.T) {
	tests := []struct {
		owner, want string
	}{
		{"", "reserved, untouched (Private Data)"},
		{vmmap.GoRuntimeOwner, "reserved, untouched (Go runtime)"},
	}
	for _, tt := range tests {
		s := linux64Fixture()
		for i := range s.Regions {
			if s.Regions[i].Start == 0x7f4e_bc80_0000 {
				s.Regions[i].Owner = tt.owner
			}
		}
		var buf bytes.Buffer
		if err := SVG(&buf, s, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), tt.want) {
			t.Errorf("owner %q: no fold label says %q", tt.owner, tt.want)
		}
	}
}
