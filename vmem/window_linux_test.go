//go:build linux

package vmem

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// replayEnv makes the test binary, re-executed by TestTopDownKernelReplay,
// run the mmap sequence instead of the tests.
const replayEnv = "ZEBRA_WINDOW_REPLAY"

// The replayed sequence: map A (1 MiB), B (3 MiB), C (2 MiB), unmap B, map D
// (1 MiB). First fit, best fit, "below the previous mapping" and "highest
// fit" all put D somewhere else.
var replaySizes = struct{ a, b, c, d uintptr }{1 * wmib, 3 * wmib, 2 * wmib, 1 * wmib}

// readMapsInto reads /proc/self/maps into buf with raw system calls, so that
// nothing between two mmaps allocates and makes the Go runtime map memory.
func readMapsInto(path *byte, buf []byte) int {
	cwd := unix.AT_FDCWD // a variable: the negative constant does not convert to uintptr
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(cwd), uintptr(unsafe.Pointer(path)), unix.O_RDONLY, 0, 0, 0)
	if errno != 0 {
		return -1
	}
	n := 0
	for n < len(buf) {
		m, _, errno := unix.Syscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[n])), uintptr(len(buf)-n))
		if errno != 0 || m == 0 {
			break
		}
		n += int(m)
	}
	unix.Syscall(unix.SYS_CLOSE, fd, 0, 0)
	return n
}

// rawMmap maps n bytes of PROT_NONE anonymous memory with no hint, as the
// kernel's top-down allocator places it.
func rawMmap(n uintptr) uintptr {
	p, _, errno := unix.Syscall6(unix.SYS_MMAP, 0, n, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
	if errno != 0 {
		return 0
	}
	return p
}

func rawMunmap(p, n uintptr) { unix.Syscall(unix.SYS_MUNMAP, p, n, 0) }

// replayChild runs the sequence in a quiet process: one P, no GC, buffers
// allocated and touched beforehand, raw system calls only. It prints the
// addresses and both maps afterwards.
func replayChild() {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	runtime.LockOSThread()
	path, _ := unix.BytePtrFromString("/proc/self/maps")
	before, after := make([]byte, 1<<20), make([]byte, 1<<20)
	for i := range before {
		before[i], after[i] = 0, 0
	}
	s := replaySizes
	n0 := readMapsInto(path, before)
	a := rawMmap(s.a)
	b := rawMmap(s.b)
	c := rawMmap(s.c)
	rawMunmap(b, s.b)
	d := rawMmap(s.d)
	n1 := readMapsInto(path, after)
	rawMunmap(a, s.a)
	rawMunmap(c, s.c)
	rawMunmap(d, s.d)
	if n0 <= 0 || n1 <= 0 || a == 0 || b == 0 || c == 0 || d == 0 {
		fmt.Println("replay failed")
		os.Exit(3)
	}
	fmt.Printf("addrs %#x %#x %#x %#x\n", a, b, c, d)
	fmt.Printf("before\n%safter\n%send\n", before[:n0], after[:n1])
	os.Exit(0)
}

// replayMaps is what the parent learns from a child.
type replayMaps struct {
	a, b, c, d    uintptr
	before, after []mapsLine
}

type mapsLine struct {
	r    Range
	name string
}

func parseReplay(out string) (replayMaps, error) {
	var m replayMaps
	sc := bufio.NewScanner(strings.NewReader(out))
	var cur *[]mapsLine
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "addrs "):
			if _, err := fmt.Sscanf(line, "addrs %v %v %v %v", &m.a, &m.b, &m.c, &m.d); err != nil {
				return m, fmt.Errorf("%q: %w", line, err)
			}
		case line == "before":
			cur = &m.before
		case line == "after":
			cur = &m.after
		case line == "end":
			cur = nil
		case cur != nil:
			f := strings.Fields(line)
			lo, hi, ok := strings.Cut(f[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if !ok || err1 != nil || err2 != nil || end <= start {
				return m, fmt.Errorf("bad maps line %q", line)
			}
			name := ""
			if len(f) >= 6 {
				name = f[5]
			}
			*cur = append(*cur, mapsLine{Range{uintptr(start), uintptr(end - start)}, name})
		}
	}
	if m.a == 0 || len(m.before) == 0 || len(m.after) == 0 {
		return m, fmt.Errorf("incomplete replay output:\n%s", out)
	}
	return m, nil
}

// mmapArea returns the union of the mappings below the stack — the part of
// the address space the top-down allocator manages — and its top: the end
// of the highest of them, our estimate of mmap_base.
func mmapArea(lines []mapsLine) (used rangeSet, top uintptr) {
	stack := ^uintptr(0)
	for _, l := range lines {
		if l.name == "[stack]" {
			stack = l.r.Base
		}
	}
	for _, l := range lines {
		if l.r.Base < stack && l.name != "[vsyscall]" {
			used.add(l.r)
			top = max(top, l.r.End())
		}
	}
	return used, top
}

// TestTopDownKernelReplay replays a short sequence of anonymous mmaps
// against the running kernel and compares it with TopDown's prediction on a
// model of the process's real address space (the gaps of /proc/self/maps
// below the highest mapping under the stack).
//
// It asserts only what holds whatever the process looked like before: when
// B landed directly below A, the kernel put D at the top of B's hole, right
// below A — TopDown's "highest gap in the whole space" rule — and not below
// C, where a "below the previous mapping" rule would. The other placements
// are logged with the model's prediction; they differ when mmap_base lies
// above the highest existing mapping (the model cannot see it), and C may
// differ by THP alignment: since Linux 6.7, anonymous mappings whose length
// is a multiple of 2 MiB are aligned to 2 MiB.
func TestTopDownKernelReplay(t *testing.T) {
	if os.Getenv(replayEnv) != "" {
		replayChild()
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	var m replayMaps
	quiet := false
	for attempt := 1; attempt <= 3 && !quiet; attempt++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTopDownKernelReplay$", "-test.count=1")
		cmd.Env = append(os.Environ(), replayEnv+"=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		if m, err = parseReplay(string(out)); err != nil {
			t.Fatal(err)
		}
		// Quiet means the maps changed by exactly A, C and D.
		used0, _ := mmapArea(m.before)
		used1, _ := mmapArea(m.after)
		for _, r := range []Range{{m.a, replaySizes.a}, {m.c, replaySizes.c}, {m.d, replaySizes.d}} {
			used0.add(r)
		}
		quiet = slicesEqual(used0.rs, used1.rs)
		if !quiet {
			t.Logf("attempt %d: something else was mapped during the replay; retrying", attempt)
		}
	}
	if !quiet {
		t.Skip("the Go runtime mapped memory during every replay; nothing to compare")
	}
	s := replaySizes
	a, b, c, d := Range{m.a, s.a}, Range{m.b, s.b}, Range{m.c, s.c}, Range{m.d, s.d}
	t.Logf("kernel: A %v, B %v, C %v, B unmapped, D %v", a, b, c, d)
	t.Logf("offsets from A: B %+d KiB, C %+d KiB, D %+d KiB",
		(int64(m.b)-int64(m.a))>>10, (int64(m.c)-int64(m.a))>>10, (int64(m.d)-int64(m.a))>>10)

	// The model: the gaps below the estimated mmap_base, updated with the
	// kernel's actual choice after each step so that one difference does
	// not spoil the rest.
	used, top := mmapArea(m.before)
	var free rangeSet
	free.add(Range{uintptr(os.Getpagesize()), top - uintptr(os.Getpagesize())})
	for _, r := range used.rs {
		free.remove(r)
	}
	ps := uintptr(os.Getpagesize())
	agreed := map[string]bool{}
	predict := func(name string, size uintptr, got Range) {
		want, ok := TopDown.place(&free, size, ps)
		thp, thpOK := thpPlace(&free, size, ps)
		switch {
		case !ok:
			t.Logf("%s: the model has no gap for %s", name, got)
		case want == got.Base:
			agreed[name] = true
			t.Logf("%s: kernel and TopDown agree: %v", name, got)
		case size%(2*wmib) == 0 && thpOK && thp == got.Base:
			agreed[name] = true
			t.Logf("%s: kernel %v, TopDown predicts %#x (%+d KiB): the kernel aligned it as a THP candidate, "+
				"as Linux 6.7+ does for anonymous mappings whose length is a multiple of 2 MiB", name, got, want, (int64(want)-int64(got.Base))>>10)
		default:
			t.Logf("%s: kernel %v, TopDown predicts %#x (%+d KiB): mmap_base lies above the highest mapping the model sees",
				name, got, want, (int64(want)-int64(got.Base))>>10)
		}
		free.remove(got)
	}
	predict("A", s.a, a)
	predict("B", s.b, b)
	predict("C", s.c, c)
	free.add(b)
	predict("D", s.d, d)

	// When the model saw the space as the kernel did for A and B, it must
	// explain C too, by TopDown or by THP alignment.
	if agreed["A"] && agreed["B"] && !agreed["C"] {
		t.Errorf("C at %v is neither TopDown's choice nor the THP-aligned one", c)
	}
	if b.End() != a.Base {
		t.Skipf("B did not land directly below A (a gap of the process was in the way): nothing robust to assert")
	}
	if d.Base != a.Base-s.d {
		t.Errorf("D at %v, want the top of B's hole %#x: the kernel did not take the highest gap", d, a.Base-s.d)
	}
	if d.End() == c.Base {
		t.Errorf("D landed directly below C, as a 'below the previous mapping' rule would put it")
	}
}

// thpPlace is where Linux 6.7+ puts an anonymous mapping of size bytes, a
// multiple of 2 MiB, when transparent huge pages are compiled in
// (__thp_get_unmapped_area): it finds the highest gap for size + 2 MiB, then
// moves up to the next 2 MiB boundary — or, if the gap's base is already
// aligned, a whole 2 MiB up, the highest aligned place in the padded range.
func thpPlace(free *rangeSet, size, page uintptr) (uintptr, bool) {
	const pmd = 2 * wmib
	a, ok := TopDown.place(free, size+pmd, page)
	if !ok {
		return 0, false
	}
	if off := -a & (pmd - 1); off != 0 {
		return a + off, true
	}
	return a + pmd, true
}

func slicesEqual(a, b []Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
