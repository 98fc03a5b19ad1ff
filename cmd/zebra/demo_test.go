package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
)

// defaultDemo is the configuration `zebra demo` runs with no flags.
func defaultDemo(t *testing.T, extra ...string) demoConfig {
	t.Helper()
	c, err := parseDemoFlags(extra, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// survivorStats returns the surviving heap's stats in s within span.
func survivorStats(t *testing.T, r result, s *vmmap.Snapshot) vmmap.OwnerStats {
	t.Helper()
	in, err := s.WithSpan(vmmap.AddrRange(r.Span))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range vmmap.Owners(in) {
		if o.Owner == r.Survivor {
			return o
		}
	}
	t.Fatalf("%s: %s not in the map", r.Scenario, r.Survivor)
	return vmmap.OwnerStats{}
}

// checkDocument asserts the findings of github.com/pkjq/PoC.HeapReserve
// (stripes without a reserve, one range with it) on the three scenarios,
// from the maps package's measurements.
func checkDocument(t *testing.T, c demoConfig) {
	if runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		t.Skip("a 32-bit process cannot hold the windows and heaps of the demo")
	}
	freed := c.total // each heap holds at least this much
	for _, sc := range demoScenarios(c) {
		r, err := runScenario(c, sc, nil)
		if err != nil {
			t.Fatalf("%s: %v", sc.title, err)
		}
		t.Logf("%-20s ranges %2d, free blocks %2d, largest free %4d MiB (%.0f%% of %d MiB freed), score %d, %v",
			r.Scenario, r.SurvivorRanges, r.FreeBlocks, r.LargestFree>>20,
			100*float64(r.LargestFree)/float64(r.Freed), r.Freed>>20, r.ZebraScore, r.Elapsed)
		if r.Freed < freed {
			t.Errorf("%s: the destroy freed %d MiB, want at least %d", sc.title, r.Freed>>20, freed>>20)
		}
		// The largest free block is made of what heap A released and of
		// what was free already.
		var wasFree uint64
		for _, f := range vmmap.FreeBlocks(r.before) {
			wasFree += f.Size()
		}
		if r.LargestFree > r.Freed+r.FreedMetadata+wasFree {
			t.Errorf("%s: largest free block %d MiB, more than the %d MiB freed and %d MiB free before",
				sc.title, r.LargestFree>>20, (r.Freed+r.FreedMetadata)>>20, wasFree>>20)
		}
		switch sc.key {
		case "windows":
			if r.FreeBlocks < 20 {
				t.Errorf("%s: freed space in %d stripes, want ≥ 20", sc.title, r.FreeBlocks)
			}
			if r.LargestFree*4 >= freed {
				t.Errorf("%s: largest free block %d MiB, want < 25%% of %d MiB", sc.title, r.LargestFree>>20, freed>>20)
			}
		case "windows-reserve":
			o := survivorStats(t, r, r.before)
			first := o.Ranges[0]
			for _, rg := range o.Ranges {
				if rg.Size() > first.Size() {
					first = rg
				}
			}
			if first.Size() < c.reserve {
				t.Errorf("%s: %s's largest range is %d MiB, want its %d MiB reserve in one range",
					sc.title, r.Survivor, first.Size()>>20, c.reserve>>20)
			}
			if o.Stripes < 4 {
				t.Errorf("%s: %s is in %d ranges; past the reserve the stripes should return", sc.title, r.Survivor, o.Stripes)
			}
		case "zebra":
			if r.SurvivorRanges > 4 {
				t.Errorf("%s: %s in %d ranges, want ≤ 4", sc.title, r.Survivor, r.SurvivorRanges)
			}
			if r.LargestFree*2 < freed {
				t.Errorf("%s: largest free block %d MiB, want ≥ 50%% of %d MiB", sc.title, r.LargestFree>>20, freed>>20)
			}
		}
	}
}

func TestDemoWindowReproducesDocument(t *testing.T) {
	checkDocument(t, defaultDemo(t))
}

func TestDemoProcessReproducesDocument(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the process's own map is read from /proc/self/maps")
	}
	checkDocument(t, defaultDemo(t, "--space", "process"))
}

func TestDemoCommand(t *testing.T) {
	if runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		t.Skip("a 32-bit process cannot hold the windows of the demo")
	}
	dir := tempdir.New(t)
	var out, errOut bytes.Buffer
	code := run([]string{"demo", "--total", "24MiB", "--out", dir}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	for _, want := range []string{"Windows, no reserve", "Windows, reserve", "zebra", "report: " + filepath.Join(dir, "report.html"),
		"its data and its\nbookkeeping (the \"(metadata)\" ranges), is free."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, sc := range []string{"windows", "windows-reserve", "zebra"} {
		for _, when := range []string{"before", "after"} {
			if fi, err := os.Stat(filepath.Join(dir, sc+"-"+when+".png")); err != nil || fi.Size() == 0 {
				t.Errorf("picture %s-%s.png: %v", sc, when, err)
			}
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("bookkeeping freed in the span")) {
		t.Error("the report's Results table does not say how much of the space freed is bookkeeping")
	}
	for _, bad := range []string{"http://", "https://", "src=\"/"} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("report.html refers to %q: it must be self-contained", bad)
		}
	}
}

func TestDemoJSON(t *testing.T) {
	if runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		t.Skip("a 32-bit process cannot hold the windows of the demo")
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"demo", "--json", "--no-report", "--total", "8MiB", "--block", "64-4096", "--seed", "7"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	var rs []struct {
		Scenario       string
		SurvivorRanges int `json:"survivor_ranges"`
		Span           struct{ Start, End string }
	}
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(rs) != 3 || rs[0].Scenario != "Windows, no reserve" || rs[2].SurvivorRanges == 0 ||
		!strings.HasPrefix(rs[0].Span.Start, "0x") || !strings.HasPrefix(rs[0].Span.End, "0x") {
		t.Errorf("results = %+v\n%s", rs, out.String())
	}
}

func TestDemoBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"block zero", []string{"--block", "0"}, "at least 1 byte"},
		{"block larger than total", []string{"--block", "2MiB", "--total", "1MiB"}, "larger than --total"},
		{"empty range", []string{"--block", "900-300"}, "is empty"},
		{"bad unit", []string{"--block", "3 parsecs"}, "unknown unit"},
		{"negative total", []string{"--total", "-5"}, "invalid size"},
		{"total larger than space", []string{"--total", "1.5GiB"}, "need more than"},
		{"zero total", []string{"--total", "0"}, "more than 0"},
		{"no heaps", []string{"--heaps", "0"}, "at least two heaps"},
		// Issue 13, defect 8: each of these passed or failed unhelpfully.
		{"one heap", []string{"--heaps", "1"}, "at least two heaps"},
		{"negative block", []string{"--block", "-5"}, `block size "-5" is negative`},
		{"negative total names the flag", []string{"--total", "-1"}, `"-1" is negative`},
		{"out not writable", []string{"--out", "/proc/zebra-demo"}, "--out"},
		{"unknown policy", []string{"--policy", "lfh"}, "want nt or fixed"},
		{"unknown space", []string{"--space", "win16"}, "want one of"},
		{"reserve larger than space", []string{"--reserve", "3GiB"}, "larger than the"},
		{"stray argument", []string{"now"}, "unexpected argument"},
		// 1-byte blocks take 16-byte slots: 6.2 GiB for 2×200 MiB (they
		// passed and every scenario failed at ~60 MiB).
		{"one-byte blocks", []string{"--block", "1"}, "--block 1 B: its slots take 16 B per byte of data"},
		{"small blocks in a range", []string{"--block", "1-4"}, "6.4 B per byte of data (16 B per block at the least); 2 heaps of --total 200 MiB need 2.5 GiB"},
		{"unknown flag", []string{"--fast"}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"demo"}, tt.args...), &out, &errOut)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.want)
			}
			if strings.Contains(errOut.String(), "Usage") || strings.Contains(errOut.String(), "-no-progress") {
				t.Errorf("a bad flag printed the whole usage: %q", errOut.String())
			}
			if n := strings.Count(errOut.String(), "\n"); n != 1 {
				t.Errorf("stderr has %d lines, want one: %q", n, errOut.String())
			}
			if strings.Contains(errOut.String(), "goroutine") {
				t.Errorf("stderr has a stack trace: %q", errOut.String())
			}
		})
	}
}

func TestParseBlock(t *testing.T) {
	tests := []struct {
		in      string
		lo, hi  int
		wantErr bool
	}{
		{"300", 300, 300, false},
		{"64-1KiB", 64, 1024, false},
		{"1k-1k", 1000, 1000, false},
		{"1KiB-1KiB", 1024, 1024, false},
		{"0", 0, 0, true},
		{"-3", 0, 0, true},
		{"5-", 0, 0, true},
		{"2TiB", 0, 0, true},
	}
	for _, tt := range tests {
		lo, hi, err := parseBlock(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && (lo != tt.lo || hi != tt.hi)) {
			t.Errorf("parseBlock(%q) = %d, %d, %v; want %d, %d, error %v", tt.in, lo, hi, err, tt.lo, tt.hi, tt.wantErr)
		}
	}
}

// TestDemoFlagsSIUnits: "200MB" is 200×10^6 bytes, "200MiB" 200×2^20
// (issue 13, defect 8: both were 200 MiB).
func TestDemoFlagsSIUnits(t *testing.T) {
	for _, tt := range []struct {
		total string
		want  uint64
	}{{"200MB", 200e6}, {"200MiB", 200 << 20}, {"900MB", 900e6}} {
		if c := defaultDemo(t, "--total", tt.total); c.total != tt.want {
			t.Errorf("--total %s = %d, want %d", tt.total, c.total, tt.want)
		}
	}
}

// TestDemoJSONWritesNoReport: --json alone writes only to stdout (issue 13,
// defect 8: it wrote ./zebra-report/ too).
func TestDemoJSONWritesNoReport(t *testing.T) {
	if runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		t.Skip("a 32-bit process cannot hold the windows of the demo")
	}
	t.Chdir(tempdir.New(t))
	var out, errOut bytes.Buffer
	if code := run([]string{"demo", "--json", "--total", "4MiB"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if _, err := os.Stat("zebra-report"); err == nil {
		t.Error("--json wrote ./zebra-report")
	}
}

// TestProgressEndsClean: whatever the bar showed last, finish erases the
// line, so results never follow "93%" on one line (issue 13, defect 1),
// and the bar shows no rate.
func TestProgressEndsClean(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, title: "zebra", total: 100 << 20, every: time.Hour}
	p.set(58 << 20)
	p.set(93 << 20) // throttled: the line still shows 58%
	p.finish()
	got := b.String()
	if !strings.Contains(got, " 58%") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("progress output %q: want the 58%% line, then an erased line", got)
	}
	if strings.Contains(got, "/s") {
		t.Errorf("progress output %q shows a rate", got)
	}
	b.Reset()
	(&progress{}).set(1)
	(&progress{}).finish()
}

// TestDemoOutOfSpaceIsAResult: a scenario whose heaps run out is reported
// with the heap and the cause, and the other scenarios are still shown
// (issue 13, defect 7: the whole demo aborted).
func TestDemoOutOfSpaceIsAResult(t *testing.T) {
	if runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		t.Skip("a 32-bit process cannot hold the windows of the demo")
	}
	var out, errOut bytes.Buffer
	code := run([]string{"demo", "--no-report", "--no-progress", "--total", "930MiB"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	o := out.String()
	if !regexp.MustCompile(`heap [AB] failed at [0-9.]+ MiB of 930 MiB: no free block of`).MatchString(o) ||
		!strings.Contains(o, "zebra") || !strings.Contains(o, "Windows, reserve") {
		t.Errorf("output:\n%s", o)
	}
}

// TestDemoOneSpanForEveryFigure: the report's pictures and per-snapshot
// tables cover the span the results are measured in, and every "after"
// figure, in the terminal, the Results table, the Summary and Comparison
// tables and the picture's facts, is the same free-block count and largest
// block (issue 13, defect 3; at the default 200 MiB heap A's bookkeeping
// lies in the span, and counting it apart in some figures only gave 29 and
// 31 blocks in one report). The freed space is the destroyed heap's data,
// its metadata shown apart (defect 5).
func TestDemoOneSpanForEveryFigure(t *testing.T) {
	if runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		t.Skip("a 32-bit process cannot hold the windows of the demo")
	}
	for _, total := range []string{"24MiB", "200MiB"} {
		c := defaultDemo(t, "--total", total)
		for _, sc := range demoScenarios(c) {
			t.Run(total+"/"+sc.key, func(t *testing.T) {
				r, err := runScenario(c, sc, nil)
				if err != nil {
					t.Fatal(err)
				}
				checkOneFigure(t, c, r)
			})
		}
	}
}

// checkOneFigure checks that every figure of r after the destroy says
// what r does.
func checkOneFigure(t *testing.T, c demoConfig, r result) {
	t.Helper()
	for _, s := range []*vmmap.Snapshot{r.before, r.after} {
		if s.Span != vmmap.AddrRange(r.Span) {
			t.Errorf("report snapshot span %v, results span %v", s.Span, r.Span)
		}
	}
	blocks, largest := strconv.Itoa(r.FreeBlocks), units.Bytes(r.LargestFree)
	// The Summary and the Comparison tables.
	if row := vmmap.Summarize(r.after).Row(vmmap.Free); row.Blocks != r.FreeBlocks || row.Largest != r.LargestFree {
		t.Errorf("Summary's Free row: %d blocks, largest %d; results: %d blocks, largest %d",
			row.Blocks, row.Largest, r.FreeBlocks, r.LargestFree)
	}
	// The picture's facts.
	var svg bytes.Buffer
	if err := render.SVG(&svg, r.after, render.Options{}); err != nil {
		t.Fatal(err)
	}
	if want := "largest free block " + largest + " · " + plural(r.FreeBlocks, "free block", "free blocks"); !strings.Contains(svg.String(), want) {
		t.Errorf("the picture lacks %q", want)
	}
	// The Results table and the terminal.
	row := resultsTable(c, []result{r}).Rows[0]
	if row[2] != blocks || row[3] != largest {
		t.Errorf("Results table: %q blocks, largest %q; want %s, %s", row[2], row[3], blocks, largest)
	}
	var out bytes.Buffer
	printResults(&out, c, []result{r})
	if !regexp.MustCompile(regexp.QuoteMeta(r.Scenario) + `\s+\d+\s+` + blocks + `\s+` + regexp.QuoteMeta(largest) + " ").MatchString(out.String()) {
		t.Errorf("the terminal does not say %s free blocks, largest %s:\n%s", blocks, largest, out.String())
	}
	var data uint64
	for _, o := range vmmap.Owners(r.before) {
		if o.Owner == heapName(0) {
			data = o.Bytes
		}
	}
	if r.Freed != data || r.Freed < c.total {
		t.Errorf("freed %d bytes, want heap A's data, %d bytes (metadata %d apart)", r.Freed, data, r.FreedMetadata)
	}
}

// TestMetadataOwnerConvention keeps vmmap.HeapOf in step with
// heap.MetadataOwner, which the two packages share by name only.
func TestMetadataOwnerConvention(t *testing.T) {
	if got := vmmap.HeapOf(heap.MetadataOwner("heap A")); got != "heap A" || !vmmap.IsMetadata(heap.MetadataOwner("x")) {
		t.Errorf("vmmap.HeapOf(heap.MetadataOwner(\"heap A\")) = %q", got)
	}
}

// metadataLayout is a snapshot drawn in 1 MiB cells: 'A' heap A's data,
// 'a' its bookkeeping, 'B' heap B, '.' free. Each run of one character is
// one region; in after, heap A's memory is free, merged with the free space
// around it as the OS reports it.
func metadataLayout(t *testing.T, cells string, after bool) *vmmap.Snapshot {
	t.Helper()
	const base, unit = 0x40000000, 1 << 20
	if after {
		cells = strings.Map(func(r rune) rune {
			if r == 'A' || r == 'a' {
				return '.'
			}
			return r
		}, cells)
	}
	s := &vmmap.Snapshot{Source: "test", Span: vmmap.AddrRange{Start: base, End: base + uint64(len(cells))*unit}, Granularity: 64 << 10}
	for i := 0; i < len(cells); {
		j := i
		for j < len(cells) && cells[j] == cells[i] {
			j++
		}
		r := vmmap.Region{Start: base + uint64(i)*unit, End: base + uint64(j)*unit, Type: vmmap.Heap, State: vmmap.StateCommitted}
		switch cells[i] {
		case 'A':
			r.Owner = heapName(0)
		case 'a':
			r.Owner, r.State = heap.MetadataOwner(heapName(0)), vmmap.StateReserved
		case 'B':
			r.Owner = heapName(1)
		default:
			r.Type, r.State = vmmap.Free, vmmap.StateFree
		}
		s.Regions = append(s.Regions, r)
		i = j
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDemoMetadataIsFreed: the free blocks after the destroy are the
// map's, heap A's released bookkeeping free like its data, wherever it
// was: next to its data, in the middle of a data range or between other
// heaps; its size is shown apart (issue 13, defects 3 and 5).
func TestDemoMetadataIsFreed(t *testing.T) {
	for _, tt := range []struct {
		cells         string
		blocks        int
		largest, meta uint64 // MiB
	}{
		{"BAAAaaaaBAAB", 2, 7, 4}, // next to the data
		{"BAAABAAaaaaB", 2, 6, 4}, // next to the other range
		{"BAaaaaAABAAB", 2, 7, 4}, // inside a data range
		{"BAAABaaaaAAB", 2, 6, 4}, // between heap B and heap A
		{"BAAAB..aaaaB..AAB", 3, 6, 4},
		{"BAAABaaaaBAAB", 3, 4, 4}, // a block of bookkeeping alone
		{"BAAABAAB", 2, 3, 0},      // bookkeeping outside the span
	} {
		t.Run(tt.cells, func(t *testing.T) {
			res := result{Survivor: heapName(1), before: metadataLayout(t, tt.cells, false), after: metadataLayout(t, tt.cells, true)}
			if err := measure(&res, []string{heapName(0), heapName(1)}, 64<<10); err != nil {
				t.Fatal(err)
			}
			ranges := strings.Count(tt.cells, "B")
			want := result{Freed: 5 << 20, FreedMetadata: tt.meta << 20, FreeBlocks: tt.blocks, LargestFree: tt.largest << 20,
				Allocatable: tt.largest << 20, SurvivorRanges: ranges}
			got := result{Freed: res.Freed, FreedMetadata: res.FreedMetadata, FreeBlocks: res.FreeBlocks,
				LargestFree: res.LargestFree, Allocatable: res.Allocatable, SurvivorRanges: res.SurvivorRanges}
			if got != want {
				t.Errorf("measured %+v\nwant     %+v", got, want)
			}
		})
	}
}

// TestFiguresTextSaysWhyProcessVaries: the real address space gets the
// line that says why its figures move between runs; emulated windows,
// which place every block alike, do not; every line fits 100 columns.
func TestFiguresTextSaysWhyProcessVaries(t *testing.T) {
	tests := []struct {
		space string
		want  bool
	}{{"win32", false}, {"wow64", false}, {"process", true}}
	for _, tt := range tests {
		got := figuresText(demoConfig{space: tt.space})
		if strings.Contains(got, "vary from run to run") != tt.want {
			t.Errorf("--space %s: says figures vary = %v, want %v:\n%s", tt.space, !tt.want, tt.want, got)
		}
		for _, line := range strings.Split(got, "\n") {
			if len([]rune(line)) > 100 {
				t.Errorf("--space %s: line of %d columns: %q", tt.space, len([]rune(line)), line)
			}
		}
	}
}
