package main

import (
	"cmp"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// The regions of every frame of a report, embedded in the page as JSON so
// that its script can draw any frame's map and diff any two frames
// (report_timeline.js). See reportData for the encoding.

// reportScript draws the frame the slider picks and diffs the two the
// pickers name, from reportData.
//
//go:embed report_timeline.js
var reportScript string

// reportData is the page's JSON. Each distinct region of the recording is
// stored once, in Regions, in order of first appearance; a frame lists its
// regions as runs of that table, and a frame whose snapshot is another's
// (an unchanged snapshot, stored as a reference in the timeline file)
// names that frame instead. So a recording in which little changes from
// one snapshot to the next costs little more than its first snapshot.
type reportData struct {
	Types     []string    `json:"types"`     // type names by vmmap.Type
	Colors    [][2]string `json:"colors"`    // colour (#RRGGBB) and legend name, legend order
	FreeColor int         `json:"freeColor"` // index into Colors of free space
	Fold      [2]string   `json:"fold"`      // fold band fill and zigzag colours
	Strings   []string    `json:"strings"`   // owners, paths and sources; 0 is ""
	Regions   []regionRow `json:"regions"`
	Frames    []frameData `json:"frames"`
	DiffLines int         `json:"diffLines"` // the diff's lines shown; the rest counted
}

// regionRow is one region as a JSON array, addresses and byte counts in
// hexadecimal (JavaScript numbers cannot hold 64-bit addresses):
//
//	[start, end, type, state, owner, path, base ("" for none), committed,
//	 colour, untouched (1: reserved with nothing committed or resident)]
//
// owner and path index Strings, colour indexes Colors.
type regionRow [10]any

// frameData is one frame: its figures for the slider's table and, unless
// Ref names the frame that holds them, its regions.
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
	Source int       `json:"source,omitempty"` // index into Strings
	Span   [2]string `json:"span,omitzero"`    // drawn range, hexadecimal
	Gran   uint64    `json:"gran,omitempty"`   // allocation granularity
	Runs   []int     `json:"runs,omitempty"`   // first, count, first, count… into Regions
}

// regionID is the part of a region the page uses: regions alike in it
// share a row.
type regionID struct {
	start, end, base, committed uint64
	t                           vmmap.Type
	state                       vmmap.State
	owner, path                 string
	resident                    bool
}

// addRegions encodes the frames' regions into d, whose Frames already hold
// the figures, with the colours of pictures drawn with Options.Owners set
// to owners.
func (d *reportData) addRegions(t *timeline.Timeline, owners []string) {
	pal := render.NewPalette(owners, nil)
	str := map[string]int{"": 0}
	d.Strings = []string{""}
	intern := func(s string) int {
		i, ok := str[s]
		if !ok {
			i = len(d.Strings)
			str[s] = i
			d.Strings = append(d.Strings, s)
		}
		return i
	}
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
	var keys []colorKey // of Regions, in order
	row := map[regionID]int{}
	held := map[*vmmap.Snapshot]int{}
	for i, f := range t.Frames {
		s := f.Snapshot
		if j, ok := held[s]; ok {
			d.Frames[i].Ref = &j
			continue
		}
		held[s] = i
		fd := &d.Frames[i]
		fd.Source, fd.Gran = intern(s.Source), s.Granularity
		span := s.Span
		if span.Start >= span.End && len(s.Regions) > 0 {
			span = vmmap.AddrRange{Start: s.Regions[0].Start, End: s.Regions[len(s.Regions)-1].End}
		}
		fd.Span = [2]string{hex(span.Start), hex(span.End)}
		for _, r := range s.Regions {
			if r.Type == vmmap.Free {
				continue // gaps are free space; Diff skips free regions
			}
			key := regionID{r.Start, r.End, r.Base, r.Committed, r.Type, r.State, r.Owner, r.Path, r.RSS > 0}
			n, ok := row[key]
			if !ok {
				n = len(d.Regions)
				row[key] = n
				base := ""
				if r.Base != 0 {
					base = hex(r.Base)
				}
				untouched := 0
				if r.State == vmmap.StateReserved && r.Committed == 0 && r.RSS == 0 {
					untouched = 1
				}
				d.Regions = append(d.Regions, regionRow{hex(r.Start), hex(r.End), int(r.Type), int(r.State),
					intern(r.Owner), intern(r.Path), base, hex(r.Committed), 0, untouched})
				k := keyOf(r)
				keys = append(keys, k)
				if _, ok := colors[k]; !ok {
					colors[k] = r
				}
			}
			if m := len(fd.Runs); m > 0 && fd.Runs[m-2]+fd.Runs[m-1] == n {
				fd.Runs[m-1]++
			} else {
				fd.Runs = append(fd.Runs, n, 1)
			}
		}
	}

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
		d.Regions[i][8] = index[k]
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
