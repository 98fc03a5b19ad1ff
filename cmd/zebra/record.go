package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
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
snapshot taken is kept even if the recorder is killed. With -- COMMAND the
program is started and recorded from its first moment to its exit.
Read the file with 'zebra report FILE -o timeline.html'.

Flags:
`

type recordConfig struct {
	target string   // "self" or a decimal pid; "" with command
	cmd    []string // the program to start
	out    string
	every  time.Duration
	dur    time.Duration // 0: until the process exits (or Ctrl-C)
}

func runRecord(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRecordArgs(args, stdout)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return record(ctx, cfg, stdout, stderr)
}

func parseRecordArgs(args []string, help io.Writer) (recordConfig, error) {
	cfg := recordConfig{}
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.StringVar(&cfg.out, "o", "", "write the timeline to `FILE` (.jsonl, or .gz for gzip)")
	fs.DurationVar(&cfg.every, "every", 500*time.Millisecond, "take a snapshot every `DURATION`")
	fs.DurationVar(&cfg.dur, "for", 0, "stop after `DURATION` (default: when the process exits)")
	untilExit := fs.Bool("until-exit", false, "record until the process exits (the default; conflicts with --for)")
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
	case *untilExit && cfg.dur > 0:
		return cfg, usageErrorf("--for and --until-exit conflict")
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

// record runs the recording cfg describes until the process exits, the
// duration passes or ctx is cancelled.
func record(ctx context.Context, cfg recordConfig, stdout, stderr io.Writer) error {
	take := vmmap.Self
	var exited <-chan error
	pid := os.Getpid()
	switch {
	case cfg.cmd != nil:
		c := exec.Command(cfg.cmd[0], cfg.cmd[1:]...)
		c.Stdout, c.Stderr = stderr, stderr
		if err := c.Start(); err != nil {
			return err
		}
		pid = c.Process.Pid
		ch := make(chan error, 1)
		go func() { ch <- c.Wait() }()
		exited = ch
		take = func() (*vmmap.Snapshot, error) { return vmmap.Process(pid) }
	case cfg.target != "self":
		pid, _ = strconv.Atoi(cfg.target)
		take = func() (*vmmap.Snapshot, error) { return vmmap.Process(pid) }
	}
	s, err := take()
	if err != nil {
		return err
	}
	w, err := timeline.Create(cfg.out, timeline.Header{Source: s.Source, PID: s.PID, Started: s.Taken, Every: cfg.every})
	if err != nil {
		return err
	}
	reason, err := recordLoop(ctx, w, s, take, exited, cfg)
	if cerr := w.Close(reason); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.out, err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d snapshots of %s, %s\n", cfg.out, w.Frames(), s.Source, reason)
	return nil
}

// recordLoop writes first and then a snapshot per tick, and returns why it
// stopped (a timeline end reason).
func recordLoop(ctx context.Context, w *timeline.Writer, first *vmmap.Snapshot, take func() (*vmmap.Snapshot, error),
	exited <-chan error, cfg recordConfig) (string, error) {
	if err := w.Write(first); err != nil {
		return timeline.EndInterrupted, err
	}
	var deadline <-chan time.Time
	if cfg.dur > 0 {
		t := time.NewTimer(cfg.dur)
		defer t.Stop()
		deadline = t.C
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
	}
}
