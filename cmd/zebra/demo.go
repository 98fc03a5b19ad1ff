package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/zebra-heap/zebra/internal/units"
)

// runDemo is `zebra demo`: the experiment of github.com/pkjq/PoC.HeapReserve
// in one command. See demo_scenario.go for the scenarios and what is
// measured, and demo_report.go for the report.
func runDemo(args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseDemoFlags(args, stdout)
	if err != nil {
		return err
	}
	if c.rec, err = openDemoRecord(c.recordTo, c); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.rec.close(stdout)) }()
	report := !c.noReport && (!c.jsonOut || c.outSet)
	if report {
		// Checked before the experiment, which can take seconds.
		if err := checkWritableDir(c.out); err != nil {
			return usageErrorf("--out: %v", err)
		}
	}
	results := make([]result, 0, 3)
	for _, sc := range demoScenarios(c) {
		bar := newProgress(c, sc, stderr)
		res, err := runScenario(c, sc, bar.set)
		bar.finish()
		if err != nil {
			return fmt.Errorf("%s: %w", sc.title, err)
		}
		results = append(results, res)
	}
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		printResults(stdout, c, results)
	}
	if !report {
		return nil
	}
	path, err := writeReport(c, demoScenarios(c), results)
	if err != nil {
		return err
	}
	if !c.jsonOut {
		fmt.Fprintf(stdout, "\nreport: %s\n", path)
	}
	return nil
}

// checkWritableDir creates dir if needed and makes sure a file can be
// written in it.
func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".zebra-check-*")
	if err != nil {
		return fmt.Errorf("%s is not writable", dir)
	}
	f.Close()
	return os.Remove(f.Name())
}

// progress draws one line on a terminal, "title  42%  84 MiB of 200 MiB",
// and erases it when the scenario ends, so the results start on a clean
// line. It shows no rate: early rates of a fast fill are meaningless.
type progress struct {
	w     io.Writer // nil: draw nothing
	title string
	total uint64
	every time.Duration
	last  time.Time
	drawn bool
}

func newProgress(c demoConfig, sc scenario, stderr io.Writer) *progress {
	f, ok := stderr.(*os.File)
	if c.noProgress || !ok || !isatty.IsTerminal(f.Fd()) {
		return &progress{}
	}
	return &progress{w: stderr, title: sc.title, total: c.total * uint64(c.heaps), every: 100 * time.Millisecond}
}

func (p *progress) set(held uint64) {
	if p.w == nil || time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\x1b[K%-20s %3.0f%%  %s of %s", p.title, 100*float64(min(held, p.total))/float64(p.total),
		units.Bytes(held), units.Bytes(p.total))
	p.drawn = true
}

// finish erases the line, whatever percentage it showed last.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// printResults prints one row per scenario and says once what the figures
// are.
func printResults(w io.Writer, c demoConfig, results []result) {
	fmt.Fprintf(w, "%s in %s, %s blocks, %s each; then %s is destroyed.\n",
		plural(c.heaps, "heap", "heaps"), c.space, blockText(c), units.Bytes(c.total), heapName(0))
	fmt.Fprintln(w, figuresText(c))
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\t"+heapName(c.heaps-1)+" ranges\tfree blocks\tlargest free\tof freed\tallocatable\tzebra score\t")
	var failed []result
	for _, r := range results {
		if r.Failure != "" {
			fmt.Fprintf(tw, "%s\tfailed\t\t\t\t\t%d\t\n", r.Scenario, r.ZebraScore)
			failed = append(failed, r)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%d\t\n", r.Scenario, r.SurvivorRanges, r.FreeBlocks,
			units.Bytes(r.LargestFree), percent(r.LargestFree, r.Freed+r.FreedMetadata), units.Bytes(r.Allocatable), r.ZebraScore)
	}
	tw.Flush()
	for _, r := range failed {
		fmt.Fprintf(w, "%s: %s\n", r.Scenario, r.Failure)
	}
}

// figuresNote is the one definition of every figure the demo prints, in
// the terminal, the JSON's documentation and the report.
// Lines are cut to fit 100 columns; the HTML report joins them.
const figuresNote = "Measured from the address-space map within the span the heaps occupied before the destroy.\n" +
	"Free blocks and the largest free block are the map's free blocks in that span after the destroy,\n" +
	"as the pictures and tables show them: what the destroyed heap released there, its data and its\n" +
	"bookkeeping (the \"(metadata)\" ranges), is free. \"of freed\" compares that block with all it released.\n" +
	"The zebra score counts changes between heaps before the destroy (a heap and its metadata are one)."

// processNote says why --space process figures differ from run to run.
const processNote = "In this process's real address space the Go runtime maps its own memory (heap, stacks) as\n" +
	"the heaps grow, wherever the kernel puts it, among their ranges too: figures vary from run to run."

// figuresText is figuresNote, with processNote for the real address space.
func figuresText(c demoConfig) string {
	if c.space == "process" {
		return figuresNote + "\n" + processNote
	}
	return figuresNote
}

// plural returns "1 heap" or "2 heaps".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func blockText(c demoConfig) string {
	if c.blockMin == c.blockMax {
		return units.Bytes(uint64(c.blockMin))
	}
	return fmt.Sprintf("%s-%s (seed %d)", units.Bytes(uint64(c.blockMin)), units.Bytes(uint64(c.blockMax)), c.seed)
}

func percent(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(part)/float64(whole))
}
