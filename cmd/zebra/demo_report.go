package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
)

// writeReport writes report.html and the before/after PNG of every
// scenario into c.out and returns the report's path.
func writeReport(c demoConfig, scenarios []scenario, results []result) (string, error) {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return "", err
	}
	// The surviving heap gets the first shade, the one nearest VMMap's heap
	// colour, so the "after" pictures read like the document's.
	names := make([]string, c.heaps)
	for i := range names {
		names[i] = heapName(c.heaps - 1 - i)
	}
	opts := render.Options{Owners: names}
	rep := render.Report{
		Title: "zebra demo: heaps growing together, one destroyed",
		Note: fmt.Sprintf("%d heaps in %s allocate %s blocks alternately until each holds %s; then %s is destroyed. "+
			"Pictures show the address space from its bottom to the top of the heaps; figures are measured within the span the heaps occupied.",
			c.heaps, c.space, blockText(c), units.Bytes(c.total), heapName(0)),
		Options: opts,
	}
	for i, r := range results {
		before, err := r.before.WithSpan(r.picture)
		if err != nil {
			return "", err
		}
		after, err := r.after.WithSpan(r.picture)
		if err != nil {
			return "", err
		}
		sc := scenarios[i]
		rep.Sections = append(rep.Sections, render.Section{
			Caption: sc.title,
			Note:    sc.about,
			Snapshots: []render.Labelled{
				{Label: "before: all heaps full", Snapshot: before},
				{Label: "after: " + heapName(0) + " destroyed", Snapshot: after},
			},
		})
		for _, s := range []struct {
			name string
			snap *vmmap.Snapshot
		}{{"before", before}, {"after", after}} {
			o := opts
			o.Title = fmt.Sprintf("%s, %s", sc.title, s.name)
			if err := writeAtomically(filepath.Join(c.out, sc.key+"-"+s.name+".png"), func(w io.Writer) error {
				return render.PNG(w, s.snap, o)
			}); err != nil {
				return "", err
			}
		}
	}
	rep.Sections = append(rep.Sections, render.Section{
		Caption: "Results",
		Tables:  []render.Table{resultsTable(c, results)},
	})
	path := filepath.Join(c.out, "report.html")
	if err := writeAtomically(path, func(w io.Writer) error { return render.HTML(w, rep) }); err != nil {
		return "", err
	}
	return path, nil
}

func resultsTable(c demoConfig, results []result) render.Table {
	t := render.Table{
		Caption: "Measured from the address-space map within the span the heaps occupied",
		Header: []string{"scenario", "ranges of " + heapName(c.heaps-1), "free blocks after destroy",
			"largest free block", "of the freed space", "largest allocatable", "span"},
	}
	for _, r := range results {
		t.Rows = append(t.Rows, []string{r.Scenario, fmt.Sprint(r.SurvivorRanges), fmt.Sprint(r.FreeBlocks),
			units.Bytes(r.LargestFree), percent(r.LargestFree, r.Freed), units.Bytes(r.Allocatable), r.Span.String()})
	}
	return t
}
