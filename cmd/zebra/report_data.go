package main

import (
	"cmp"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
)

// The regions of every frame of a report, embedded in the page as JSON so
// that its script can draw any frame's map and diff any two frames
// (report_timeline.js). See reportData for the encoding.

// reportScript draws the frame the slider picks and diffs the two the
// pickers name, from reportData.
//
//go:embed report_timeline.js
var reportScript string

// reportMaxData is the default bound on the page's region data (the
// distinct regions and each frame's list of them), in bytes of JSON: a
// browser parses and draws a page of this size in about a second, and it
// holds a process of 60,000 mappings recorded at 1 s for minutes (about
// 5 MiB for its first frame, then what changes).
const reportMaxData = 64 << 20

// reportKeyEvery is how many frames stored as differences may follow each
// other in the page before one is stored whole: the script rebuilds a
// frame from the last whole one, so this bounds the work of a jump.
const reportKeyEvery = 32

// reportData is the page's JSON. Each distinct region of the recording is
// stored once, in Regions, in order of first appearance; a frame lists its
// regions as runs of that table, or as the rows it drops from and adds to
// the frame before it (From) when that is shorter; a frame whose snapshot
// is the one before's (an unchanged snapshot, stored as a reference in the
// timeline file) names the frame that holds it instead. So a recording in
// which little changes from one snapshot to the next costs little more
// than its first snapshot. The region data is bounded (pageData): frames
// past the bound keep their figures and have no map, but the last one.
type reportData struct {
	Types     []string    `json:"types"`     // type names by vmmap.Type
	Colors    [][2]string `json:"colors"`    // colour (#RRGGBB) and legend name, legend order
	FreeColor int         `json:"freeColor"` // index into Colors of free space
	Fold      [2]string   `json:"fold"`      // fold band fill and zigzag colours
	Strings   []string    `json:"strings"`   // owners, paths and sources; 0 is ""
	Regions   []regionRow `json:"regions"`
	Frames    []frameData `json:"frames"`
	DiffLines int         `json:"diffLines"` // the diff's lines shown; the rest counted
	// Bound says why frames have no map ("" when all have one).
	Bound string `json:"bound,omitempty"`
}

// regionRow is one region of the page. It is written as a JSON array,
// addresses and byte counts in hexadecimal (JavaScript numbers cannot hold
// 64-bit addresses):
//
//	[start, end, type, state, owner, path, base ("" for none), committed,
//	 colour, untouched (1: reserved with nothing committed or resident)]
//
// owner and path index Strings, colour indexes Colors.
type regionRow struct {
	start, end, base, committed uint64
	typ                         vmmap.Type
	state                       vmmap.State
	untouched                   bool
	owner, path                 int32
	color                       int32
}

func (r regionRow) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 96)
	b = append(b, '"')
	b = strconv.AppendUint(b, r.start, 16)
	b = append(b, `","`...)
	b = strconv.AppendUint(b, r.end, 16)
	b = append(b, `",`...)
	b = strconv.AppendInt(b, int64(r.typ), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.state), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.owner), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.path), 10)
	b = append(b, `,"`...)
	if r.base != 0 {
		b = strconv.AppendUint(b, r.base, 16)
	}
	b = append(b, `","`...)
	b = strconv.AppendUint(b, r.committed, 16)
	b = append(b, `",`...)
	b = strconv.AppendInt(b, int64(r.color), 10)
	if r.untouched {
		b = append(b, ",1]"...)
	} else {
		b = append(b, ",0]"...)
	}
	return append([]byte{'['}, b...), nil
}

// frameData is one frame: its figures for the slider's table and, unless
// Ref names the frame that holds them or NoMap says they are past the
// page's bound, its regions.
type frameData struct {
	T         string `json:"t"`
	VMAs      int    `json:"vmas"`
	Committed string `json:"committed"`
	Resident  string `json:"resident"`
	Largest   string `json:"largest"`
	Zebra     int    `json:"zebra"`
	Stripes   string `json:"stripes"`
	Same      bool   `json:"same"`
	Phase     string `json:"phase,omitempty"` // the frame's label

	Ref    *int      `json:"ref,omitempty"`    // the frame whose snapshot this is
	NoMap  bool      `json:"nomap,omitempty"`  // regions past the page's bound: figures only
	Source int       `json:"source,omitempty"` // index into Strings
	Span   [2]string `json:"span,omitzero"`    // drawn range, hexadecimal
	Gran   uint64    `json:"gran,omitempty"`   // allocation granularity
	Runs   []int     `json:"runs,omitempty"`   // first, count, first, count… into Regions
	// From names the frame whose regions this frame's are, less Del and
	// plus Add (rows of Regions), when Runs is absent.
	From *int  `json:"from,omitempty"`
	Del  []int `json:"del,omitempty"`
	Add  []int `json:"add,omitempty"`
}

// regionID is the part of a region the page uses: regions alike in it
// share a row. Owner and path are indexes into the page's strings.
type regionID struct {
	start, end, base, committed uint64
	t                           vmmap.Type
	state                       vmmap.State
	owner, path                 int32
	resident                    bool
}

// pageData builds a page's reportData one frame at a time. It holds the
// distinct regions and the previous frame's list of them, never a
// frame's snapshot, and stops adding maps once the data would pass max
// bytes: each region row and string is counted at its JSON length, each
// index at a few bytes.
type pageData struct {
	d       reportData
	max     int
	used    int // bytes of region data so far
	row     map[regionID]int32
	str     map[string]int32
	owners  []string // zebra heaps in order of appearance
	seen    map[string]bool
	prev    []int32 // rows of the last frame with a map, in address order
	prevAt  int     // that frame, or -1
	chain   int     // frames stored as differences since the last whole one
	held    int     // the last frame that is not a reference
	before  int     // the one before it: the frames between are references to it
	cutAt   int     // the first frame past the bound, or -1
	stamp   []int32 // per row: the frame that last listed it (to diff lists)
	palette *render.Palette
}

func newPageData(max int) *pageData {
	p := &pageData{max: max, row: map[regionID]int32{}, str: map[string]int32{"": 0}, seen: map[string]bool{},
		prevAt: -1, cutAt: -1, held: -1, before: -1}
	p.d.Strings = []string{""}
	p.d.DiffLines = reportDiffLines
	return p
}

// intern returns s's index in the page's strings.
func (p *pageData) intern(s string) int32 {
	i, ok := p.str[s]
	if !ok {
		i = int32(len(p.d.Strings))
		p.str[s] = i
		p.d.Strings = append(p.d.Strings, s)
		p.used += len(s) + 3
	}
	return i
}

// add adds the next frame, whose snapshot is s (already escaped for the
// page); ref says it is the snapshot of the frame before.
func (p *pageData) add(s *vmmap.Snapshot, ref bool) {
	i := len(p.d.Frames)
	p.d.Frames = append(p.d.Frames, frameData{})
	fd := &p.d.Frames[i]
	if ref {
		if p.d.Frames[p.held].NoMap {
			fd.NoMap = true
		} else {
			j := p.held
			fd.Ref = &j
		}
		return
	}
	p.before, p.held = p.held, i
	for _, o := range vmmap.Owners(s) {
		if !o.System && !p.seen[o.Owner] {
			p.seen[o.Owner] = true
			p.owners = append(p.owners, o.Owner)
		}
	}
	if p.cutAt >= 0 {
		fd.NoMap = true
		return
	}
	if !p.embed(s, i, false) {
		p.cutAt = i
		fd.NoMap = true
	}
}

// embed adds s's regions to the page as frame i, unless the page's data
// would pass its bound (and !force): then it leaves the page as it was and
// returns false.
func (p *pageData) embed(s *vmmap.Snapshot, i int, force bool) bool {
	rows0, strs0, used0 := len(p.d.Regions), len(p.d.Strings), p.used
	var added []regionID
	ids := make([]int32, 0, len(s.Regions))
	for _, r := range s.Regions {
		if r.Type == vmmap.Free {
			continue // gaps are free space; Diff skips free regions
		}
		key := regionID{r.Start, r.End, r.Base, r.Committed, r.Type, r.State, p.intern(r.Owner), p.intern(r.Path), r.RSS > 0}
		n, ok := p.row[key]
		if !ok {
			n = int32(len(p.d.Regions))
			p.row[key] = n
			added = append(added, key)
			p.d.Regions = append(p.d.Regions, regionRow{start: r.Start, end: r.End, base: r.Base, committed: r.Committed,
				typ: r.Type, state: r.State, owner: key.owner, path: key.path,
				untouched: r.State == vmmap.StateReserved && r.Committed == 0 && r.RSS == 0})
			p.used += 64
		}
		ids = append(ids, n)
	}
	for len(p.stamp) < len(p.d.Regions) {
		p.stamp = append(p.stamp, -1)
	}
	// The rows this frame drops from the last and adds to it, when the
	// last frame with a map holds the regions of the frame before (it is
	// that frame, or the frames since are references to it) and the chain
	// of differences is short.
	var del, add []int
	diff := p.prevAt >= 0 && p.prevAt == p.before && p.chain < reportKeyEvery
	if diff {
		for _, n := range ids {
			p.stamp[n] = int32(i)
		}
		for _, n := range p.prev {
			if p.stamp[n] != int32(i) {
				del = append(del, int(n))
			}
			p.stamp[n] = int32(-2 - i) // listed by the last frame
		}
		for _, n := range ids {
			if p.stamp[n] == int32(i) {
				add = append(add, int(n))
			}
		}
		diff = len(del)+len(add) < len(ids)/2
	}
	var runs []int
	if !diff {
		for _, n := range ids {
			if m := len(runs); m > 0 && runs[m-2]+runs[m-1] == int(n) {
				runs[m-1]++
			} else {
				runs = append(runs, int(n), 1)
			}
		}
	}
	cost := 8 * (len(runs) + len(del) + len(add))
	if !force && p.used+cost > p.max {
		for _, k := range added {
			delete(p.row, k)
		}
		for _, st := range p.d.Strings[strs0:] {
			delete(p.str, st)
		}
		p.d.Regions, p.d.Strings, p.used = p.d.Regions[:rows0], p.d.Strings[:strs0], used0
		return false
	}
	p.used += cost
	fd := &p.d.Frames[i]
	fd.Source, fd.Gran = int(p.intern(s.Source)), s.Granularity
	span := s.Span
	if span.Start >= span.End && len(s.Regions) > 0 {
		span = vmmap.AddrRange{Start: s.Regions[0].Start, End: s.Regions[len(s.Regions)-1].End}
	}
	fd.Span = [2]string{hex(span.Start), hex(span.End)}
	if diff {
		from := p.prevAt
		fd.From, fd.Del, fd.Add = &from, del, add
		p.chain++
	} else {
		fd.Runs = runs
		p.chain = 0
	}
	p.prev, p.prevAt = ids, i
	return true
}

// finish ends the page: the last frame's map is added past the bound if
// it was left out (last is its snapshot, escaped), and the colours are
// numbered.
func (p *pageData) finish(last *vmmap.Snapshot) {
	n := len(p.d.Frames) - 1
	if p.cutAt >= 0 {
		p.d.Frames[p.held] = frameData{}
		p.embed(last, p.held, true)
		for j := p.held + 1; j <= n; j++ {
			held := p.held
			p.d.Frames[j] = frameData{Ref: &held}
		}
		p.d.Bound = fmt.Sprintf("the page holds the maps of frames 0 to %d and of the last (%d), %s of regions; "+
			"it stops adding maps at %s (zebra report --max-page), so the other frames show their figures only",
			p.cutAt-1, n, units.Bytes(uint64(p.used)), units.Bytes(uint64(p.max)))
	}
	p.colors()
}

// bound says what the page embeds and what bounds it.
func (p *pageData) bound() string {
	if p.d.Bound != "" {
		return p.d.Bound
	}
	return fmt.Sprintf("the page holds every frame's map: %d distinct regions, %s of region data (bounded at %s; zebra report --max-page)",
		len(p.d.Regions), units.Bytes(uint64(p.used)), units.Bytes(uint64(p.max)))
}

// colors numbers the colours of the pictures drawn with Options.Owners
// set to the zebra heaps in order of appearance, in the legend's order.
func (p *pageData) colors() {
	d := &p.d
	pal := render.NewPalette(p.owners, nil)
	p.palette = pal
	for _, ty := range vmmap.Types {
		for len(d.Types) <= int(ty) {
			d.Types = append(d.Types, "")
		}
		d.Types[ty] = ty.String()
	}
	// Colours are numbered once all are known, in the legend's order:
	// by colour and legend name, each with a region that has them.
	type colorKey [2]string
	keyOf := func(r vmmap.Region) colorKey {
		c := pal.Color(r)
		return colorKey{fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B), pal.Legend(r)}
	}
	free := vmmap.Region{Type: vmmap.Free}
	colors := map[colorKey]vmmap.Region{keyOf(free): free}
	keys := make([]colorKey, len(d.Regions))
	for i, row := range d.Regions {
		r := vmmap.Region{Type: row.typ, State: row.state, Owner: d.Strings[row.owner]}
		k := keyOf(r)
		keys[i] = k
		if _, ok := colors[k]; !ok {
			colors[k] = r
		}
	}
	owners := p.owners

	// Types in VMMap's order, then the zebra heaps in the palette's
	// order; each committed colour before its reservation's.
	rank := func(r vmmap.Region) (int, string) {
		if pal.Legend(vmmap.Region{Type: r.Type, Owner: r.Owner}) == r.Type.String() {
			return -1, "" // not a zebra heap: the type's colour
		}
		return ownerRank(owners, vmmap.HeapOf(r.Owner)), r.Owner
	}
	order := slices.Collect(maps.Keys(colors))
	slices.SortFunc(order, func(a, b colorKey) int {
		x, y := colors[a], colors[b]
		rx, hx := rank(x)
		ry, hy := rank(y)
		return cmp.Or(cmp.Compare(rx, ry), cmp.Compare(hx, hy),
			cmp.Compare(slices.Index(vmmap.Types, x.Type), slices.Index(vmmap.Types, y.Type)),
			cmp.Compare(y.State, x.State), cmp.Compare(a[1], b[1]))
	})
	index := map[colorKey]int{}
	for i, k := range order {
		d.Colors = append(d.Colors, k)
		index[k] = i
	}
	for i, k := range keys {
		d.Regions[i].color = int32(index[k])
	}
	d.FreeColor = index[keyOf(free)]
	fill, mark := render.FoldColors()
	d.Fold = [2]string{fmt.Sprintf("#%02X%02X%02X", fill.R, fill.G, fill.B), fmt.Sprintf("#%02X%02X%02X", mark.R, mark.G, mark.B)}
}

// ownerRank is an owner's place in the palette's order (unlisted last).
func ownerRank(owners []string, o string) int {
	if i := slices.Index(owners, o); i >= 0 {
		return i
	}
	return len(owners)
}

func hex(v uint64) string { return strconv.FormatUint(v, 16) }
