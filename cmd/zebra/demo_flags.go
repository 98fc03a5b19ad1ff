package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/units"
)

// demoConfig is the demo's command line, validated.
type demoConfig struct {
	heaps      int
	blockMin   int // bytes; equal to blockMax for a fixed block size
	blockMax   int
	seed       int64
	total      uint64 // bytes each heap holds before the snapshot
	reserve    uint64 // the reserved heap's ReserveSize
	policy     string // growth policy of the "Windows" scenarios: nt or fixed
	engine     string // heap engine of the "Windows" scenarios: go or nt (demo_engine.go)
	space      string // win32, win32-3gb, wow64 or process
	jsonOut    bool
	noReport   bool
	out        string
	outSet     bool // --out was given: with --json, a report is wanted too
	noProgress bool
	recordTo   string        // --record: timeline file
	rec        *demoRecorder // its writer while the demo runs
}

// spaceNames are the address spaces --space accepts; spaceBytes gives
// their sizes.
var spaceNames = []string{"win32", "win32-3gb", "wow64", "process"}

// sizeFlag is a flag.Value for sizes with units ("300", "150MiB").
type sizeFlag struct{ v *uint64 }

func (f sizeFlag) String() string {
	if f.v == nil {
		return ""
	}
	return units.Bytes(*f.v)
}

func (f sizeFlag) Set(s string) error {
	n, err := units.Parse(s)
	if err != nil {
		return err
	}
	*f.v = n
	return nil
}

// parseDemoFlags reads the demo's flags. Every error it returns is a usage
// error (exit status 2); -h prints the usage to help (stdout) and returns
// flag.ErrHelp. A bad flag gets one line naming it, not the whole usage.
func parseDemoFlags(args []string, help io.Writer) (demoConfig, error) {
	c := demoConfig{total: 200 << 20, reserve: 150 << 20}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&c.heaps, "heaps", 2, "number of heaps growing at the same time (the first is destroyed)")
	block := fs.String("block", "300", "block size, or MIN-MAX for random sizes (with --seed)")
	fs.Int64Var(&c.seed, "seed", 1, "random seed for --block MIN-MAX")
	fs.Var(sizeFlag{&c.total}, "total", "bytes each heap holds before one is destroyed")
	fs.Var(sizeFlag{&c.reserve}, "reserve", "ReserveSize of the reserved heap (the last one)")
	fs.StringVar(&c.policy, "policy", "nt", "growth of the Windows scenarios past their reserve: nt or fixed")
	fs.StringVar(&c.engine, "engine", "go", engineUsage)
	fs.StringVar(&c.space, "space", "win32", "address space: "+strings.Join(spaceNames, ", ")+
		" (2, 3 and 4 GiB windows, or this process's real address space)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the results as JSON instead of a table (no report unless --out is given)")
	fs.BoolVar(&c.noReport, "no-report", false, "do not write the report directory")
	fs.StringVar(&c.out, "out", "zebra-report", "report directory")
	fs.BoolVar(&c.noProgress, "no-progress", false, "never draw a progress bar")
	fs.StringVar(&c.recordTo, "record", "", "write a timeline of every scenario as it allocates to `FILE` (for zebra report)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			printHelp(help, "usage: zebra demo [flags]\n\n"+
				"Reproduces github.com/pkjq/PoC.HeapReserve: heaps growing together, one destroyed,\n"+
				"with and without reserve.\n"+
				"Sizes take SI or IEC units: 300, 64KiB, 150MiB (2^20), 200MB (10^6), 1.5GiB.\n", fs)
			return c, err
		}
		return c, usageErrorf("%v (see 'zebra help demo')", err)
	}
	spaceSet := false
	fs.Visit(func(f *flag.Flag) {
		c.outSet = c.outSet || f.Name == "out"
		spaceSet = spaceSet || f.Name == "space"
	})
	if c.engine == "nt" && !spaceSet {
		c.space = "process" // the only space the NT heap can live in
	}
	if fs.NArg() > 0 {
		return c, usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.blockMin, c.blockMax, err = parseBlock(*block); err != nil {
		return c, usageErrorf("--block: %v", err)
	}
	return c, c.validate()
}

// parseBlock reads "300" or "64-1024" (units allowed on both ends).
func parseBlock(s string) (lo, hi int, err error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, 0, fmt.Errorf("block size %q is negative", s)
	}
	a, b, isRange := strings.Cut(s, "-")
	n, err := units.Parse(a)
	if err != nil {
		return 0, 0, err
	}
	m := n
	if isRange {
		if m, err = units.Parse(b); err != nil {
			return 0, 0, err
		}
	}
	const maxBlock = min(1<<40, math.MaxInt)
	if n == 0 || m == 0 {
		return 0, 0, fmt.Errorf("block size must be at least 1 byte")
	}
	if n > maxBlock || m > maxBlock {
		return 0, 0, fmt.Errorf("block size %s is too large", units.Bytes(max(n, m)))
	}
	if n > m {
		return 0, 0, fmt.Errorf("range %s is empty: %s > %s", strconv.Quote(s), units.Bytes(n), units.Bytes(m))
	}
	return int(n), int(m), nil
}

// spaceBytes returns the user address space of an emulated --space, or 0
// for the process's own.
func spaceBytes(space string) uint64 {
	switch space {
	case "win32":
		return 0x7FFF0000 - 0x10000
	case "win32-3gb":
		return 0xBFFF0000 - 0x10000
	case "wow64":
		return 0xFFFF0000 - 0x10000
	}
	return 0
}

// slotsPerByte returns the address space the heap's slots take per byte of
// the demo's blocks, sizes drawn evenly from [lo, hi]: the sum of
// heap.SlotSize over the sizes by the sum of the sizes, at most 4,096 sizes
// evenly spaced, the bookkeeping aside. It is at least 1.
func slotsPerByte(lo, hi int) float64 {
	step := max((hi-lo)/4096, 1)
	var slots, data float64
	for n := lo; n <= hi && n >= lo; n += step {
		slots += float64(heap.SlotSize(n, windowPage))
		data += float64(n)
	}
	return max(slots/data, 1)
}

// windowPage is the page of the emulated spaces (4 KiB, as on Windows).
const windowPage = 4 << 10

func (c demoConfig) validate() error {
	switch {
	case c.heaps < 2:
		return usageErrorf("--heaps %d: need at least two heaps (the first is destroyed, the last survives)", c.heaps)
	case c.heaps > 64:
		return usageErrorf("--heaps %d: at most 64", c.heaps)
	case c.total == 0:
		return usageErrorf("--total must be more than 0")
	case c.total > math.MaxInt || c.reserve > math.MaxInt:
		return usageErrorf("--total %s or --reserve %s is more than this process can address",
			units.Bytes(c.total), units.Bytes(c.reserve))
	case uint64(c.blockMax) > c.total:
		return usageErrorf("--block %s is larger than --total %s", units.Bytes(uint64(c.blockMax)), units.Bytes(c.total))
	case c.policy != "nt" && c.policy != "fixed":
		return usageErrorf("--policy %q: want nt or fixed", c.policy)
	}
	if err := c.validateEngine(); err != nil {
		return err
	}
	found := false
	for _, s := range spaceNames {
		found = found || s == c.space
	}
	if !found {
		return usageErrorf("--space %q: want one of %s", c.space, strings.Join(spaceNames, ", "))
	}
	if room := spaceBytes(c.space); room > 0 {
		if need := c.total * uint64(c.heaps); need/uint64(c.heaps) != c.total || need > room {
			return usageErrorf("%d heaps of --total %s need more than the %s of --space %s",
				c.heaps, units.Bytes(c.total), units.Bytes(room), c.space)
		}
		// Each block takes a slot of its size class (16 B at the least):
		// 1-byte blocks take 16 times their data.
		perByte := slotsPerByte(c.blockMin, c.blockMax)
		if need := float64(c.total) * float64(c.heaps) * perByte; need > float64(room) {
			return usageErrorf("--block %s: its slots take %.3g B per byte of data (16 B per block at the least); "+
				"%d heaps of --total %s need %s, more than the %s of --space %s",
				blockText(c), perByte, c.heaps, units.Bytes(c.total), units.Bytes(uint64(need)), units.Bytes(room), c.space)
		}
		if c.reserve > room {
			return usageErrorf("--reserve %s is larger than the %s of --space %s",
				units.Bytes(c.reserve), units.Bytes(room), c.space)
		}
	}
	return nil
}
