package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/zebra-heap/zebra/internal/units"
)

// runDemo is `zebra demo`: the user's document's experiment in one command.
// See demo_scenario.go for the scenarios and what is measured, and
// demo_report.go for the report.
func runDemo(args []string, stdout, stderr io.Writer) error {
	c, err := parseDemoFlags(args, stderr)
	if err != nil {
		return err
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
	if c.noReport {
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

// progress draws a bar on a terminal and nothing elsewhere.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(c demoConfig, sc scenario, stderr io.Writer) progress {
	f, ok := stderr.(*os.File)
	if c.noProgress || !ok || !isatty.IsTerminal(f.Fd()) {
		return progress{}
	}
	return progress{progressbar.NewOptions64(int64(c.total)*int64(c.heaps),
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("%-20s", sc.title)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

func (p progress) set(held uint64) {
	if p.bar != nil {
		p.bar.Set64(int64(held))
	}
}

func (p progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// printResults prints one row per scenario.
func printResults(w io.Writer, c demoConfig, results []result) {
	fmt.Fprintf(w, "%d heaps in %s, %s blocks, %s each; then %s is destroyed.\n",
		c.heaps, c.space, blockText(c), units.Bytes(c.total), heapName(0))
	fmt.Fprintln(w, "Measured from the address-space map, within the span the heaps occupied.")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tranges of "+heapName(c.heaps-1)+"\tfree blocks\tlargest free\tof freed\tlargest allocatable\tspan\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", r.Scenario, r.SurvivorRanges, r.FreeBlocks,
			units.Bytes(r.LargestFree), percent(r.LargestFree, r.Freed), units.Bytes(r.Allocatable), r.Span)
	}
	tw.Flush()
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
