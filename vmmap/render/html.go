package render

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
)

// HTML writes r as one self-contained HTML page: inline CSS, inline SVG
// pictures (tooltips per region), no script, no external resource, so it
// works offline and can be mailed. Every value from a snapshot or from the
// caller is escaped by html/template (text) or by the SVG writer (pictures).
// Nothing is written when r is invalid.
func HTML(w io.Writer, r Report) error {
	if err := r.check(); err != nil {
		return err
	}
	r = visibleReport(r)
	f, err := newFaces()
	if err != nil {
		return err
	}
	o := r.Options
	if len(o.Owners) == 0 {
		o.Owners = r.owners()
	}
	view := htmlReport{Title: r.Title, Note: r.Note}
	for _, t := range vmmap.Types {
		view.TypeClasses = append(view.TypeClasses, typeClass(t))
	}
	if view.Title == "" {
		view.Title = "zebra address-space report"
	}
	for i, s := range r.Sections {
		sv, err := newHTMLSection(s, o, f, &view.lists)
		if err != nil {
			return fmt.Errorf("section %d (%q): %w", i, s.Caption, err)
		}
		view.Sections = append(view.Sections, sv)
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, view); err != nil {
		return fmt.Errorf("render: HTML template: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("render: writing HTML: %w", err)
	}
	return nil
}

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": func(t htmlTable, i int) bool { return i < len(t.Num) && t.Num[i] },
	"colsClass": func(n int) string {
		if n <= 3 {
			return "cols-" + strconv.Itoa(n)
		}
		return "cols-many"
	},
}).Parse(reportTemplateText))

// The view types hold only strings, so the template does no formatting.
type (
	htmlReport struct {
		Title, Note string
		Sections    []htmlSection
		TypeClasses []string // CSS class suffix of every type, for the filters
		lists       int      // region lists so far: their ids
	}
	htmlSection struct {
		Caption, Note string
		Columns       []htmlSnapshot
		Compare       *htmlTable
		Diff          *htmlTable
		Tables        []htmlTable
	}
	htmlSnapshot struct {
		Label, Source, Facts string
		Picture              template.HTML // SVG written and escaped by writeSVG
		Summary, Free, Owner htmlTable
		Regions              htmlRegionList
	}
	// htmlRegionList is the per-region list of a snapshot, sortable and
	// filterable in the page without a script: one table per order, shown
	// by a radio button, and a checkbox per type that hides its rows, both
	// by CSS (:checked, :has).
	htmlRegionList struct {
		ID     string
		Count  int
		Note   string
		Types  []htmlTypeFilter
		Orders []htmlRegionOrder
	}
	htmlTypeFilter  struct{ Class, Name, Swatch string }
	htmlRegionOrder struct {
		Key, Label string
		Rows       []template.HTML // regionRow's
	}
	htmlTable struct {
		Caption string
		Header  []string
		Num     []bool // right-align column i (numbers)
		Rows    [][]htmlCell
		Note    string
	}
	htmlCell struct {
		Text   string
		Swatch string // a colour "#RRGGBB" drawn before the text, or ""
		Strong bool
	}
)

func newHTMLSection(s Section, o Options, f *faces, lists *int) (htmlSection, error) {
	sv := htmlSection{Caption: s.Caption, Note: s.Note}
	if len(s.Snapshots) > 1 && o.Width == 0 {
		// Side by side, each picture gets about half the page: draw it
		// at that size so that its text stays readable.
		o.Width = sideBySideWidth
	}
	if len(s.Snapshots) > 1 && o.BytesPerPixel == 0 {
		// Pictures compared side by side share one scale: the coarsest
		// any of them needs.
		for _, l := range s.Snapshots {
			lay, err := newLayout(l.Snapshot, o)
			if err != nil {
				return sv, fmt.Errorf("snapshot %q: %w", l.Label, err)
			}
			o.BytesPerPixel = max(o.BytesPerPixel, lay.bpp)
		}
	}
	for _, l := range s.Snapshots {
		col, err := newHTMLSnapshot(l, o, f)
		if err != nil {
			return sv, fmt.Errorf("snapshot %q: %w", l.Label, err)
		}
		col.Regions = regionList(l.Snapshot, fmt.Sprintf("rl%d", *lists), newPalette(o.Owners, l.Snapshot.Regions))
		*lists++
		sv.Columns = append(sv.Columns, col)
	}
	if len(s.Snapshots) == 2 {
		a, b := s.Snapshots[0], s.Snapshots[1]
		cmp := compareTable(a, b)
		sv.Compare = &cmp
		d := diffTable(a, b, newPalette(o.Owners, append(slices.Clone(a.Snapshot.Regions), b.Snapshot.Regions...)))
		sv.Diff = &d
	}
	for _, t := range s.Tables {
		sv.Tables = append(sv.Tables, userTable(t))
	}
	return sv, nil
}

func newHTMLSnapshot(l Labelled, o Options, f *faces) (htmlSnapshot, error) {
	s := l.Snapshot
	g, err := newGeometry(s, o, f)
	if err != nil {
		return htmlSnapshot{}, err
	}
	var pic bytes.Buffer
	bw := bufio.NewWriter(&pic)
	g.writeSVG(bw, true)
	bw.Flush()

	col := htmlSnapshot{Label: l.Label, Source: s.Source, Picture: template.HTML(pic.String())}
	facts := fmt.Sprintf("span %#x-%#x (%s)", s.Span.Start, s.Span.End, units.Bytes(s.Span.Size()))
	if !s.Taken.IsZero() {
		facts = "taken " + s.Taken.UTC().Format("2006-01-02 15:04:05 UTC") + " · " + facts
	}
	if s.VMAs > 0 {
		facts += " · " + plural(s.VMAs, "mapping", "mappings")
		if s.MaxMapCount > 0 {
			facts += fmt.Sprintf(" of vm.max_map_count %d (%.1f%%)", s.MaxMapCount, 100*float64(s.VMAs)/float64(s.MaxMapCount))
		}
	}
	col.Facts = facts
	col.Summary = summaryTable(s)
	col.Free = freeTable(s)
	col.Owner = ownerTable(s, g.pal)
	return col, nil
}

// summaryTable is VMMap's summary: one row per type present, then Total.
func summaryTable(s *vmmap.Snapshot) htmlTable {
	sum := vmmap.Summarize(s)
	t := htmlTable{
		Caption: "Summary",
		Header:  []string{"Type", "Size", "Committed", "Resident", "Private", "Blocks", "Largest"},
		Num:     []bool{false, true, true, true, true, true, true},
	}
	row := func(name, swatch string, r vmmap.Row, strong bool) []htmlCell {
		return []htmlCell{{Text: name, Swatch: swatch, Strong: strong},
			{Text: units.Bytes(r.Size)}, {Text: units.Bytes(r.Committed)}, {Text: units.Bytes(r.Resident)}, {Text: units.Bytes(r.Private)},
			{Text: strconv.Itoa(r.Blocks)}, {Text: units.Bytes(r.Largest), Strong: strong}}
	}
	t.Rows = append(t.Rows, row("Total", "", sum.Total, false))
	plainHeap := false // a Heap region drawn in the type's colour
	for _, reg := range s.Regions {
		plainHeap = plainHeap || reg.Type == vmmap.Heap && !isZebraHeap(reg)
	}
	for _, r := range sum.Rows {
		if r.Size == 0 && r.Type != vmmap.Free {
			continue
		}
		sw := hexColor(r.Type.Color())
		if r.Type == vmmap.Heap && !plainHeap {
			// Every heap here has a shade of its own (the Owners
			// table shows it); the type's colour is in no picture.
			sw = ""
		}
		t.Rows = append(t.Rows, row(r.Type.String(), sw, r, r.Type == vmmap.Free))
	}
	t.Note = "Largest on the Free row is the biggest allocation that still fits in the span. " +
		"Committed counts towards the commit charge; Resident is the working set (RSS, Linux only)."
	return t
}

func freeTable(s *vmmap.Snapshot) htmlTable {
	blocks := vmmap.FreeBlocks(s)
	t := htmlTable{Caption: "Largest free blocks", Header: []string{"Address", "Size"}, Num: []bool{false, true}}
	for i, r := range blocks {
		if i == reportFreeBlocks {
			t.Note = plural(len(blocks)-reportFreeBlocks, "more free block", "more free blocks") + " not listed."
			break
		}
		t.Rows = append(t.Rows, []htmlCell{{Text: fmt.Sprintf("%#x", r.Start)}, {Text: units.Bytes(r.Size())}})
	}
	if len(blocks) == 0 {
		t.Note = "No free space in the span."
	}
	return t
}

func ownerTable(s *vmmap.Snapshot, pal *palette) htmlTable {
	owners := vmmap.Owners(s)
	t := htmlTable{
		Caption: "Owners",
		Header:  []string{"Owner", "Type", "Address space", "Committed", "Stripes", "Alternation"},
		Num:     []bool{false, false, true, true, true, true},
	}
	for i, o := range owners {
		if i == reportOwners {
			t.Note = plural(len(owners)-reportOwners, "more owner", "more owners") + " not listed."
			break
		}
		t.Rows = append(t.Rows, []htmlCell{{Text: o.Owner, Swatch: pal.swatch(o.Owner, o.Type)}, {Text: o.Type.String()},
			{Text: units.Bytes(o.Bytes)}, {Text: units.Bytes(o.Committed)},
			{Text: strconv.Itoa(o.Stripes), Strong: o.Stripes > 1}, {Text: strconv.Itoa(o.Alternation)}})
	}
	if len(owners) == 0 {
		t.Note = "No region has a known owner."
	}
	t.Note += " A stripe is a separate address range; alternation counts gaps between stripes that hold another zebra heap ([heap], Go heap and glibc arenas never count)."
	return t
}

// compareTable puts the numbers that tell fragmentation side by side.
func compareTable(a, b Labelled) htmlTable {
	t := htmlTable{
		Caption: "Comparison",
		Header:  []string{"", labelOr(a, "before"), labelOr(b, "after")},
		Num:     []bool{false, true, true},
	}
	type facts struct {
		free, largest, committed uint64
		blocks, zebra, vmas      int
	}
	get := func(s *vmmap.Snapshot) facts {
		sum := vmmap.Summarize(s)
		fr := sum.Row(vmmap.Free)
		return facts{fr.Size, fr.Largest, sum.Total.Committed, fr.Blocks, vmmap.ZebraScore(s), s.VMAs}
	}
	x, y := get(a.Snapshot), get(b.Snapshot)
	add := func(name, p, q string) {
		t.Rows = append(t.Rows, []htmlCell{{Text: name}, {Text: p}, {Text: q, Strong: p != q}})
	}
	add("Free", units.Bytes(x.free), units.Bytes(y.free))
	add("Largest free block", units.Bytes(x.largest), units.Bytes(y.largest))
	add("Free blocks", strconv.Itoa(x.blocks), strconv.Itoa(y.blocks))
	add("Committed", units.Bytes(x.committed), units.Bytes(y.committed))
	// The score counts how live heaps interleave: after a destroy it
	// always drops, even when the destroy left the space fragmented, so
	// it is compared only between snapshots of the same heaps.
	if slices.Equal(heapsOf(a.Snapshot), heapsOf(b.Snapshot)) {
		add("Zebra score (heap changes)", strconv.Itoa(x.zebra), strconv.Itoa(y.zebra))
	} else {
		t.Rows = append(t.Rows, []htmlCell{{Text: "Zebra score (heap changes)"}, {Text: strconv.Itoa(x.zebra)},
			{Text: strconv.Itoa(y.zebra) + " (other heaps: not comparable; see free blocks)"}})
	}
	if x.vmas > 0 || y.vmas > 0 {
		add("Mappings (VMAs)", strconv.Itoa(x.vmas), strconv.Itoa(y.vmas))
	}
	return t
}

// heapsOf lists the zebra heaps of s (vmmap.HeapOf of their owners), sorted.
func heapsOf(s *vmmap.Snapshot) []string {
	var out []string
	for _, r := range s.Regions {
		if isZebraHeap(r) {
			out = append(out, vmmap.HeapOf(r.Owner))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func diffTable(a, b Labelled, pal *palette) htmlTable {
	changes := vmmap.Diff(a.Snapshot, b.Snapshot)
	t := htmlTable{
		Caption: fmt.Sprintf("Changes from %s to %s", labelOr(a, "before"), labelOr(b, "after")),
		Header:  []string{"Change", "Range", "Type", "Owner or path", "Size before", "Size after"},
		Num:     []bool{false, false, false, false, true, true},
	}
	for i, c := range changes {
		if i == reportChanges {
			t.Note = plural(len(changes)-reportChanges, "more change", "more changes") + " not listed."
			break
		}
		blk := c.After
		if c.Kind == vmmap.Vanished {
			blk = c.Before
		}
		who := blk.Owner
		if who == "" {
			who = blk.Path
		}
		size := func(x vmmap.Block) string {
			if x.End == 0 {
				return "-"
			}
			return units.Bytes(x.Size())
		}
		t.Rows = append(t.Rows, []htmlCell{{Text: c.Kind.String()}, {Text: blk.AddrRange.String()},
			{Text: blk.Type.String(), Swatch: pal.swatch(blk.Owner, blk.Type)}, {Text: who},
			{Text: size(c.Before)}, {Text: size(c.After)}})
	}
	if len(changes) == 0 {
		t.Note = "No allocation changed."
	}
	return t
}

func userTable(in Table) htmlTable {
	t := htmlTable{Caption: in.Caption, Header: in.Header}
	width := len(in.Header)
	for _, r := range in.Rows {
		width = max(width, len(r))
	}
	for len(t.Header) < width && len(t.Header) > 0 {
		t.Header = append(t.Header, "")
	}
	for _, r := range in.Rows {
		row := make([]htmlCell, width)
		for i, c := range r {
			row[i] = htmlCell{Text: c}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func labelOr(l Labelled, def string) string {
	if l.Label != "" {
		return l.Label
	}
	return def
}

// reportRegions bounds the rows of a region list (each is written once per
// order).
const reportRegions = 3000

// regionRow is r's row of a region list, every text escaped (the owner
// and the path are the process's to choose), with the swatch of the colour
// pal draws it with.
func regionRow(b *strings.Builder, r vmmap.Region, pal *palette) template.HTML {
	b.Reset()
	cell := func(class, text string) {
		b.WriteString("<td")
		if class != "" {
			b.WriteString(` class="` + class + `"`)
		}
		b.WriteString(">")
		b.WriteString(template.HTMLEscapeString(text))
		b.WriteString("</td>")
	}
	b.WriteString(`<tr class="t-` + typeClass(r.Type) + `">`)
	cell("", fmt.Sprintf("%#x", r.Start))
	cell("", fmt.Sprintf("%#x", r.End))
	cell("num", units.Bytes(r.Size()))
	b.WriteString(`<td><span class="sw" style="background: ` + template.HTMLEscapeString(pal.swatch(r.Owner, r.Type)) + `"></span>`)
	b.WriteString(template.HTMLEscapeString(r.Type.String()) + "</td>")
	cell("", r.State.String())
	cell("num", units.Bytes(r.Committed))
	cell("num", units.Bytes(r.RSS))
	cell("", r.Perms)
	cell("", r.Owner)
	cell("", r.Path)
	b.WriteString("</tr>")
	return template.HTML(b.String())
}

// typeClass is a type's name as a CSS class suffix: "PrivateData".
func typeClass(t vmmap.Type) string { return strings.ReplaceAll(t.String(), " ", "") }

// regionList is the snapshot's regions in the span, free ones included,
// in each of vmmap.SortKeys's orders, each with the swatch of the colour
// pal draws it with.
func regionList(s *vmmap.Snapshot, id string, pal *palette) htmlRegionList {
	rs, _ := vmmap.ListRegions(s, vmmap.ListOptions{Types: vmmap.Types})
	rl := htmlRegionList{ID: id, Count: len(rs)}
	if len(rs) > reportRegions {
		rl.Note = fmt.Sprintf("The %d largest of %d regions are listed.", reportRegions, len(rs))
		vmmap.SortRegions(rs, "size")
		rs = rs[:reportRegions]
	}
	present := map[vmmap.Type]bool{}
	for _, r := range rs {
		present[r.Type] = true
	}
	for _, t := range vmmap.Types {
		if present[t] {
			rl.Types = append(rl.Types, htmlTypeFilter{Class: typeClass(t), Name: t.String(), Swatch: hexColor(t.Color())})
		}
	}
	// Each region's row is written once, here, and shared by the orders:
	// through the template's range, cell by cell with reflection, the
	// rows took ~0.25 s for 2,000 regions (zebrahttp's map.html).
	rows := make(map[uint64]template.HTML, len(rs)) // by start: regions do not overlap
	var b strings.Builder
	for _, r := range rs {
		rows[r.Start] = regionRow(&b, r, pal)
	}
	labels := map[string]string{"addr": "address", "size": "size, largest first", "rss": "resident, largest first"}
	for _, key := range vmmap.SortKeys {
		sorted := slices.Clone(rs)
		vmmap.SortRegions(sorted, key)
		ord := htmlRegionOrder{Key: key, Label: labels[key], Rows: make([]template.HTML, len(sorted))}
		for i, r := range sorted {
			ord.Rows[i] = rows[r.Start]
		}
		rl.Orders = append(rl.Orders, ord)
	}
	return rl
}
