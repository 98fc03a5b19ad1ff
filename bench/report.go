package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// cell is every round's measurement of one case on one peer.
type cell struct {
	values    map[string][]float64
	checksums []uint64
}

type report struct {
	args     []string // the command line, for the report's first line
	quick    bool
	rounds   int
	wl       []string
	peers    []*peer
	scale    scale
	cases    []string                    // in the order first seen
	cells    map[string]map[string]*cell // case, peer
	notes    map[string][]string         // case: notes
	loads    []string                    // load average at the start of each round
	elapsed  time.Duration
	profiles []profileTop
	failed   int // measurements that failed
	syscalls []syscallCount
}

// syscallCount is one peer's memory system calls during the seed.
type syscallCount struct {
	peer  string
	calls map[string]int
}

// profileTop is the top of one CPU profile of zebra.
type profileTop struct{ name, top string }

func newReport(args []string, quick bool, rounds int, wl []string, ps []*peer, s scale) *report {
	return &report{args: args, quick: quick, rounds: rounds, wl: wl, peers: ps, scale: s, cells: map[string]map[string]*cell{}, notes: map[string][]string{}}
}

func (r *report) add(c, p string, x result) {
	if r.cells[c] == nil {
		r.cells[c] = map[string]*cell{}
		r.cases = append(r.cases, c)
	}
	e := r.cells[c][p]
	if e == nil {
		e = &cell{values: map[string][]float64{}}
		r.cells[c][p] = e
	}
	for k, v := range x.Values {
		e.values[k] = append(e.values[k], v)
	}
	e.checksums = append(e.checksums, x.Checksum)
}

func (r *report) note(c, n string) {
	if !slices.Contains(r.notes[c], n) {
		r.notes[c] = append(r.notes[c], n)
	}
}

// summary is the median and range of one metric's rounds.
type summary struct{ med, lo, hi float64 }

func summarize(v []float64) summary {
	if len(v) == 0 {
		return summary{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{m, s[0], s[len(s)-1]}
}

// family is how a case is reported: its primary metric (the one ranked and
// charted) and the other metrics shown beside it.
func family(c string) (primary string, others []string) {
	switch {
	case strings.HasPrefix(c, "cache/"):
		return cacheFamily(c)
	case c == "bubbles":
		return "blocks", []string{"ms", "array entries", "largest free MiB", "window largest free MiB"}
	case c == "arena":
		return "ns/object", []string{"free-each ns/object", "GC CPU s", "peak RSS MiB"}
	case c == "gc":
		return "GC CPU s", []string{"GC cycles", "p99 pause ms", "ns/op", "peak RSS MiB", "records"}
	case strings.HasPrefix(c, "churn"), strings.HasPrefix(c, "sizes"):
		return "ns/op", nil
	case c == "seed":
		return "alloc ms", []string{"destroy ms", "peak RSS MiB", "RSS after MiB", "AnonHugePages MiB", "VMAs before", "VMAs after", "ranges per heap", "largest freed MiB"}
	case c == "destroy":
		return "destroy ms", []string{"munmap ms", "destroy − munmap ms", "alloc ms", "RSS before MiB", "RSS after MiB", "VMAs before", "VMAs after", "largest freed MiB"}
	}
	return "VMAs before", []string{"% of vm.max_map_count", "ranges per heap", "alloc ms", "peak RSS MiB"}
}

// higherBetter says the case ranks the largest primary value best.
func higherBetter(c string) bool { return c == "bubbles" || strings.HasPrefix(c, "cache/hits") }

// floorOf is the peer a case's "× floor" column divides by, if any.
func floorOf(p *peer, c string) string {
	switch {
	case c == "seed", c == "destroy":
		return "floor-4k"
	case c == "arena":
		return "go-bump"
	case !strings.HasPrefix(c, "churn") && !strings.HasPrefix(c, "sizes"):
		return ""
	case p.isC():
		return "c-noop"
	}
	return "go-noop"
}

var caseTitles = map[string]string{
	"churn/1t":         "Churn, 1 thread",
	"churn/2t-private": "Churn, 2 threads, a private heap each",
	"churn/2t-shared":  "Churn, 2 threads, one shared heap",
	"churn/8g-private": "Churn, 8 threads on 2 cores, a private heap each",
	"churn/8g-shared":  "Churn, 8 threads on 2 cores, one shared heap",
	"seed":             "Seed: two heaps to %s each, 300 B blocks, every byte written; heap A destroyed",
	"destroy":          "Destroy: one heap of %d live 64 B blocks",
	"bubbles":          "Bubbles: 100 B blocks and a doubling array of their 4-byte addresses in %s, until allocation fails",
	"gc":               "GC relief: %s of 64–512 B records behind one index, while allocating garbage",
	"arena":            "Per-request arena: 1000 objects of 16–256 B per request, then all freed at once",
}

func (r *report) title(c string) string {
	switch {
	case c == "seed":
		return fmt.Sprintf(caseTitles[c], mib(r.scale.seedPer))
	case c == "destroy":
		return fmt.Sprintf(caseTitles[c], r.scale.destroyBlocks)
	case c == "bubbles":
		space := "the 2 GiB Win32 window (vmem.Win32)"
		if r.scale.quick {
			space = "a 64 MiB window"
		}
		return fmt.Sprintf(caseTitles[c], space)
	case c == "gc":
		return fmt.Sprintf(caseTitles[c], mib(r.scale.gcTotal))
	case strings.HasPrefix(c, "cache/"):
		return cacheTitle(c, r.scale.quick)
	case strings.HasPrefix(c, "sizes/"):
		return "Alloc+Free pair, " + strings.TrimPrefix(c, "sizes/") + " B"
	case strings.HasPrefix(c, "mappings/"):
		return fmt.Sprintf("Mappings: %s heaps growing at once to %s each (1 KiB blocks)", strings.TrimPrefix(c, "mappings/"), mib(r.scale.mapPer))
	}
	if t, ok := caseTitles[c]; ok {
		return t
	}
	return c
}

func mib(n int) string { return fmt.Sprintf("%d MiB", n>>20) }

func (r *report) write(path string) error {
	var b strings.Builder
	mode := "full"
	if r.quick {
		mode = "QUICK (tiny sizes: smoke test only, not for timing claims)"
	}
	fmt.Fprintf(&b, "# zebra benchmarks\n\nWritten by `cd bench && go run . %s` on %s in %s. Mode: **%s**, %d interleaved round(s): every round runs every case on every peer in turn (A B C A B C ...), each in a fresh process.\n\n",
		strings.Join(r.args, " "), time.Now().UTC().Format("2006-01-02 15:04 UTC"), r.elapsed.Round(time.Second), mode, r.rounds)
	r.machine(&b)
	b.WriteString("\nCells are the median over rounds with the min–max range; \"× best\" divides by the best non-floor peer's median, \"× floor\" by the floor's: the no-op allocator in the same harness (Go or C) for churn and sizes, floor-4k (one fresh mapping written, or unmapped) for the seed and destroy. \"checksum\" is the sum of the bytes the peer read back from its blocks: rows of one case must agree (the no-op floor writes into one shared scratch block, so its churn checksum differs by design).\n")
	for _, c := range r.cases {
		r.table(&b, c)
	}
	b.WriteString("\n## Peers\n\n| peer | configuration |\n|---|---|\n")
	for _, p := range r.peers {
		cfg := p.Config
		if p.skip != "" {
			cfg += " — **skipped: " + p.skip + "**"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", p.Name, cfg)
	}
	if len(r.syscalls) > 0 {
		fmt.Fprintf(&b, "\n## Seed: memory system calls\n\nOne extra, untimed seed run per peer under `strace -f -c -e trace=%s` (Go peers include the Go runtime's own calls).\n\n| peer | %s | total |\n|---|%s---|\n",
			strings.Join(memSyscalls, ","), strings.Join(memSyscalls, " | "), strings.Repeat("---|", len(memSyscalls)))
		for _, s := range r.syscalls {
			fmt.Fprintf(&b, "| %s |", s.peer)
			for _, c := range memSyscalls {
				fmt.Fprintf(&b, " %d |", s.calls[c])
			}
			fmt.Fprintf(&b, " %d |\n", s.calls["total"])
		}
	}
	if len(r.profiles) > 0 {
		fmt.Fprintf(&b, "\n## Where %s's time goes\n\nCPU profiles of one extra, untimed run per case (`-cpuprofile`, then `go tool pprof -top`):\n", zebraPeers[0].Name)
		for _, p := range r.profiles {
			fmt.Fprintf(&b, "\n### %s\n\n```\n%s```\n", p.name, p.top)
		}
	}
	charts, err := r.charts(filepath.Dir(path))
	if err != nil {
		return err
	}
	if len(charts) > 0 {
		b.WriteString("\n## Charts\n\n")
		for _, c := range charts {
			fmt.Fprintf(&b, "![%s](%s)\n\n", c, c)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (r *report) machine(b *strings.Builder) {
	fmt.Fprintf(b, "## Machine\n\n- CPU: %s, %d logical cores (GOMAXPROCS %d)\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(b, "- kernel: %s; transparent huge pages: `%s` (defrag `%s`); vm.max_map_count %s\n",
		readTrim("/proc/sys/kernel/osrelease"), readTrim("/sys/kernel/mm/transparent_hugepage/enabled"),
		readTrim("/sys/kernel/mm/transparent_hugepage/defrag"), readTrim("/proc/sys/vm/max_map_count"))
	fmt.Fprintf(b, "- %s; %s; mimalloc %s, jemalloc %s, glibc %s\n", runtime.Version(), firstLine("gcc", "--version"),
		pkgVersion("libmimalloc-dev"), pkgVersion("libjemalloc-dev"), pkgVersion("libc6"))
	fmt.Fprintf(b, "- hypervisor free page reporting: %s\n", freePageReporting())
	fmt.Fprintf(b, "- tree measured: %s\n", treeVersion())
	b.WriteString("- load average (1, 5, 15 min) at the start of each round:")
	for i, l := range r.loads {
		fmt.Fprintf(b, " %d: %s;", i+1, l)
	}
	b.WriteString("\n")
}

// caseNotes say what a case measures, under its title.
var caseNotes = map[string]string{
	"churn":    "Every peer replays the same trace file: free a random slot's block, allocate 8..1024 B in its place, write its first byte. ns/op is the wall time over the ops one thread replays: with 2 threads each replays the trace's first half on its own slots, so the total work is the same as with 1 thread and perfect scaling on 2 cores shows the 1-thread figure. With 8 threads (goroutines for the Go peers, GOMAXPROCS=2) each replays an eighth, so on 2 cores the ideal is 4 times the 1-thread figure; what matters there is one shared heap against a heap each, when threads outnumber cores and are preempted while they allocate.",
	"sizes":    "Alloc, write the first and last byte, Free, in a loop.",
	"seed":     "The design document's workload in the real address space. alloc ms fills both heaps (every byte written); destroy ms destroys heap A (glibc: frees every block; Go: drop, runtime.GC, debug.FreeOSMemory). VMAs from /proc/self/maps before and after the destroy; ranges per heap: separate mapped ranges holding heap B's blocks after it; largest freed: the largest range the destroy unmapped. × floor divides by writing as many bytes into one fresh mapping.",
	"destroy":  "destroy ms against munmap ms, the munmap of as much touched memory in one mapping, in the same process. RSS and VMAs before and after show what the destroy gave back.",
	"mappings": "All heaps grow at once, 1 KiB blocks round-robin, first byte written. VMAs of the whole process (against vm.max_map_count) and the most separate ranges any heap's blocks live in.",
	"bubbles":  "The block count is the result and is deterministic, so this case runs in the first round only; the checksum is the sum of the bytes written, so it differs with the count.",
	"arena":    "Each request allocates 1000 objects of 16..256 B (the same sizes in every request and row), writes and reads back each one's first byte, then frees them all: zebra's rows with heap.Arena and Reset (free-each: the same requests on a heap of the same configuration, each object freed with Free), go with make and the GC, go-bump with a bump allocator written in the benchmark (the floor; the target is zebra ≤ 2× it). Every row calls its allocator through a func value. GC CPU seconds from runtime/metrics over the whole run.",
	"gc":       "One index of addresses for every peer ([]unsafe.Pointer for Go's heap, which the GC must scan; []uintptr for zebra's, outside the GC); each unit of work replaces a random record and allocates 512..3583 B of Go garbage. GC CPU seconds and the p99 of GC pauses come from runtime/metrics over the work only.",
}

func (r *report) table(b *strings.Builder, c string) {
	primary, others := family(c)
	row := r.cells[c]
	fmt.Fprintf(b, "\n## %s\n\n", r.title(c))
	base, _, _ := strings.Cut(c, "/")
	if n, ok := caseNotes[base]; ok && (c == base || c == r.firstOf(base)) {
		fmt.Fprintf(b, "%s\n\n", n)
		if base == "seed" && strings.HasPrefix(freePageReporting(), "on") {
			b.WriteString(reportingNote + "\n\n")
		}
	}
	best := math.Inf(1)
	if higherBetter(c) {
		best = math.Inf(-1)
	}
	for _, p := range r.peers {
		if e := row[p.Name]; e != nil && !p.Floor {
			if m := summarize(e.values[primary]).med; higherBetter(c) {
				best = max(best, m)
			} else {
				best = min(best, m)
			}
		}
	}
	hdr := []string{"peer", primary + " (median)", "min–max", "× best", "× floor"}
	hdr = append(hdr, others...)
	hdr = append(hdr, "checksum")
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(hdr, " | "), strings.Repeat("---|", len(hdr)))
	sums := map[uint64][]string{}
	for _, p := range r.peers {
		e := row[p.Name]
		if e == nil {
			continue
		}
		s := summarize(e.values[primary])
		ratio := "—"
		if !p.Floor && best > 0 {
			ratio = fmt.Sprintf("%.2f", s.med/best)
		}
		fl := "—"
		if f := row[floorOf(p, c)]; f != nil && !p.Floor {
			if fm := summarize(f.values[primary]).med; fm > 0 {
				fl = fmt.Sprintf("%.1f", s.med/fm)
			}
		}
		cols := []string{p.Name, num(s.med), num(s.lo) + "–" + num(s.hi), ratio, fl}
		for _, o := range others {
			v, ok := e.values[o]
			if !ok {
				cols = append(cols, "—")
				continue
			}
			cols = append(cols, num(summarize(v).med))
		}
		ck := fmt.Sprint(e.checksums[0])
		if slices.ContainsFunc(e.checksums, func(x uint64) bool { return x != e.checksums[0] }) {
			ck += " (**differs between rounds**)"
		}
		if !p.Floor {
			sums[e.checksums[0]] = append(sums[e.checksums[0]], p.Name)
		}
		cols = append(cols, ck)
		fmt.Fprintf(b, "| %s |\n", strings.Join(cols, " | "))
	}
	if len(sums) > 1 && c != "bubbles" {
		var parts []string
		for k, v := range sums {
			parts = append(parts, fmt.Sprintf("%d: %s", k, strings.Join(v, ", ")))
		}
		slices.Sort(parts)
		fmt.Fprintf(b, "\n**Checksums differ between peers** (%s): some row did different work.\n", strings.Join(parts, "; "))
	}
	if c == "bubbles" && !r.scale.quick {
		b.WriteString("\nFor comparison: a public write-up counted 16,548,453 such blocks in a real 32-bit Windows process with the default heap and `std::vector`.\n")
	}
	for _, n := range r.notes[c] {
		fmt.Fprintf(b, "\n%s\n", n)
	}
}

// firstOf is the first case of a family ("churn/1t" of "churn").
func (r *report) firstOf(base string) string {
	for _, c := range r.cases {
		if strings.HasPrefix(c, base+"/") {
			return c
		}
	}
	return ""
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 100 || a == math.Trunc(a):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// reportingNote explains the huge-page rows on a guest whose free memory
// the host takes back.
const reportingNote = "**Huge pages on this machine depend on timing.** The guest reports free memory in 2 MiB blocks and up to the hypervisor (virtio-balloon free page reporting), which takes it back. A huge page is such a block, so a huge-page fault often lands on memory the host must fault in again, and the kernel's clear of the 2 MiB page runs at host-fault speed: `perf record` of zebra-huge's fill shows 79% of its time in `clear_page_erms` under `do_huge_pmd_anonymous_page`. The same fill takes 0.4 s when it reuses memory another process freed a moment before, and 1.6–1.8 s after an 8 s pause (measured back to back). Each peer runs in a fresh process right after the previous one, so a huge-page row's time depends on what ran before it and how long ago, and the rows are not comparable with each other, nor with floor-thp, which runs right after floor-4k freed 400 MiB."

// freePageReporting says whether a virtio balloon (device ID 5) offers
// free page reporting (feature bit 5, VIRTIO_BALLOON_F_REPORTING): then the
// host takes back free guest memory, and huge pages cost host faults.
func freePageReporting() string {
	devs, _ := filepath.Glob("/sys/bus/virtio/devices/*")
	for _, d := range devs {
		if readTrim(filepath.Join(d, "device")) != "0x0005" {
			continue
		}
		if f := readTrim(filepath.Join(d, "features")); len(f) > 5 && f[5] == '1' {
			return "on (virtio-balloon): the host takes back free guest memory in blocks of 2 MiB and more"
		}
		return "off (a virtio balloon without it)"
	}
	return "none seen (no virtio balloon)"
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return name + " unknown"
	}
	l, _, _ := strings.Cut(string(out), "\n")
	return l
}

func pkgVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "not installed"
	}
	return string(out)
}

// treeVersion is the commit of the zebra tree being measured, marked when
// the work tree has changes.
func treeVersion() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty", "--abbrev=12").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	return "commit " + strings.TrimSpace(string(out))
}

func loadAverage() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
