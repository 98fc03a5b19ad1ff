package render

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/vmmap"
)

func renderHTML(t *testing.T, r Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, r); err != nil {
		t.Fatalf("HTML: %v", err)
	}
	return buf.String()
}

func demoReport() Report {
	hostile := zebraFixture(false)
	for i := range hostile.Regions {
		if hostile.Regions[i].Owner == "A" {
			hostile.Regions[i].Owner = `<script>alert("A")</script>`
		}
	}
	hostile.Source = `<img src=x onerror=alert(1)>`
	return Report{
		Title: `Report <script>document.title</script>`,
		Note:  "Two heaps grow at the same time & alternate.",
		Sections: []Section{
			{
				Caption:   "Without reserve",
				Snapshots: []Labelled{{"before", hostile}, {"after", zebraFixture(true)}},
				Tables:    []Table{{Caption: "Timing", Header: []string{"step", "time"}, Rows: [][]string{{"<script>x</script>", "1 ms"}}}},
			},
			{Caption: "64-bit", Snapshots: []Labelled{{"process", linux64Fixture()}}},
		},
	}
}

// TestHTMLSelfContained checks that the report needs nothing from outside:
// no URL, no src or href attribute, no script, no CSS import.
func TestHTMLSelfContained(t *testing.T) {
	out := strings.ToLower(renderHTML(t, demoReport()))
	for _, bad := range []string{"://", "<script", "@import", "url(", "<link", "<iframe", "<img", "<object"} {
		if i := strings.Index(out, bad); i >= 0 {
			t.Errorf("report contains %q: …%s…", bad, out[max(0, i-60):min(len(out), i+60)])
		}
	}
	if m := regexp.MustCompile(`<[a-z][^>]*\s(src|href|xlink:href|action)\s*=`).FindString(out); m != "" {
		t.Errorf("report has a tag that loads something: %s", m)
	}
}

func TestHTMLEscapes(t *testing.T) {
	out := renderHTML(t, demoReport())
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;A&#34;)&lt;/script&gt;", // owner in the owners table
		"&lt;img src=x onerror=alert(1)&gt;",              // source
		"Report &lt;script&gt;document.title&lt;/script&gt;",
		"&lt;script&gt;x&lt;/script&gt;", // a cell of the caller's table
		"Two heaps grow at the same time &amp; alternate.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks the escaped text %q", want)
		}
	}
	// Tooltips inside the SVG are escaped by the SVG writer.
	if !strings.Contains(out, "owner: &lt;script&gt;alert(&#34;A&#34;)&lt;/script&gt;") {
		t.Error("the SVG tooltip of heap A is not escaped")
	}
}

func TestHTMLContent(t *testing.T) {
	r := demoReport()
	out := renderHTML(t, r)
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllStringIndex(out, -1)) }
	snapshots := 0
	regions := 0
	for _, s := range r.Sections {
		snapshots += len(s.Snapshots)
		for _, l := range s.Snapshots {
			regions += len(l.Snapshot.Regions)
		}
	}
	tests := []struct {
		name string
		re   string
		want int
	}{
		{"one picture per snapshot", `<svg class="map"`, snapshots},
		{"one tooltip per region", `<g class="region"[^>]*><title>`, regions},
		{"summary per snapshot", `<caption>Summary</caption>`, snapshots},
		{"free blocks per snapshot", `<caption>Largest free blocks</caption>`, snapshots},
		{"owners per snapshot", `<caption>Owners</caption>`, snapshots},
		{"comparison for the pair only", `<caption>Comparison</caption>`, 1},
		{"diff for the pair only", `<caption>Changes from before to after</caption>`, 1},
		{"caller's table", `<caption>Timing</caption>`, 1},
		{"side by side", `class="cols cols-2"`, 1},
		{"heap A vanished", `vanished</td>`, zebraSegments()},
		// After heap A's destroy the score falls to 0; that must not read
		// as an improvement (issue 13, defect 4).
		{"zebra score not compared across a destroy", `Zebra score \(heap changes\)</td><td class="num">55</td><td class="num">0 \(other heaps: not comparable; see free blocks\)</td>`, 1},
		{"fold labels", `class="fold-label"`, 4},
	}
	for _, tt := range tests {
		if got := count(tt.re); got != tt.want {
			t.Errorf("%s: %d matches of %q, want %d", tt.name, got, tt.re, tt.want)
		}
	}
}

// TestHTMLSameShade checks that heap B keeps its shade after heap A is
// gone: the report assigns shades over all snapshots.
func TestHTMLSameShade(t *testing.T) {
	out := renderHTML(t, Report{Sections: []Section{{Snapshots: []Labelled{{"before", zebraFixture(false)}, {"after", zebraFixture(true)}}}}})
	b := hexColor(heapShades[1])
	tip := regexp.MustCompile(`<g class="region" fill="(#[0-9A-F]{6})"><title>0x1100000-`)
	got := tip.FindAllStringSubmatch(out, -1)
	if len(got) != 2 || got[0][1] != b || got[1][1] != b {
		t.Errorf("heap B's first segment is drawn with %v, want %s in both pictures", got, b)
	}
}

// TestHTMLSharedScale checks that pictures side by side use one scale even
// when their spans differ.
func TestHTMLSharedScale(t *testing.T) {
	small := zebraFixture(true)
	small.Span = vmmap.AddrRange{Start: 0x10000, End: 0x2000_0000}
	small.Regions = withFree(nil, small.Span.Start, small.Span.End)
	out := renderHTML(t, Report{Sections: []Section{{Snapshots: []Labelled{{"small", small}, {"large", zebraFixture(false)}}}}})
	scales := regexp.MustCompile(`1 px = [^ ]+ [^ ]+`).FindAllString(out, -1)
	if len(scales) != 2 || scales[0] != scales[1] {
		t.Errorf("scales %q, want two equal ones", scales)
	}
}

func TestHTMLBadInput(t *testing.T) {
	tests := []struct {
		name    string
		r       Report
		wantErr error
	}{
		{"empty report", Report{}, ErrNoSnapshots},
		{"sections without content", Report{Sections: []Section{{Caption: "x"}}}, ErrNoSnapshots},
		{"nil snapshot", Report{Sections: []Section{{Snapshots: []Labelled{{"a", nil}}}}}, ErrNilSnapshot},
		{"malformed snapshot", Report{Sections: []Section{{Snapshots: []Labelled{{"a", &vmmap.Snapshot{
			Regions: []vmmap.Region{{Start: 5, End: 1}}}}}}}}, ErrBadSnapshot},
		{"bad options", Report{Options: Options{RowHeight: -1}, Sections: []Section{{Snapshots: []Labelled{{"a", zebraFixture(true)}}}}}, ErrBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := HTML(&buf, tt.r); !errors.Is(err, tt.wantErr) {
				t.Fatalf("HTML error = %v, want %v", err, tt.wantErr)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}

func TestHTMLTableOnly(t *testing.T) {
	out := renderHTML(t, Report{Title: "numbers", Sections: []Section{{Tables: []Table{{Header: []string{"a"}, Rows: [][]string{{"1", "2", "3"}}}}}}})
	if got := strings.Count(out, "<th>"); got != 3 {
		t.Errorf("header padded to %d columns, want 3", got)
	}
}

// TestHTMLRegionList: every snapshot has its regions listed in each order,
// sortable and filterable by CSS alone, and the page adapts to narrow
// windows (issue 13).
func TestHTMLRegionList(t *testing.T) {
	r := demoReport()
	out := renderHTML(t, r)
	n := 0
	for _, s := range r.Sections {
		n += len(s.Snapshots)
	}
	for _, tt := range []struct {
		what, re string
		want     int
	}{
		{"one list per snapshot", `<summary>Regions \(\d+\): sort and filter</summary>`, n},
		{"an order control per order and list", `<input type="radio" class="o-(addr|size|rss)"`, 3 * n},
		{"a table per order and list", `<table class="order o-(addr|size|rss)">`, 3 * n},
		{"type filters of the types present", `<input type="checkbox" class="f-Heap" checked>`, 2}, // the zebra snapshots
		{"filter rule per type", `\.rl:has\(input\.f-[A-Za-z]+:not\(:checked\)\) tr\.t-[A-Za-z]+`, len(vmmap.Types)},
		{"narrow layout", `@media \(max-width: 1000px\)`, 1},
		{"no hidden scroll box", `max-height: 420px`, 0},
	} {
		if got := len(regexp.MustCompile(tt.re).FindAllString(out, -1)); got != tt.want {
			t.Errorf("%s: %d matches of %s, want %d", tt.what, got, tt.re, tt.want)
		}
	}
	s := linux64Fixture()
	rl := regionList(s, "x", newPalette(nil, s.Regions))
	if rl.Count != len(s.Regions)-s.OutsideSpan() || len(rl.Orders) != 3 {
		t.Fatalf("list of %d regions in %d orders, snapshot has %d", rl.Count, len(rl.Orders), len(s.Regions))
	}
	size := map[string]uint64{}
	for _, reg := range s.Regions {
		size[fmt.Sprintf("%#x", reg.Start)] = reg.Size()
	}
	bySize := rl.Orders[1].Rows
	for i := 1; i < len(bySize); i++ {
		if a, b := size[rowCells(t, bySize[i-1])[0].Text], size[rowCells(t, bySize[i])[0].Text]; a < b {
			t.Errorf("size order: %d bytes before %d", a, b)
		}
	}
}

// TestHTMLHeapSwatchMatchesPictures: the summary's Heap row shows the
// type's colour only when some heap is drawn in it (issue 13).
func TestHTMLHeapSwatchMatchesPictures(t *testing.T) {
	heapRow := func(s *vmmap.Snapshot) htmlCell {
		for _, r := range summaryTable(s).Rows {
			if r[0].Text == "Heap" {
				return r[0]
			}
		}
		t.Fatal("no Heap row")
		return htmlCell{}
	}
	// The fixture's default process heap has no owner: plain Heap colour.
	if c := heapRow(zebraFixture(true)); c.Swatch != hexColor(vmmap.Heap.Color()) {
		t.Errorf("with a plain heap: Heap row swatch %q, want the type's colour", c.Swatch)
	}
	s := zebraFixture(true)
	for i := range s.Regions {
		if s.Regions[i].Type == vmmap.Heap && s.Regions[i].Owner == "" {
			s.Regions[i].Type = vmmap.PrivateData
		}
	}
	if c := heapRow(s); c.Swatch != "" {
		t.Errorf("zebra heaps only: Heap row swatch %s, a colour no picture shows", c.Swatch)
	}
}

// TestHTMLTableSwatchesMatchPictures: the Regions list, the Changes table
// and the Owners table show a zebra heap's rows in the colour its pictures
// draw it with, not the plain Heap colour; other rows in their type's
// (issue 13: heap rows showed #FF9666 beside pictures in palette colours).
func TestHTMLTableSwatchesMatchPictures(t *testing.T) {
	before, after := zebraFixture(false), zebraFixture(true)
	pal := newPalette([]string{"B", "A"}, append(slices.Clone(before.Regions), after.Regions...))
	want := func(owner string, ty vmmap.Type) string {
		if (owner == "A" || owner == "B") && ty == vmmap.Heap {
			return hexColor(pal.of(owner))
		}
		return hexColor(ty.Color())
	}
	checked := map[string]int{}
	rl := regionList(before, "x", pal)
	for _, row := range rl.Orders[0].Rows {
		cells := rowCells(t, row)
		owner, ty := cells[8].Text, cells[3]
		if w := want(owner, typeNamed(t, ty.Text)); ty.Swatch != w {
			t.Errorf("Regions: %s row of %q: swatch %s, want %s", ty.Text, owner, ty.Swatch, w)
		}
		checked["regions "+owner]++
	}
	d := diffTable(Labelled{Snapshot: before}, Labelled{Snapshot: after}, pal)
	for _, row := range d.Rows {
		owner, ty := row[3].Text, row[2]
		if w := want(owner, typeNamed(t, ty.Text)); ty.Swatch != w {
			t.Errorf("Changes: %s row of %q: swatch %s, want %s", ty.Text, owner, ty.Swatch, w)
		}
		checked["changes "+owner]++
	}
	for _, row := range ownerTable(before, pal).Rows {
		if w := want(row[0].Text, typeNamed(t, row[1].Text)); row[0].Swatch != w {
			t.Errorf("Owners: %q: swatch %s, want %s", row[0].Text, row[0].Swatch, w)
		}
	}
	for _, k := range []string{"regions A", "regions B", "regions ", "changes A"} {
		if checked[k] == 0 {
			t.Errorf("no row of %q was checked", k)
		}
	}
	if hexColor(pal.of("A")) == hexColor(vmmap.Heap.Color()) || hexColor(pal.of("B")) == hexColor(vmmap.Heap.Color()) {
		t.Error("the fixture's heaps have the plain Heap colour: the test cannot tell")
	}
}

func typeNamed(t *testing.T, name string) vmmap.Type {
	t.Helper()
	for _, ty := range vmmap.Types {
		if ty.String() == name {
			return ty
		}
	}
	t.Fatalf("no type %q", name)
	return 0
}

// TestHTMLMoreNotListed: the notes under cut tables count in the singular
// for one (issue 13: "1 more free blocks not listed").
func TestHTMLMoreNotListed(t *testing.T) {
	// stripes is a snapshot of n owned regions, each followed by a free
	// block.
	stripes := func(n int) *vmmap.Snapshot {
		s := &vmmap.Snapshot{Source: "test", Span: vmmap.AddrRange{Start: 0x10000, End: 0x10000 + uint64(2*n)*0x10000}, Granularity: 0x10000}
		for i := range n {
			at := s.Span.Start + uint64(2*i)*0x10000
			s.Regions = append(s.Regions,
				vmmap.Region{Start: at, End: at + 0x10000, Type: vmmap.Heap, State: vmmap.StateCommitted, Committed: 0x10000, Owner: fmt.Sprintf("heap %d", i)},
				vmmap.Region{Start: at + 0x10000, End: at + 0x20000, Type: vmmap.Free, State: vmmap.StateFree})
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	empty := func(n int) *vmmap.Snapshot {
		s := stripes(n)
		for i := range s.Regions {
			s.Regions[i] = vmmap.Region{Start: s.Regions[i].Start, End: s.Regions[i].End, Type: vmmap.Free, State: vmmap.StateFree}
		}
		return s
	}
	for _, tt := range []struct {
		table string
		note  func(n int) string
		n     int
		want  string
	}{
		{"free", func(n int) string { return freeTable(stripes(n)).Note }, reportFreeBlocks + 1, "1 more free block not listed."},
		{"free", func(n int) string { return freeTable(stripes(n)).Note }, reportFreeBlocks + 2, "2 more free blocks not listed."},
		{"owners", func(n int) string { return ownerTable(stripes(n), newPalette(nil, nil)).Note }, reportOwners + 1, "1 more owner not listed."},
		{"owners", func(n int) string { return ownerTable(stripes(n), newPalette(nil, nil)).Note }, reportOwners + 3, "3 more owners not listed."},
		{"changes", func(n int) string {
			return diffTable(Labelled{Snapshot: stripes(n)}, Labelled{Snapshot: empty(n)}, newPalette(nil, nil)).Note
		}, reportChanges + 1, "1 more change not listed."},
	} {
		if got := tt.note(tt.n); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s table of %d: note %q, want %q", tt.table, tt.n, got, tt.want)
		}
	}
}

var (
	rowCell   = regexp.MustCompile(`<td[^>]*>(?:<span class="sw" style="background: ([^"]*)"></span>)?(.*?)</td>`)
	rowOfType = regexp.MustCompile(`^<tr class="t-[A-Za-z]+">(.*)</tr>$`)
)

// rowCells reads a region list's row back into its cells: text
// unescaped, swatch if any.
func rowCells(t *testing.T, row template.HTML) []htmlCell {
	t.Helper()
	m := rowOfType.FindStringSubmatch(string(row))
	if m == nil {
		t.Fatalf("not a region row: %s", row)
	}
	var out []htmlCell
	for _, c := range rowCell.FindAllStringSubmatch(m[1], -1) {
		out = append(out, htmlCell{Text: html.UnescapeString(c[2]), Swatch: c[1]})
	}
	if len(out) != 10 {
		t.Fatalf("%d cells in %s", len(out), row)
	}
	return out
}
