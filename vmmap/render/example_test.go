package render_test

import (
	"bytes"
	"fmt"
	"image/png"
	"log"
	"strings"

	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
)

// window is a small emulated 32-bit address space: two heaps that grew in
// turns, then heap A was destroyed.
func window() *vmmap.Snapshot {
	const mib = 1 << 20
	s := &vmmap.Snapshot{Source: "window win32", Span: vmmap.AddrRange{Start: 0, End: 64 * mib}}
	at := uint64(0)
	for i := 0; i < 8; i++ {
		r := vmmap.Region{Start: at, End: at + 4*mib, Type: vmmap.Heap, State: vmmap.StateCommitted, Owner: "B"}
		if i%2 == 0 {
			r = vmmap.Region{Start: at, End: at + 4*mib, Type: vmmap.Free, State: vmmap.StateFree} // heap A, destroyed
		}
		s.Regions = append(s.Regions, r)
		at += 4 * mib
	}
	s.Regions = append(s.Regions, vmmap.Region{Start: at, End: 64 * mib, Type: vmmap.Free})
	return s
}

func ExamplePNG() {
	var buf bytes.Buffer
	if err := render.PNG(&buf, window(), render.Options{Width: 256}); err != nil {
		log.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		log.Fatal(err)
	}
	// The picture is the map's 256 pixels per row plus the address ruler.
	fmt.Println("PNG wider than the map:", img.Bounds().Dx() > 256)
	// Output: PNG wider than the map: true
}

func ExampleSVG() {
	var buf bytes.Buffer
	if err := render.SVG(&buf, window(), render.Options{}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("tooltips:", strings.Count(buf.String(), `<g class="region"`))
	fmt.Println(strings.Contains(buf.String(), "0x400000-0x800000  4 MiB  Heap (committed)&#xA;owner: B"))
	// Output:
	// tooltips: 9
	// true
}

func ExampleHTML() {
	before, after := window(), window()
	after.Regions[1] = vmmap.Region{Start: after.Regions[1].Start, End: after.Regions[1].End, Type: vmmap.Free}
	r := render.Report{
		Title: "Destroying heap B's first segment",
		Sections: []render.Section{{
			Caption:   "Two snapshots side by side",
			Snapshots: []render.Labelled{{Label: "before", Snapshot: before}, {Label: "after", Snapshot: after}},
			Tables:    []render.Table{{Caption: "Notes", Header: []string{"step", "what"}, Rows: [][]string{{"1", "free 4 MiB"}}}},
		}},
	}
	var buf bytes.Buffer
	if err := render.HTML(&buf, r); err != nil {
		log.Fatal(err)
	}
	out := buf.String()
	fmt.Println("pictures:", strings.Count(out, "<svg"))
	fmt.Println("diff:", strings.Contains(out, "<td class=\"wrap\">vanished</td>"))
	// Output:
	// pictures: 2
	// diff: true
}
