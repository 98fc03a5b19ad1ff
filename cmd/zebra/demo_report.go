package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
)

// writeReport writes report.html and the before/after PNG of every
// scenario into c.out and returns the report's path.
func writeReport(c demoConfig, scenarios []scenario, results []result) (string, error) {
	// The surviving heap gets the first shade, the one nearest VMMap's heap
	// colour, so the "after" pictures read like the PoC's VMMap screenshots. Each
	// heap's metadata is pinned with it: one owner keeps one colour in
	// every picture of the report.
	var names []string
	for i := range c.heaps {
		n := heapName(c.heaps - 1 - i)
		names = append(names, n, heap.MetadataOwner(n))
	}
	opts := render.Options{Owners: names}
	rep := render.Report{
		Title: "zebra demo: heaps growing together, one destroyed",
		Note: fmt.Sprintf("The experiment of github.com/pkjq/PoC.HeapReserve: %s in %s allocate %s blocks alternately "+
			"until each holds %s; then %s is destroyed. Pictures and their tables show the map of the span the heaps occupied as it is; "+
			"the Results table measures it as follows. %s",
			plural(c.heaps, "heap", "heaps"), c.space, blockText(c), units.Bytes(c.total), heapName(0), strings.ReplaceAll(figuresText(c), "\n", " ")),
		Options: opts,
	}
	for i, r := range results {
		sc := scenarios[i]
		type shot struct {
			name string
			snap *vmmap.Snapshot
		}
		shots := []shot{{"before", r.before}, {"after", r.after}}
		sec := render.Section{Caption: sc.title, Note: sc.about, Snapshots: []render.Labelled{
			{Label: "before: all heaps full", Snapshot: r.before},
			{Label: "after: " + heapName(0) + " destroyed", Snapshot: r.after},
		}}
		if r.Failure != "" {
			shots = shots[:1]
			sec.Note += " " + r.Failure + "."
			sec.Snapshots = []render.Labelled{{Label: "when it ran out", Snapshot: r.before}}
		}
		rep.Sections = append(rep.Sections, sec)
		for _, s := range shots {
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
		Caption: "Results",
		Header: []string{"scenario", "ranges of " + heapName(c.heaps-1), "free blocks after destroy",
			"largest free block", "of freed", "largest allocatable", "bookkeeping freed in the span",
			"zebra score before", "span"},
	}
	for _, r := range results {
		if r.Failure != "" {
			t.Rows = append(t.Rows, []string{r.Scenario, r.Failure, "", "", "", "", "", fmt.Sprint(r.ZebraScore), r.Span.String()})
			continue
		}
		t.Rows = append(t.Rows, []string{r.Scenario, fmt.Sprint(r.SurvivorRanges), fmt.Sprint(r.FreeBlocks),
			units.Bytes(r.LargestFree), percent(r.LargestFree, r.Freed+r.FreedMetadata), units.Bytes(r.Allocatable),
			units.Bytes(r.FreedMetadata), fmt.Sprint(r.ZebraScore), r.Span.String()})
	}
	return t
}
