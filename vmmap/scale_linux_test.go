package vmmap

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
)

// The incidents zebra is pointed at have tens of thousands of mappings
// (RavenDB 65,406, .NET 80,000+). These measure a snapshot of a child with
// scaleMappings of them: its memory here, its time in BenchmarkAtScale.
const scaleMappings = 60000

// statusKB reads a "VmRSS:"-style field of /proc/self/status in bytes.
func statusKB(t testing.TB, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(b, []byte("\n"+field+":"))
	if !ok {
		t.Fatalf("no %s in /proc/self/status", field)
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(line), []byte(" kB"))), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return kb << 10
}

// TestSnapshotMemoryAtScale: a snapshot of a process of 60,000 mappings
// raises this process's peak RSS by at most 1 KiB a mapping (the issue's
// target; the snapshot itself, which the caller keeps, included).
func TestSnapshotMemoryAtScale(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("makes a process of 60,000 mappings; RSS means nothing under -race")
	}
	cmd, stop := startMappingsChild(t, scaleMappings)
	defer stop()
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skip("cannot reset the peak RSS:", err)
	}
	before := statusKB(t, "VmRSS")
	t0 := time.Now()
	s, err := Process(cmd.Process.Pid)
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	peak := statusKB(t, "VmHWM")
	if s.VMAs < scaleMappings {
		t.Fatalf("the child has %d mappings, want %d", s.VMAs, scaleMappings)
	}
	per := float64(peak-before) / float64(s.VMAs)
	t.Logf("%d mappings: peak RSS +%.1f MiB (%.0f B a mapping) in %v", s.VMAs, float64(peak-before)/(1<<20), per, took)
	if per > 1024 {
		t.Errorf("a snapshot costs %.0f B of RSS a mapping, want at most 1 KiB", per)
	}
	runtime.KeepAlive(s)
}

// BenchmarkAtScale: a snapshot of a process of 60,000 mappings against
// reading its smaps as cat does and pmap -X (the targets: at most
// 2x cat, less than pmap), and its layout (Layout) against
// reading its maps. Compare the sub-benchmarks' ns/op in one run.
func BenchmarkAtScale(b *testing.B) {
	t := &testing.T{}
	cmd, stop := startMappingsChild(t, scaleMappings)
	defer stop()
	pid := cmd.Process.Pid
	smaps := fmt.Sprintf("/proc/%d/smaps", pid)
	b.Run("cat", func(b *testing.B) {
		buf := make([]byte, 128<<10) // cat's buffer
		for b.Loop() {
			f, err := os.Open(smaps)
			if err != nil {
				b.Fatal(err)
			}
			io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
			f.Close()
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			if _, err := Process(pid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("layout", func(b *testing.B) {
		for b.Loop() {
			if _, err := Layout(pid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("maps", func(b *testing.B) { // the layout's text, as cat reads it
		buf := make([]byte, 128<<10)
		for b.Loop() {
			f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
			if err != nil {
				b.Fatal(err)
			}
			io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
			f.Close()
		}
	})
	b.Run("pmap", func(b *testing.B) {
		if _, err := exec.LookPath("pmap"); err != nil {
			b.Skip("no pmap")
		}
		for b.Loop() {
			if err := exec.Command("pmap", "-X", strconv.Itoa(pid)).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
