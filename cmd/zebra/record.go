package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// zebra record: snapshots of a process's address space at an interval,
// into a timeline file. See runRecord.

const recordUsage = `usage: zebra record [flags] -o FILE PID|self
       zebra record [flags] -o FILE -- COMMAND [ARGS...]

Takes a snapshot of the process's memory map every --every and appends it
to FILE (a zebra timeline: JSON Lines, gzipped when FILE ends in .gz) until
the process exits, --for has passed, or the recorder is interrupted. Every
snapshot taken is kept even if the recorder is killed. FILE must not exist
unless --force is given (then it is replaced).

With -- COMMAND the program is started (FILE is created first) and recorded
from its first moment to its exit, with zebra's standard input, output and
error; zebra then exits with the program's exit status, which the timeline's
end line records too, and says what it wrote on standard error. If the
recording fails, or zebra is interrupted (SIGINT, SIGTERM), the program is
killed.
Read the file with 'zebra report FILE -o timeline.html'.

Flags:
`

type recordConfig struct {
	target string   // "self" or a decimal pid; "" with command
	cmd    []string // the program to start
	out    string
	force  bool // replace an existing out
	every  time.Duration
	dur    time.Duration // 0: until the process exits (or Ctrl-C)
	layout bool          // --layout-only: maps, not smaps
}

func runRecord(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRecordArgs(args, stdout)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return record(ctx, cfg, os.Stdin, stdout, stderr)
}

func parseRecordArgs(args []string, help io.Writer) (recordConfig, error) {
	cfg := recordConfig{}
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.StringVar(&cfg.out, "o", "", "write the timeline to `FILE` (.jsonl, or .gz for gzip)")
	fs.BoolVar(&cfg.force, "force", false, "replace FILE if it exists")
	fs.DurationVar(&cfg.every, "every", 500*time.Millisecond, "take a snapshot every `DURATION`")
	fs.DurationVar(&cfg.dur, "for", 0, "stop after `DURATION` (default: when the process exits)")
	fs.BoolVar(&cfg.layout, "layout-only", false, "record only where the mappings are (/proc/PID/maps), not their resident and private memory (smaps): several times cheaper for a process of tens of thousands of mappings")
	// Everything after "--" is the command to start.
	if i := slices.Index(args, "--"); i >= 0 {
		args, cfg.cmd = args[:i], append([]string{}, args[i+1:]...)
	}
	pos, err := parseInterspersed(fs, args, recordUsage, help)
	if err != nil {
		return cfg, err
	}
	switch {
	case cfg.out == "":
		return cfg, usageErrorf("-o FILE is required")
	case cfg.every < time.Millisecond:
		return cfg, usageErrorf("--every %v: want at least 1ms", cfg.every)
	case cfg.dur < 0:
		return cfg, usageErrorf("--for %v is negative", cfg.dur)
	case cfg.dur == 0 && flagSet(fs, "for"):
		return cfg, usageErrorf("--for %v: want a positive duration (without --for, the recording runs until the process exits)", cfg.dur)
	}
	if cfg.cmd != nil {
		if len(cfg.cmd) == 0 {
			return cfg, usageErrorf("-- needs a command to start")
		}
		if len(pos) > 0 {
			return cfg, usageErrorf("a PID and a command: give one")
		}
		return cfg, nil
	}
	if len(pos) != 1 {
		return cfg, usageErrorf("want one PID, \"self\" or -- COMMAND, got %q", pos)
	}
	cfg.target = pos[0]
	if cfg.target == "self" {
		if cfg.dur == 0 {
			return cfg, usageErrorf("recording self needs --for: this process does not exit while it records")
		}
		return cfg, nil
	}
	if n, err := strconv.Atoi(cfg.target); err != nil || n <= 0 {
		return cfg, usageErrorf("%q is not a process id or \"self\"", cfg.target)
	}
	return cfg, nil
}

// exitStatus is the error of a recording of a command that ended with a
// non-zero status: zebra exits with the status and prints nothing more.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("the command exited with status %d", int(e)) }

// child is a started command and, once it exited, its exit status.
type child struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed when it exited
	status int
}

// startChild starts the command of cfg on zebra's standard streams.
func startChild(argv []string, stdin io.Reader, stdout, stderr io.Writer) (*child, error) {
	c := &child{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = stdin, stdout, stderr
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		c.status = statusOf(c.cmd.Wait())
		close(c.done)
	}()
	return c, nil
}

// statusOf is a shell's $? for the error of exec.Cmd.Wait: the exit code,
// or 128+N for a process killed by signal N.
func statusOf(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case !errors.As(err, &ee):
		return 1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if code := ee.ExitCode(); code >= 0 {
		return code
	}
	return 1
}

// stop kills the child unless it exited, and waits for it.
func (c *child) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Kill()
	<-c.done
}

// createOutput creates the timeline's file: a new one, or with force one
// that replaces an existing file.
func createOutput(path string, force bool) (*os.File, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%s exists: give --force to replace it", path)
	}
	return f, err
}

// record runs the recording cfg describes until the process exits, the
// duration passes or ctx is cancelled. A recording of a command that
// exited non-zero returns exitStatus.
func record(ctx context.Context, cfg recordConfig, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	f, err := createOutput(cfg.out, cfg.force)
	if err != nil {
		return err
	}
	written := false
	defer func() {
		if f.Close(); !written {
			os.Remove(cfg.out) // nothing recorded: leave no empty file
		}
	}()
	process := vmmap.Process
	if cfg.layout {
		process = vmmap.Layout
	}
	take := func() (*vmmap.Snapshot, error) { return process(os.Getpid()) }
	var ch *child
	switch {
	case cfg.cmd != nil:
		if ch, err = startChild(cfg.cmd, stdin, stdout, stderr); err != nil {
			return err
		}
		// Killed on every way out but its own exit.
		defer ch.stop()
		pid := ch.cmd.Process.Pid
		take = func() (*vmmap.Snapshot, error) { return process(pid) }
		stdout = stderr // the command's output is on stdout
	case cfg.target != "self":
		pid, _ := strconv.Atoi(cfg.target)
		take = func() (*vmmap.Snapshot, error) { return process(pid) }
	}
	started := time.Now() // --for counts from here, the first snapshot included
	s, err := take()
	h := timeline.Header{Every: cfg.every}
	switch {
	case err == nil:
		h.Source, h.PID, h.Started = s.Source, s.PID, s.Taken
	case ch != nil && gone(err):
		// The command exited before its first snapshot: the timeline
		// holds no frame, only its end and status.
		h.PID, h.Started = ch.cmd.Process.Pid, time.Now()
		h.Source = fmt.Sprintf("pid %d (%s)", h.PID, filepath.Base(cfg.cmd[0]))
	default:
		return err
	}
	w, err := timeline.NewWriter(f, h, strings.HasSuffix(strings.ToLower(cfg.out), ".gz"))
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.out, err)
	}
	written = true
	reason := timeline.EndExited
	if s != nil {
		reason, err = recordLoop(ctx, w, s, take, ch, cfg, started, stderr)
	}
	status := 0
	if ch != nil && reason == timeline.EndExited {
		<-ch.done // the maps can vanish before Wait returns
		status = ch.status
		w.SetExitStatus(status)
	}
	if cerr := w.Close(reason); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.out, err)
	}
	end := reason
	if ch != nil && reason == timeline.EndExited {
		end = fmt.Sprintf("exited with status %d", status)
	}
	fmt.Fprintf(stdout, "wrote %s: %d snapshots of %s, %s\n", cfg.out, w.Frames(), h.Source, end)
	if status != 0 {
		return exitStatus(status)
	}
	return nil
}

// recordLoop writes first and then a snapshot per tick, and returns why it
// stopped (a timeline end reason). --for counts from started: no snapshot
// starts after it (one in progress is finished). When a snapshot and its
// writing take longer than --every, the next ones come late: the loop
// says so on stderr once, and at the end how many it took of how many
// asked.
func recordLoop(ctx context.Context, w *timeline.Writer, first *vmmap.Snapshot, take func() (*vmmap.Snapshot, error),
	ch *child, cfg recordConfig, started time.Time, stderr io.Writer) (string, error) {
	if err := w.Write(first); err != nil {
		return timeline.EndInterrupted, err
	}
	behind := &lateness{every: cfg.every, dur: cfg.dur, started: started, w: stderr}
	defer behind.report(w)
	behind.took(time.Since(started))
	var deadline <-chan time.Time
	if cfg.dur > 0 {
		t := time.NewTimer(max(time.Until(started.Add(cfg.dur)), 0))
		defer t.Stop()
		deadline = t.C
	}
	var exited <-chan struct{}
	if ch != nil {
		exited = ch.done
	}
	tick := time.NewTicker(cfg.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return timeline.EndInterrupted, nil
		case <-deadline:
			return timeline.EndDone, nil
		case <-exited:
			return timeline.EndExited, nil
		case <-tick.C:
		}
		if cfg.dur > 0 && time.Since(started) >= cfg.dur {
			return timeline.EndDone, nil // the tick and the deadline came together
		}
		t0 := time.Now()
		s, err := take()
		switch {
		case gone(err):
			return timeline.EndExited, nil
		case err != nil:
			return timeline.EndInterrupted, err
		}
		if err := w.Write(s); err != nil {
			return timeline.EndInterrupted, err
		}
		behind.took(time.Since(t0))
	}
}

// lateness watches a recording fall behind its interval.
type lateness struct {
	every   time.Duration
	dur     time.Duration // --for, or 0
	started time.Time
	w       io.Writer
	late    int           // snapshots that took longer than every
	slowest time.Duration // the longest one
}

// took notes a snapshot (taking and writing it) that lasted d, and warns
// at the first that lasted longer than the interval.
func (l *lateness) took(d time.Duration) {
	l.slowest = max(l.slowest, d)
	if d <= l.every {
		return
	}
	if l.late == 0 {
		fmt.Fprintf(l.w, "zebra record: warning: a snapshot took %v, longer than --every %v: the recording falls behind\n",
			d.Round(time.Millisecond), l.every)
	}
	l.late++
}

// report says at the end how far behind the recording fell.
func (l *lateness) report(w *timeline.Writer) {
	if l.late == 0 {
		return
	}
	elapsed := time.Since(l.started)
	// Asked: one at each multiple of every before the end, which is
	// --for at most (no snapshot starts at it).
	asked := elapsed
	if l.dur > 0 {
		asked = min(asked, l.dur)
	}
	fmt.Fprintf(l.w, "zebra record: warning: %d snapshots in %v at --every %v (%d asked); the slowest took %v\n",
		w.Frames(), elapsed.Round(time.Millisecond), l.every, int((asked-1)/l.every)+1, l.slowest.Round(time.Millisecond))
}
