//go:build linux

package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// TestRecordReportAtScale records a process of many mappings that change
// all the time (internal/testprog/manymaps) with the zebra command, then
// writes the report of the recording, each a process of its own, and
// checks what the issue asks of them that a test can check: every frame
// changed, and the report's peak RSS stays within the 1 GiB for
// 60,000 mappings, scaled to the mappings recorded (a report that held
// every frame would pass it). The record's CPU time per second of
// recording is logged, as are both wall times: timings are not pass
// conditions. It runs only when ZEBRA_SCALE is set (CI's "Maps at scale"
// block does): 20,000 mappings for 10 s at 500 ms by default;
// ZEBRA_SCALE_MAPPINGS, ZEBRA_SCALE_EVERY and ZEBRA_SCALE_FOR change that
// (the README's figures: 60000, 1s, 60s).
func TestRecordReportAtScale(t *testing.T) {
	if os.Getenv("ZEBRA_SCALE") == "" {
		t.Skip("set ZEBRA_SCALE=1 to record a process of 20,000 mappings for 10 s")
	}
	bin := binaries(t)
	n := envOr(t, "ZEBRA_SCALE_MAPPINGS", 20000, strconv.Atoi)
	every := envOr(t, "ZEBRA_SCALE_EVERY", 500*time.Millisecond, time.ParseDuration)
	dur := envOr(t, "ZEBRA_SCALE_FOR", 10*time.Second, time.ParseDuration)
	dir := tempdir.New(t)

	// The child changes its mappings twice a frame, so that every frame
	// differs from the one before whatever the phase of the two clocks.
	child := exec.Command(bin["manymaps"], "-n", strconv.Itoa(n), "-change", strconv.Itoa(max(n/100, 2)), "-every", (every / 2).String())
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); child.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("manymaps said %q, %v", line, err)
	}

	rec := filepath.Join(dir, "scale.jsonl.gz")
	recUse, recWall := runMeasured(t, bin["zebra"], "record", "--every", every.String(), "--for", dur.String(), "-o", rec, strconv.Itoa(child.Process.Pid))
	cpu := time.Duration(recUse.Utime.Nano() + recUse.Stime.Nano())
	st, _ := os.Stat(rec)
	t.Logf("record of %d mappings, --every %v --for %v: %v wall, %v CPU (%.0f%% of one core), peak RSS %d MiB, %d KiB written",
		n, every, dur, recWall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*cpu.Seconds()/recWall.Seconds(), recUse.Maxrss>>10, st.Size()>>10)

	// Every frame after the first changed.
	r, err := timeline.OpenReader(rec, timeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	frames, changed := 0, 0
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if frames > 0 && !f.Same {
			changed++
		}
		frames++
	}
	r.Close()
	if frames < 3 || changed != frames-1 {
		t.Fatalf("%d frames, %d of them changed since the one before; want at least 3, all changed", frames, changed)
	}

	page := filepath.Join(dir, "scale.html")
	repUse, repWall := runMeasured(t, bin["zebra"], "report", rec, "-o", page)
	peak := int64(repUse.Maxrss) << 10 // bytes (Maxrss is in KiB, an int32 on 32-bit Linux)
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report of %d frames: %v wall, peak RSS %d MiB, page %d KiB", frames, repWall.Round(time.Millisecond), peak>>20, len(html)>>10)
	if bound := int64(1<<30) * int64(n) / 60000; peak > bound {
		t.Errorf("zebra report's peak RSS %d MiB; want at most %d MiB (1 GiB at 60,000 mappings)", peak>>20, bound>>20)
	}
	if !bytes.Contains(html, []byte("Maps: the page holds")) {
		t.Errorf("the page does not state what it holds")
	}
}

// runMeasured runs the command and returns its resource use and wall time.
func runMeasured(t *testing.T, name string, args ...string) (*syscall.Rusage, time.Duration) {
	t.Helper()
	c := exec.Command(name, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	t0 := time.Now()
	if err := c.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("%s %s said: %s", filepath.Base(name), args[0], strings.TrimSpace(stderr.String()))
	}
	return c.ProcessState.SysUsage().(*syscall.Rusage), time.Since(t0)
}

// envOr parses the environment variable name, or returns def if it is
// unset.
func envOr[T any](t *testing.T, name string, def T, parse func(string) (T, error)) T {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := parse(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}
