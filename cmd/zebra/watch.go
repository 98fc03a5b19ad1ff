package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/zebra-heap/zebra/vmmap"
)

// zebra watch: a live view of a process's address space. See runWatch.

const watchUsage = `usage: zebra watch [flags] PID|self

Shows the process's map and refreshes it every --every: the summary table,
the largest free blocks, the owners and their stripes, the strip of the
address space, the VMA count with a sparkline of its history, and what
changed since the last refresh (highlighted). The strip covers the zebra
heaps and other named owners when the process has some (the whole span
when not). The header and key line stay on the top rows; when the window
is too short the lists are cut, the strip and summary kept. Keys: q quits,
m shows the map, c the changes, tab switches. When stdout is not a
terminal it prints the whole view as text at every refresh instead. A
process that exits ends the view.

Flags:
`

// sparkHistory is how many VMA counts the sparkline remembers.
const sparkHistory = 60

type watchConfig struct {
	target string
	every  time.Duration
	color  string
}

func runWatch(args []string, stdout, stderr io.Writer) error {
	help := stdout
	cfg := watchConfig{}
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.DurationVar(&cfg.every, "every", time.Second, "refresh every `DURATION`")
	fs.StringVar(&cfg.color, "color", "auto", "colour the view: auto, always or never")
	pos, err := parseInterspersed(fs, args, watchUsage, help)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("want one PID or \"self\", got %q", pos)
	}
	cfg.target = pos[0]
	if cfg.target != "self" {
		if n, err := strconv.Atoi(cfg.target); err != nil || n <= 0 {
			return usageErrorf("%q is not a process id or \"self\"", cfg.target)
		}
	}
	if cfg.every < 10*time.Millisecond {
		return usageErrorf("--every %v: want at least 10ms", cfg.every)
	}
	switch cfg.color {
	case "auto", "always", "never":
	default:
		return usageErrorf("--color %q: want auto, always or never", cfg.color)
	}
	take := vmmap.Self
	if cfg.target != "self" {
		pid, _ := strconv.Atoi(cfg.target)
		take = func() (*vmmap.Snapshot, error) { return vmmap.Process(pid) }
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f, ok := stdout.(*os.File); ok && isatty.IsTerminal(f.Fd()) && os.Getenv("TERM") != "dumb" {
		return watchTUI(ctx, cfg, take, f)
	}
	return watchPlain(ctx, cfg, take, stdout)
}

// watchState is what both views show: the latest snapshot, the changes
// from the one before and the VMA history.
type watchState struct {
	cur, prev *vmmap.Snapshot
	vmas      []int
	refresh   int
}

// update takes in a new snapshot.
func (st *watchState) update(s *vmmap.Snapshot) {
	st.prev, st.cur = st.cur, s
	st.vmas = append(st.vmas, s.VMAs)
	if len(st.vmas) > sparkHistory {
		st.vmas = st.vmas[len(st.vmas)-sparkHistory:]
	}
	st.refresh++
}

// header is the first lines of every view: the refresh interval (a
// duration, "every 1s", so that it does not read as a count), the number
// of snapshots taken and the time of the last, the VMA count and its
// sparkline.
func (st *watchState) header(every time.Duration) string {
	s := st.cur
	limit := ""
	if s.MaxMapCount > 0 {
		limit = fmt.Sprintf(" of vm.max_map_count %d (%.2f%%)", s.MaxMapCount, 100*float64(s.VMAs)/float64(s.MaxMapCount))
	}
	return fmt.Sprintf("zebra watch · every %v · %s at %s\nVMAs %d%s  %s\n", every,
		plural(st.refresh, "snapshot", "snapshots"), s.Taken.Format("15:04:05"), s.VMAs, limit, sparkline(st.vmas))
}

// changes lists what changed since the previous refresh; mark wraps each
// line (a highlight in the TUI).
func (st *watchState) changes(mark func(string) string) string {
	if st.prev == nil {
		return "changes since the last refresh: (first refresh)\n"
	}
	cs := vmmap.Diff(st.prev, st.cur)
	var b strings.Builder
	fmt.Fprintf(&b, "changes since the last refresh: %d\n", len(cs))
	for i, c := range cs {
		if i == 20 {
			fmt.Fprintf(&b, "  … %d more\n", len(cs)-i)
			break
		}
		b.WriteString("  " + mark(c.String()) + "\n")
	}
	return b.String()
}

// mapText is vmmap's terminal view of the latest snapshot, its strip
// drawn over the heaps' span.
func (st *watchState) mapText(color bool, width int) string {
	var b bytes.Buffer
	o := vmmap.TerminalOptions{Color: color, Width: width, StripSpan: heapsSpan(st.cur)}
	if err := vmmap.Terminal(&b, st.cur, o); err != nil {
		return err.Error()
	}
	return b.String()
}

// heapsSpan is the range from the lowest to the highest stripe of the
// snapshot's zebra heaps (owners that are not system owners), widened by
// an eighth on each side within the span; the zero range (the whole span)
// when no region is attributed to a zebra heap, as for another process
// on a kernel that does not name anonymous mappings.
func heapsSpan(s *vmmap.Snapshot) vmmap.AddrRange {
	var r vmmap.AddrRange
	for _, o := range vmmap.Owners(s) {
		if o.System || len(o.Ranges) == 0 {
			continue
		}
		lo, hi := o.Ranges[0].Start, o.Ranges[len(o.Ranges)-1].End
		if r.End == 0 {
			r = vmmap.AddrRange{Start: lo, End: hi}
		}
		r.Start, r.End = min(r.Start, lo), max(r.End, hi)
	}
	if r.End == 0 {
		return vmmap.AddrRange{}
	}
	pad := r.Size() / 8
	r.Start = max(r.Start-min(pad, r.Start), s.Span.Start)
	r.End = min(r.End+min(pad, ^uint64(0)-r.End), s.Span.End)
	if r.Start >= r.End {
		return vmmap.AddrRange{}
	}
	return r
}

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline draws vs scaled between their minimum and maximum.
func sparkline(vs []int) string {
	if len(vs) == 0 {
		return ""
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	out := make([]rune, len(vs))
	for i, v := range vs {
		k := 0
		if hi > lo {
			k = (v - lo) * (len(sparkRunes) - 1) / (hi - lo)
		}
		out[i] = sparkRunes[k]
	}
	return string(out)
}

// exitedLine is the last line when the watched process goes away.
func exitedLine(target string, err error) string {
	return fmt.Sprintf("zebra watch: process %s is gone (%v); stopped", target, err)
}

// gone reports whether err says the process exited: it is no more, or a
// zombie without an address space.
func gone(err error) bool {
	return errors.Is(err, vmmap.ErrExited) || errors.Is(err, vmmap.ErrNoProcess) || errors.Is(err, vmmap.ErrNoAddressSpace)
}

// watchPlain prints the view as text at every refresh until the process
// exits or ctx ends.
func watchPlain(ctx context.Context, cfg watchConfig, take func() (*vmmap.Snapshot, error), w io.Writer) error {
	var st watchState
	tick := time.NewTicker(cfg.every)
	defer tick.Stop()
	color := useColor(cfg.color, w)
	for {
		s, err := take()
		if gone(err) && st.cur != nil {
			fmt.Fprintln(w, exitedLine(cfg.target, err))
			return nil
		}
		if err != nil {
			return err
		}
		st.update(s)
		fmt.Fprintf(w, "%s%s%s\n", st.header(cfg.every), st.changes(func(s string) string { return s }), st.mapText(color, 100))
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
