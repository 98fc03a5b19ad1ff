// Command bench is zebra's benchmark suite: every workload on every peer
// (zebra's heaps, Go's allocator, mimalloc, jemalloc, glibc, no-op floors),
// interleaved over rounds, written up as BENCHMARKS.md with charts. See
// README.md for how to run it and what each workload measures.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// workloads in the order they run and are reported.
var allWorkloads = []string{"churn", "sizes", "seed", "destroy", "mappings", "bubbles", "gc", "arena", "cache"}

// scale holds the sizes of one mode: full (the figures) or quick
// (tiny, for CI).
type scale struct {
	quick         bool
	slots, ops    int
	sizes         [][2]int // size, iterations
	seedPer       int      // bytes per heap
	seedReserve   int      // heap B's reserve
	destroyBlocks int
	mapPer        int // bytes per heap in the mappings workload
	gcTotal       int // bytes of records in the GC relief
	gcOps         int // its units of work
	arenaRequests int // requests of 1000 objects in the arena workload
}

var full = scale{
	slots: 100_000, ops: 10_000_000,
	sizes:   [][2]int{{16, 1_000_000}, {64, 1_000_000}, {256, 1_000_000}, {1 << 10, 1_000_000}, {16 << 10, 50_000}, {256 << 10, 5_000}, {4 << 20, 500}},
	seedPer: 200 << 20, seedReserve: 150 << 20, destroyBlocks: 1 << 20, mapPer: 8 << 20,
	gcTotal: 1 << 30, gcOps: 1_500_000, arenaRequests: 20_000,
}

var quick = scale{
	quick: true,
	slots: 10_000, ops: 200_000,
	sizes:   [][2]int{{16, 20_000}, {64, 20_000}, {256, 20_000}, {1 << 10, 20_000}, {16 << 10, 2_000}, {256 << 10, 200}, {4 << 20, 20}},
	seedPer: 8 << 20, seedReserve: 6 << 20, destroyBlocks: 50_000, mapPer: 1 << 20,
	gcTotal: 32 << 20, gcOps: 200_000, arenaRequests: 200,
}

// job is one measurement: one process per peer per round.
type job struct {
	name     string // the case it reports ("churn/1t", "seed", ...)
	workload string // what the worker runs: churn, sizes, fill, floor
	threads  int
	shared   bool
	sizes    [][2]int
	heaps    int
	per      int
	size     int
	reserve  int
	touchAll bool
	destroy  bool
	ops      int
	quick    bool
	once     bool // deterministic: measured in the first round only
}

func jobs(workloads []string, s scale) []job {
	var js []job
	for _, w := range workloads {
		switch w {
		case "churn":
			js = append(js,
				job{name: "churn/1t", workload: "churn", threads: 1},
				job{name: "churn/2t-private", workload: "churn", threads: 2},
				job{name: "churn/2t-shared", workload: "churn", threads: 2, shared: true},
				job{name: "churn/8g-private", workload: "churn", threads: 8},
				job{name: "churn/8g-shared", workload: "churn", threads: 8, shared: true})
		case "sizes":
			js = append(js, job{name: "sizes", workload: "sizes", sizes: s.sizes})
		case "seed":
			js = append(js, job{name: "seed", workload: "fill", heaps: 2, per: s.seedPer, size: 300, reserve: s.seedReserve, touchAll: true, destroy: true})
		case "destroy":
			js = append(js, job{name: "destroy", workload: "fill", heaps: 1, per: 64 * s.destroyBlocks, size: 64, touchAll: true, destroy: true})
		case "bubbles":
			js = append(js, job{name: "bubbles", workload: "bubbles", quick: s.quick, once: true})
		case "gc":
			js = append(js, job{name: "gc", workload: "gc", per: s.gcTotal, ops: s.gcOps})
		case "arena":
			js = append(js, job{name: "arena", workload: "arena", ops: s.arenaRequests})
		case "cache":
			js = append(js, cacheJobs(s.quick)...)
		case "mappings":
			for _, n := range []int{4, 16, 64} {
				js = append(js, job{name: fmt.Sprintf("mappings/%d", n), workload: "fill", heaps: n, per: s.mapPer, size: 1 << 10})
			}
		}
	}
	return js
}

// skipJob says whether a peer sits a job out and, when the reader should
// know, why (a note under the case's table).
func skipJob(p *peer, j job, round int) (skip bool, why string) {
	base, _, _ := strings.Cut(j.name, "/")
	switch {
	case len(p.Only) > 0 && !slices.Contains(p.Only, base):
		return true, ""
	case j.workload == "cache" && !slices.Contains(p.Only, "cache"):
		return true, ""
	case j.shared && p.zebra && !goPeers[p.Name].shared:
		return true, p.Name + " does not run: a NoSerialize heap serves one goroutine at a time"
	case j.shared && p.Name == "mimalloc-arena":
		return true, "mimalloc-arena does not run: mimalloc heaps serve only their own thread; the shared row is mimalloc's mi_malloc"
	case j.workload == "bubbles" && !p.zebra:
		return true, "Only zebra's rows run: the emulated 2 GiB window is a zebra vmem.Space; the C peers and Go's allocator have only the real 64-bit address space, where nothing runs out"
	case j.workload == "gc" && p.Name != "go" && p.Name != zebraPeers[0].Name:
		return true, "Only " + zebraPeers[0].Name + " and go run: the question is Go's GC with and without the records in its heap (the C peers have no GC)"
	case j.workload == "arena" && !p.zebra && requestPeers[p.Name] == nil && p.Name != "go-arena":
		return true, "Only zebra's rows, go, go-bump and go-arena run: the case is per-request memory in Go programs"
	case j.once && round > 0:
		return true, ""
	}
	return false, ""
}

// argv is the command line of one job for one peer.
func argv(p *peer, j job, prefix string) []string {
	if p.isC() {
		v := p.Var
		if j.shared && p.Lib == "mimalloc" {
			v = "shared"
		}
		switch j.workload {
		case "churn":
			return []string{p.bin, "churn", v, j.trace(), strconv.Itoa(j.threads), b01(j.shared)}
		case "sizes":
			a := []string{p.bin, "sizes", v}
			for _, s := range j.sizes {
				a = append(a, fmt.Sprintf("%d:%d", s[0], s[1]))
			}
			return a
		}
		touch := "first"
		if j.touchAll {
			touch = "all"
		}
		return []string{p.bin, "fill", v, strconv.Itoa(j.heaps), strconv.Itoa(j.per), strconv.Itoa(j.size), strconv.Itoa(j.reserve), touch, b01(j.destroy), prefix}
	}
	a := []string{p.bin, "worker", j.workload, "-peer", p.Name}
	if strings.HasPrefix(p.Name, "floor-") {
		return []string{p.bin, "worker", "floor", "-per", strconv.Itoa(j.heaps * j.per), "-huge=" + strconv.FormatBool(p.Name == "floor-thp")}
	}
	switch j.workload {
	case "bubbles":
		return append(a, "-quick="+strconv.FormatBool(j.quick))
	case "gc":
		return append(a, "-per", strconv.Itoa(j.per), "-ops", strconv.Itoa(j.ops))
	case "arena":
		return append(a, "-ops", strconv.Itoa(j.ops))
	case "cache":
		return append(a, "-case", j.name, "-quick="+strconv.FormatBool(j.quick))
	case "churn":
		return append(a, "-trace", j.trace(), "-threads", strconv.Itoa(j.threads), "-shared="+strconv.FormatBool(j.shared))
	case "sizes":
		for _, s := range j.sizes {
			a = append(a, fmt.Sprintf("%d:%d", s[0], s[1]))
		}
		return a
	}
	return append(a, "-heaps", strconv.Itoa(j.heaps), "-per", strconv.Itoa(j.per), "-size", strconv.Itoa(j.size),
		"-reserve", strconv.Itoa(j.reserve), "-touch="+map[bool]string{true: "all", false: "first"}[j.touchAll],
		"-destroy="+strconv.FormatBool(j.destroy), "-prefix", prefix)
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// tracePath is where this run's churn trace lives.
var tracePath string

func (job) trace() string { return tracePath }

func run(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quickMode := fs.Bool("quick", false, "tiny sizes and one round (CI)")
	rounds := fs.Int("rounds", 5, "interleaved rounds (at least 5 in full mode for the committed report)")
	list := fs.String("workloads", strings.Join(allWorkloads, ","), "comma-separated workloads: "+strings.Join(allWorkloads, ", "))
	only := fs.String("peers", "", "comma-separated peers to run (default: all)")
	out := fs.String("o", "BENCHMARKS.md", "the report to write; charts go beside it")
	profile := fs.Bool("profile", true, "after the rounds, profile zebra's default heap on churn/1t, sizes and seed (untimed) and put the top of each profile in the report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	s := full
	if *quickMode {
		s = quick
		if !isSet(fs, "rounds") {
			*rounds = 1
		}
	}
	if *rounds < 1 {
		return fmt.Errorf("--rounds %d: need at least 1", *rounds)
	}
	// An entry is a workload ("churn") or one of its cases ("churn/1t").
	var wl, picked []string
	for w := range strings.SplitSeq(*list, ",") {
		w = strings.TrimSpace(w)
		base, _, _ := strings.Cut(w, "/")
		if !slices.Contains(allWorkloads, base) {
			return fmt.Errorf("--workloads: unknown workload %q (have %s)", w, strings.Join(allWorkloads, ", "))
		}
		if !slices.Contains(wl, base) {
			wl = append(wl, base)
		}
		picked = append(picked, w)
	}
	ps := peers()
	if *only != "" {
		var keep []*peer
		for n := range strings.SplitSeq(*only, ",") {
			i := slices.IndexFunc(ps, func(p *peer) bool { return p.Name == n })
			if i < 0 {
				return fmt.Errorf("--peers: unknown peer %q", n)
			}
			keep = append(keep, ps[i])
		}
		ps = keep
	}
	dir, err := os.MkdirTemp("", "zebra-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := buildPeers(ps, dir); err != nil {
		return err
	}
	js := slices.DeleteFunc(jobs(wl, s), func(j job) bool {
		base, _, _ := strings.Cut(j.name, "/")
		return !slices.Contains(picked, base) && !slices.Contains(picked, j.name)
	})
	if len(js) == 0 {
		return fmt.Errorf("--workloads %s: no such case", *list)
	}
	if slices.Contains(wl, "churn") {
		tracePath = filepath.Join(dir, "churn.trace")
		if err := writeTrace(tracePath, s.slots, s.ops); err != nil {
			return err
		}
	}
	rep := newReport(args, *quickMode, *rounds, wl, ps, s)
	start := time.Now()
	for r := range *rounds {
		rep.loads = append(rep.loads, loadAverage())
		for _, j := range js {
			for _, p := range ps {
				if p.skip != "" {
					continue
				}
				if skip, why := skipJob(p, j, r); skip {
					if why != "" {
						rep.note(j.name, why)
					}
					continue
				}
				prefix := filepath.Join(dir, fmt.Sprintf("%s-%s-%d", strings.ReplaceAll(j.name, "/", "_"), p.Name, r))
				res, err := runOne(p, j, prefix)
				if err != nil {
					// Keep going: one peer's failure must not cost the
					// whole run, and the report shows it in bold.
					msg := fmt.Sprintf("%s on %s, round %d: %v", j.name, p.Name, r+1, err)
					fmt.Fprintln(os.Stderr, "bench: FAILED:", msg)
					rep.note(j.name, "**FAILED: "+msg+"**")
					rep.failed++
					continue
				}
				for _, x := range res {
					if hp, ok := x.Values["huge page %"]; ok && p.Name == "floor-thp" && hp < 90 {
						rep.note(x.Case, fmt.Sprintf("floor-thp rejected in round %d: only %.0f%% of its memory came as huge pages (needs 90%%).", r+1, hp))
						continue
					}
					rep.add(x.Case, p.Name, x)
				}
			}
		}
		el := time.Since(start)
		fmt.Fprintf(os.Stderr, "bench: round %d/%d done after %s, about %s to go\n", r+1, *rounds, el.Round(time.Second),
			(el / time.Duration(r+1) * time.Duration(*rounds-r-1)).Round(time.Second))
	}
	if *profile {
		if err := profileZebra(rep, ps, js, dir); err != nil {
			return err
		}
		if err := countSyscalls(rep, ps, js, dir); err != nil {
			return err
		}
	}
	rep.elapsed = time.Since(start)
	if err := rep.write(*out); err != nil {
		return err
	}
	if rep.failed > 0 {
		return fmt.Errorf("%d measurements failed (see %s)", rep.failed, *out)
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// runOne runs one job for one peer in its own process and returns its
// results, renamed to the job's case and, for fill jobs, completed with the
// analysis of the memory maps it dumped.
func runOne(p *peer, j job, prefix string) ([]result, error) {
	a := argv(p, j, prefix)
	cmd := exec.Command(a[0], a[1:]...)
	cmd.Env = append(os.Environ(), p.Env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	outp, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res []result
	sc := bufio.NewScanner(strings.NewReader(string(outp)))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "RESULT\t")
		if !ok {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("bad result line %q: %v", line, err)
		}
		if j.workload != "sizes" {
			r.Case = j.name
		}
		if d, ok := r.Values["destroy ms"]; ok && j.name == "destroy" {
			if m, ok := r.Values["munmap ms"]; ok {
				r.Values["destroy − munmap ms"] = d - m
			}
		}
		if j.workload == "fill" && !strings.HasPrefix(p.Name, "floor-") {
			if err := analyseFill(&r, j, prefix); err != nil {
				return nil, err
			}
		}
		res = append(res, r)
	}
	if len(res) == 0 {
		return nil, errors.New("no result printed")
	}
	return res, nil
}

// analyseFill reads the maps and block addresses a fill job dumped.
func analyseFill(r *result, j job, prefix string) error {
	defer func() {
		files, _ := filepath.Glob(prefix + ".*")
		for _, f := range files {
			os.Remove(f)
		}
	}()
	before, err := readMaps(prefix + ".before")
	if err != nil {
		return err
	}
	r.Values["VMAs before"] = float64(len(before))
	if m, err := strconv.Atoi(readTrim("/proc/sys/vm/max_map_count")); err == nil && m > 0 {
		r.Values["% of vm.max_map_count"] = 100 * float64(len(before)) / float64(m)
	}
	var after []span
	if j.destroy {
		if after, err = readMaps(prefix + ".after"); err != nil {
			return err
		}
		r.Values["VMAs after"] = float64(len(after))
		r.Values["largest freed MiB"] = float64(largestFreed(before, after)) / (1 << 20)
	}
	most := 0
	for i := range j.heaps {
		if j.destroy && i == 0 {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("%s.addrs.%d", prefix, i))
		if err != nil {
			return err
		}
		addrs := make([]uint64, len(b)/8)
		for k := range addrs {
			addrs[k] = binary.LittleEndian.Uint64(b[8*k:])
		}
		m := before
		if j.destroy {
			m = after
		}
		most = max(most, rangesHolding(m, addrs))
	}
	if j.heaps > 1 || !j.destroy {
		r.Values["ranges per heap"] = float64(most)
	}
	return nil
}

// profiled are the cases whose zebra run is profiled after the rounds.
var profiled = []string{"churn/1t", "sizes", "seed"}

// profileZebra runs zebra's first configuration once more on each profiled
// case with -cpuprofile, outside the timed rounds, and keeps the top of
// each profile (go tool pprof -top) for the report: where zebra's time goes.
func profileZebra(rep *report, ps []*peer, js []job, dir string) error {
	i := slices.IndexFunc(ps, func(p *peer) bool { return p.Name == zebraPeers[0].Name })
	if i < 0 {
		return nil
	}
	z := ps[i]
	for _, j := range js {
		if !slices.Contains(profiled, j.name) {
			continue
		}
		prefix := filepath.Join(dir, "profile-"+strings.ReplaceAll(j.name, "/", "_"))
		prof := prefix + ".pprof"
		a := argv(z, j, prefix)
		a = append(a[:5:5], append([]string{"-cpuprofile", prof}, a[5:]...)...)
		cmd := exec.Command(a[0], a[1:]...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("profiling %s: %v: %s", j.name, err, out)
		}
		top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=15", z.bin, prof).Output()
		if err != nil {
			return fmt.Errorf("pprof of %s: %v", j.name, err)
		}
		// Drop pprof's header lines that change every run (file, build ID, time).
		var keep []string
		for l := range strings.Lines(string(top)) {
			if !strings.HasPrefix(l, "File:") && !strings.HasPrefix(l, "Build ID:") && !strings.HasPrefix(l, "Time:") {
				keep = append(keep, l)
			}
		}
		rep.profiles = append(rep.profiles, profileTop{j.name, strings.Join(keep, "")})
		for _, f := range []string{prof, prefix + ".before", prefix + ".after"} {
			os.Remove(f)
		}
		files, _ := filepath.Glob(prefix + ".addrs.*")
		for _, f := range files {
			os.Remove(f)
		}
	}
	return nil
}

// memSyscalls are the calls that reserve, commit, decommit and release.
var memSyscalls = []string{"mmap", "munmap", "mprotect", "madvise"}

// countSyscalls runs the seed once more per peer under strace -c, outside
// the timed rounds, and keeps how many memory system calls each made.
func countSyscalls(rep *report, ps []*peer, js []job, dir string) error {
	i := slices.IndexFunc(js, func(j job) bool { return j.name == "seed" })
	if i < 0 {
		return nil
	}
	if _, err := exec.LookPath("strace"); err != nil {
		rep.note("seed", "strace is not installed: no system call counts.")
		return nil
	}
	for _, p := range ps {
		if p.skip != "" || p.Floor {
			continue
		}
		if skip, _ := skipJob(p, js[i], 0); skip {
			continue
		}
		prefix := filepath.Join(dir, "strace-"+p.Name)
		a := append([]string{"-f", "-c", "-o", prefix + ".strace", "-e", "trace=" + strings.Join(memSyscalls, ",")}, argv(p, js[i], prefix)...)
		cmd := exec.Command("strace", a...)
		cmd.Env = append(os.Environ(), p.Env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			rep.note("seed", fmt.Sprintf("strace of %s failed: %v: %s", p.Name, err, strings.TrimSpace(string(out))))
			continue
		}
		b, err := os.ReadFile(prefix + ".strace")
		if err != nil {
			return err
		}
		rep.syscalls = append(rep.syscalls, syscallCount{p.Name, parseStraceCounts(string(b))})
		files, _ := filepath.Glob(prefix + ".*")
		for _, f := range files {
			os.Remove(f)
		}
	}
	return nil
}

// parseStraceCounts reads the calls column of strace -c's table.
func parseStraceCounts(s string) map[string]int {
	out := map[string]int{}
	for l := range strings.Lines(s) {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		n, err := strconv.Atoi(f[3])
		if err != nil {
			continue
		}
		out[f[len(f)-1]] = n
	}
	return out
}
