//go:build linux

package vmmap

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// pmapRow is one mapping of `pmap -X`, sizes in bytes.
type pmapRow struct{ size, rss uint64 }

// runPmap runs procps's `pmap -X PID` and returns its rows by start address
// and its total size and RSS.
func runPmap(t *testing.T, pid int) (map[uint64]pmapRow, int, pmapRow) {
	t.Helper()
	path, err := exec.LookPath("pmap")
	if err != nil {
		t.Skip("pmap not installed (Debian: apt-get install procps)")
	}
	out, err := exec.Command(path, "-X", strconv.Itoa(pid)).Output()
	if err != nil {
		t.Fatalf("pmap -X %d: %v", pid, err)
	}
	rows := map[uint64]pmapRow{}
	var n int
	var total pmapRow
	var sizeCol, rssCol = -1, -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	afterRule := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 0 && f[0] == "Address":
			for i, name := range f {
				switch name {
				case "Size":
					sizeCol = i
				case "Rss":
					rssCol = i
				}
			}
		case len(f) > 0 && strings.HasPrefix(f[0], "===="):
			afterRule = true
		case afterRule && len(f) > 2:
			// Totals: the numeric columns from Size on, then "KB".
			s, err1 := strconv.ParseUint(f[0], 10, 64)
			r, err2 := strconv.ParseUint(f[1], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("pmap totals %q", sc.Text())
			}
			total = pmapRow{s << 10, r << 10}
		case sizeCol > 0 && len(f) > rssCol:
			addr, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				continue // the "PID: command" line
			}
			s, err1 := strconv.ParseUint(f[sizeCol], 10, 64)
			r, err2 := strconv.ParseUint(f[rssCol], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("pmap row %q", sc.Text())
			}
			rows[addr] = pmapRow{s << 10, r << 10}
			n++
		}
	}
	if sizeCol < 0 || rssCol < 0 || n == 0 {
		t.Fatalf("pmap -X output not understood:\n%s", out)
	}
	return rows, n, total
}

// TestMatchesPmap maps a stopped child process and compares every region's
// size and RSS, and the totals, with procps's pmap, and the VMA count with
// the child's maps file.
func TestMatchesPmap(t *testing.T) {
	cmd, stop := startChild(t)
	defer stop()
	pid := cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT) // deferred last, so it runs before stop
	waitStopped(t, pid)

	s, err := NewProc("/proc").Snapshot(strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	rows, n, total := runPmap(t, pid)
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(maps, []byte("\n")); s.VMAs != lines || n != lines {
		t.Errorf("VMAs: snapshot %d, pmap %d, maps file %d lines", s.VMAs, n, lines)
	}
	var size, rss uint64
	seen := 0
	for _, r := range s.Regions {
		if r.Type == Free {
			continue
		}
		seen++
		size += r.Size()
		rss += r.RSS
		p, ok := rows[r.Start]
		if !ok {
			t.Errorf("region %#x-%#x %s: not in pmap", r.Start, r.End, r.Path)
			continue
		}
		if p.size != r.Size() || p.rss != r.RSS {
			t.Errorf("region %#x %s: size %d rss %d, pmap %d %d", r.Start, r.Path, r.Size(), r.RSS, p.size, p.rss)
		}
		// Committed is the commit charge, not what is resident (issue
		// 13, defect 6: it was RSS).
		if want := map[bool]uint64{true: r.Size()}[slices.Contains(r.Flags, "ac")]; r.Committed != want {
			t.Errorf("region %#x %s %v: Committed %d, want %d (the accounted size)", r.Start, r.Perms, r.Flags, r.Committed, want)
		}
	}
	if seen != n {
		t.Errorf("%d regions, pmap %d", seen, n)
	}
	if size != total.size || rss != total.rss {
		t.Errorf("total size %d rss %d, pmap %d %d", size, rss, total.size, total.rss)
	}
	// The summary measures within the span: [vsyscall] is left out.
	for _, r := range s.Regions {
		if r.Type != Free && (r.End <= s.Span.Start || r.Start >= s.Span.End) {
			size -= r.Size()
			rss -= r.RSS
		}
	}
	sum := Summarize(s)
	if sum.Total.Size != size || sum.Total.Resident != rss {
		t.Errorf("summary total size %d resident %d, want %d %d within the span", sum.Total.Size, sum.Total.Resident, size, rss)
	}
}

// waitStopped waits until the kernel reports the process stopped (state T).
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for range 1000 {
		st, err := NewProc("/proc").stat(strconv.Itoa(pid))
		if err != nil {
			t.Fatal(err)
		}
		if st.state == 'T' {
			return
		}
		syscall.Nanosleep(&syscall.Timespec{Nsec: 1e6}, nil)
	}
	t.Fatalf("pid %d did not stop", pid)
}
