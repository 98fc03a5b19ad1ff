//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// builtBinaries builds the growheaps helper and the zebra command once per
// test run.
var builtBinaries = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "zebra-record-test")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, pkg := range map[string]string{
		"growheaps": "github.com/zebra-heap/zebra/internal/testprog/growheaps",
		"zebra":     "github.com/zebra-heap/zebra/cmd/zebra",
	} {
		out[name] = filepath.Join(dir, name)
		if b, err := exec.Command("go", "build", "-o", out[name], pkg).CombinedOutput(); err != nil {
			return nil, &buildError{pkg, string(b), err}
		}
	}
	return out, nil
})

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "go build " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

func binaries(t *testing.T) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and records child processes")
	}
	b, err := builtBinaries()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecordChildGrowingHeaps records a real process growing two zebra
// heaps and checks, from the timeline file alone, that its VMA count and
// stripes rose and its largest free block fell, and that the recording of
// a process that exits ends cleanly.
func TestRecordChildGrowingHeaps(t *testing.T) {
	bin := binaries(t)
	for _, name := range []string{"t.jsonl", "t.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(tempDir(t), name)
			cfg := recordConfig{cmd: []string{bin["growheaps"], "-for", "2s"}, out: out, every: 100 * time.Millisecond}
			var stdout, stderr bytes.Buffer
			if err := record(context.Background(), cfg, &stdout, &stderr); err != nil {
				t.Fatalf("record: %v\n%s", err, stderr.String())
			}
			if !strings.Contains(stdout.String(), "exited") {
				t.Errorf("stdout %q does not say the process exited", stdout.String())
			}
			tl, err := timeline.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			if tl.End != timeline.EndExited || tl.Truncated {
				t.Errorf("End = %q, Truncated = %v; want %q, false", tl.End, tl.Truncated, timeline.EndExited)
			}
			if len(tl.Frames) < 10 {
				t.Fatalf("%d frames in 2 s at 100 ms; want at least 10", len(tl.Frames))
			}
			first := timeline.Measure(tl.Frames[0].Snapshot)
			last := timeline.Measure(tl.Frames[len(tl.Frames)-1].Snapshot)
			if last.VMAs <= first.VMAs {
				t.Errorf("VMAs %d -> %d; want a rise", first.VMAs, last.VMAs)
			}
			// The kernel merges adjacent mappings of equal protection, so
			// the stripes seen from outside rise by less than the heaps'
			// segment count; they must rise.
			if last.AnonMappings <= first.AnonMappings {
				t.Errorf("anonymous mappings (the heaps' stripes seen from outside) %d -> %d; want a rise",
					first.AnonMappings, last.AnonMappings)
			}
			if last.Largest >= first.Largest {
				t.Errorf("largest free block %d -> %d; want a fall", first.Largest, last.Largest)
			}
		})
	}
}

// TestRecordKilled kills the recorder with SIGKILL mid-recording: the file
// still reads up to its last complete line.
func TestRecordKilled(t *testing.T) {
	bin := binaries(t)
	for _, name := range []string{"k.jsonl", "k.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(tempDir(t), name)
			c := exec.Command(bin["zebra"], "record", "--every", "20ms", "-o", out, "--", bin["growheaps"], "-for", "5s")
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(800 * time.Millisecond)
			c.Process.Signal(syscall.SIGKILL)
			c.Wait()
			tl, err := timeline.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			// The recorder's child outlives it: stop it.
			if p, err := os.FindProcess(tl.Header.PID); err == nil {
				p.Kill()
			}
			if tl.End != "" {
				t.Errorf("End = %q after SIGKILL; want none", tl.End)
			}
			if len(tl.Frames) < 5 {
				t.Errorf("%d frames kept; want at least 5", len(tl.Frames))
			}
		})
	}
}

func TestRecordArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no output", []string{"123"}, "-o FILE"},
		{"no target", []string{"-o", "x.jsonl"}, "want one PID"},
		{"bad pid", []string{"-o", "x.jsonl", "abc"}, "not a process id"},
		{"self forever", []string{"-o", "x.jsonl", "self"}, "needs --for"},
		{"conflict", []string{"-o", "x.jsonl", "--for", "1s", "--until-exit", "1"}, "conflict"},
		{"empty command", []string{"-o", "x.jsonl", "--"}, "needs a command"},
		{"pid and command", []string{"-o", "x.jsonl", "1", "--", "true"}, "give one"},
		{"tiny interval", []string{"-o", "x.jsonl", "--every", "1us", "1"}, "at least 1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseRecordArgs(tt.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
	cfg, err := parseRecordArgs([]string{"-o", "x.jsonl", "--every", "1s", "--", "prog", "-for", "2s"}, &bytes.Buffer{})
	if err != nil || strings.Join(cfg.cmd, " ") != "prog -for 2s" || cfg.every != time.Second {
		t.Errorf("command form: %+v, %v", cfg, err)
	}
}
