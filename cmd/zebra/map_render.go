package main

import (
	"io"

	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
)

// The picture formats of `zebra map -o FILE`: the renderer's defaults
// (automatic scale, free gaps of a 64-bit space folded) suit any process.

func writeMapPNG(w io.Writer, s *vmmap.Snapshot) error { return render.PNG(w, s, render.Options{}) }

func writeMapSVG(w io.Writer, s *vmmap.Snapshot) error { return render.SVG(w, s, render.Options{}) }

// writeMapHTML writes a one-snapshot report: picture, summary, largest free
// blocks and owners.
func writeMapHTML(w io.Writer, s *vmmap.Snapshot) error {
	return render.HTML(w, render.Report{
		Title:    "zebra map: " + s.Source,
		Sections: []render.Section{{Snapshots: []render.Labelled{{Snapshot: s}}}},
	})
}

// writeDiffHTML writes a report with snapshots a and b side by side, their
// comparison and the list of changes (render.HTML adds those for a section
// of two snapshots).
func writeDiffHTML(w io.Writer, aName string, a *vmmap.Snapshot, bName string, b *vmmap.Snapshot) error {
	return render.HTML(w, render.Report{
		Title: "zebra map --diff: " + aName + " → " + bName,
		Sections: []render.Section{{Snapshots: []render.Labelled{
			{Label: aName, Snapshot: a}, {Label: bName, Snapshot: b},
		}}},
	})
}
