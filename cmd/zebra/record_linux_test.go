//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap/timeline"
	"golang.org/x/sys/unix"
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
		"manymaps":  "github.com/zebra-heap/zebra/internal/testprog/manymaps",
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

// kernelNamesMappings reports whether the kernel names anonymous mappings
// (PR_SET_VMA_ANON_NAME, CONFIG_ANON_VMA_NAME): only then can a recorder
// outside the process attribute its regions to heaps.
func kernelNamesMappings(t *testing.T) bool {
	t.Helper()
	b, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	name := []byte("zebra-probe\x00")
	return unix.PrctlArg5Ptr(unix.PR_SET_VMA, unix.PR_SET_VMA_ANON_NAME,
		uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unsafe.Pointer(&name[0])) == nil
}

// TestRecordChildGrowingHeaps records a real process growing two zebra
// heaps and checks, from the timeline file alone, that its VMA count and
// stripes rose and its largest free block fell, and that the recording of
// a process that exits ends cleanly with its exit status.
func TestRecordChildGrowingHeaps(t *testing.T) {
	bin := binaries(t)
	named := kernelNamesMappings(t)
	for _, name := range []string{"t.jsonl", "t.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(tempdir.New(t), name)
			cfg := recordConfig{cmd: []string{bin["growheaps"], "-for", "2s"}, out: out, every: 100 * time.Millisecond}
			var stdout, stderr bytes.Buffer
			if err := record(context.Background(), cfg, nil, &stdout, &stderr); err != nil {
				t.Fatalf("record: %v\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "exited with status 0") {
				t.Errorf("stderr %q does not say the process exited with status 0", stderr.String())
			}
			if got := stdout.String(); got != "ready\ndone\n" {
				t.Errorf("stdout %q; want the command's own output", got)
			}
			tl, err := timeline.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			if tl.End != timeline.EndExited || tl.Truncated || tl.ExitStatus == nil || *tl.ExitStatus != 0 {
				t.Errorf("End = %q, Truncated = %v, ExitStatus %v; want %q, false, 0", tl.End, tl.Truncated, tl.ExitStatus, timeline.EndExited)
			}
			if len(tl.Frames) < 10 {
				t.Fatalf("%d frames in 2 s at 100 ms; want at least 10", len(tl.Frames))
			}
			first := timeline.Measure(tl.Frames[0].Snapshot)
			last := timeline.Measure(tl.Frames[len(tl.Frames)-1].Snapshot)
			if last.VMAs <= first.VMAs {
				t.Errorf("VMAs %d -> %d; want a rise", first.VMAs, last.VMAs)
			}
			if named {
				// The kernel names the heaps' mappings: each heap's own
				// stripes rose.
				for _, h := range []string{"growheaps-A", "growheaps-B"} {
					if last.Stripes[h] <= first.Stripes[h] || last.Stripes[h] < 2 {
						t.Errorf("stripes of %s %d -> %d; want a rise to at least 2", h, first.Stripes[h], last.Stripes[h])
					}
				}
			} else {
				// The kernel merges adjacent mappings of equal protection,
				// so the stripes seen from outside rise by less than the
				// heaps' segment count; they must rise.
				if last.AnonMappings <= first.AnonMappings {
					t.Errorf("anonymous mappings (the heaps' stripes seen from outside) %d -> %d; want a rise",
						first.AnonMappings, last.AnonMappings)
				}
			}
			if last.Largest >= first.Largest {
				t.Errorf("largest free block %d -> %d; want a fall", first.Largest, last.Largest)
			}
		})
	}
}

// TestRecordPIDExits records a running process by its PID until it exits:
// the recording ends with "exited" and no exit status (only the parent
// learns that).
func TestRecordPIDExits(t *testing.T) {
	bin := binaries(t)
	c := exec.Command(bin["growheaps"], "-for", "700ms")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go c.Wait() // reaped at once, so the PID goes away
	out := filepath.Join(tempdir.New(t), "pid.jsonl")
	cfg := recordConfig{target: strconv.Itoa(c.Process.Pid), out: out, every: 50 * time.Millisecond}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := record(ctx, cfg, nil, &stdout, &stderr); err != nil {
		t.Fatalf("record: %v", err)
	}
	if !strings.Contains(stdout.String(), "snapshots of linux pid") || !strings.HasSuffix(stdout.String(), ", exited\n") {
		t.Errorf("stdout %q", stdout.String())
	}
	tl, err := timeline.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if tl.End != timeline.EndExited || tl.Truncated || tl.ExitStatus != nil || tl.Header.PID != c.Process.Pid {
		t.Errorf("End %q, Truncated %v, ExitStatus %v, PID %d; want exited, false, nil, %d",
			tl.End, tl.Truncated, tl.ExitStatus, tl.Header.PID, c.Process.Pid)
	}
	if len(tl.Frames) < 3 {
		t.Errorf("%d frames of a process that lived 700 ms at 50 ms", len(tl.Frames))
	}
}

// TestRecordCommand: the command gets zebra's standard streams, zebra
// returns its exit status (and the end line records it), the file exists
// before the command starts, and an existing file is refused without
// --force.
func TestRecordCommand(t *testing.T) {
	tests := []struct {
		name       string
		script     string // run by sh -c; $OUT is the timeline's path
		stdin      string
		existing   bool // the file exists before
		force      bool
		wantStatus int
		wantOut    string
		wantErr    string // an error other than the exit status
	}{
		{name: "exit 0", script: "exit 0"},
		{name: "exit 3", script: "exit 3", wantStatus: 3},
		{name: "killed by SIGKILL", script: "kill -9 $$", wantStatus: 137},
		{name: "stdin to stdout", script: "read x; echo got $x", stdin: "hello\n", wantOut: "got hello\n"},
		{name: "file exists before the start", script: `test -e "$OUT"`},
		{name: "existing file refused", script: "exit 0", existing: true, wantErr: "--force"},
		{name: "existing file forced", script: "exit 0", existing: true, force: true},
		{name: "no such command", script: "", wantErr: "executable file not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(tempdir.New(t), "c.jsonl")
			if tt.existing {
				os.WriteFile(out, []byte("keep\n"), 0o644)
			}
			argv := []string{"sh", "-c", tt.script}
			if tt.script == "" {
				argv = []string{"zebra-no-such-command"}
			}
			t.Setenv("OUT", out)
			cfg := recordConfig{cmd: argv, out: out, force: tt.force, every: 20 * time.Millisecond}
			var stdout, stderr bytes.Buffer
			err := record(context.Background(), cfg, strings.NewReader(tt.stdin), &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want one containing %q", err, tt.wantErr)
				}
				b, rerr := os.ReadFile(out)
				switch {
				case tt.existing && string(b) != "keep\n":
					t.Errorf("the existing file became %q", b)
				case !tt.existing && !os.IsNotExist(rerr):
					t.Errorf("a failed recording left %s behind", out)
				}
				return
			}
			var status exitStatus
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("record: %v", err)
			case tt.wantStatus != 0 && (!errors.As(err, &status) || int(status) != tt.wantStatus):
				t.Fatalf("err = %v; want exit status %d", err, tt.wantStatus)
			}
			if stdout.String() != tt.wantOut {
				t.Errorf("stdout %q; want %q", stdout.String(), tt.wantOut)
			}
			tl, err := timeline.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			if tl.End != timeline.EndExited || tl.ExitStatus == nil || *tl.ExitStatus != tt.wantStatus {
				t.Errorf("End %q ExitStatus %v; want exited with %d", tl.End, tl.ExitStatus, tt.wantStatus)
			}
		})
	}
}

// TestRecordInterrupted sends SIGINT or SIGTERM to the recorder alone (not
// to the command's process group): it kills the command, ends the file
// with "interrupted" and returns.
func TestRecordInterrupted(t *testing.T) {
	bin := binaries(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(tempdir.New(t), "i.jsonl")
			c := exec.Command(bin["zebra"], "record", "--every", "20ms", "-o", out, "--", bin["growheaps"], "-for", "30s")
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			defer c.Process.Kill()
			var tl *timeline.Timeline
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				var err error
				if tl, err = timeline.Open(out); err == nil && len(tl.Frames) >= 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no three frames within 10 s: %v", err)
				}
			}
			c.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- c.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the recorder did not stop within 10 s")
			}
			if err := unix.Kill(tl.Header.PID, 0); !errors.Is(err, unix.ESRCH) {
				unix.Kill(tl.Header.PID, unix.SIGKILL)
				t.Errorf("the command (pid %d) outlived the recorder: kill(0) = %v", tl.Header.PID, err)
			}
			tl, err := timeline.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			if tl.End != timeline.EndInterrupted || tl.ExitStatus != nil {
				t.Errorf("End %q ExitStatus %v; want interrupted without status", tl.End, tl.ExitStatus)
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
			out := filepath.Join(tempdir.New(t), name)
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
		{"until-exit is gone (it was the default)", []string{"-o", "x.jsonl", "--until-exit", "1"}, "not defined"},
		{"empty command", []string{"-o", "x.jsonl", "--"}, "needs a command"},
		{"pid and command", []string{"-o", "x.jsonl", "1", "--", "true"}, "give one"},
		{"tiny interval", []string{"-o", "x.jsonl", "--every", "1us", "1"}, "at least 1ms"},
		{"for 0s", []string{"-o", "x.jsonl", "--for", "0s", "1"}, "--for 0s: want a positive duration"},
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

// TestRecordLayoutOnly: --layout-only records where the mappings are,
// from maps, without the smaps counters: the VMAs still rise as the child
// grows its heaps, and no frame has resident memory.
func TestRecordLayoutOnly(t *testing.T) {
	bin := binaries(t)
	out := filepath.Join(tempdir.New(t), "t.jsonl")
	cfg := recordConfig{cmd: []string{bin["growheaps"], "-for", "1s"}, out: out, every: 100 * time.Millisecond, layout: true}
	var stdout, stderr bytes.Buffer
	if err := record(context.Background(), cfg, nil, &stdout, &stderr); err != nil {
		t.Fatalf("record: %v\n%s", err, stderr.String())
	}
	tl, err := timeline.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Frames) < 3 {
		t.Fatalf("%d frames", len(tl.Frames))
	}
	for _, f := range tl.Frames {
		for _, r := range f.Snapshot.Regions {
			if r.RSS != 0 || r.Flags != nil {
				t.Fatalf("frame %d holds smaps counters: %+v", f.Seq, r)
			}
		}
	}
	first, last := tl.Frames[0].Snapshot.VMAs, tl.Frames[len(tl.Frames)-1].Snapshot.VMAs
	if last <= first {
		t.Errorf("VMAs %d -> %d; want a rise", first, last)
	}
}
