//go:build linux

package vmem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// vma is one line of /proc/self/maps, with the smaps fields tests need.
type vma struct {
	lo, hi        uintptr
	perms         string
	rss, anonHuge uintptr // bytes
	thpEligible   bool
}

// readSmaps reads /proc/self/smaps: every mapping with its Rss,
// AnonHugePages and THPeligible.
func readSmaps(t testing.TB) []vma {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vma
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && len(fields) >= 5 && !strings.HasSuffix(fields[0], ":") {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				out = append(out, vma{lo: uintptr(a), hi: uintptr(b), perms: fields[1]})
				continue
			}
		}
		if len(out) == 0 || len(fields) < 2 {
			continue
		}
		v := &out[len(out)-1]
		n, _ := strconv.ParseUint(fields[1], 10, 64)
		switch fields[0] {
		case "Rss:":
			v.rss = uintptr(n) << 10
		case "AnonHugePages:":
			v.anonHuge = uintptr(n) << 10
		case "THPeligible:":
			v.thpEligible = n == 1
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// vmasOf returns the mappings overlapping rg.
func vmasOf(t testing.TB, rg Range) []vma {
	var out []vma
	for _, v := range readSmaps(t) {
		if v.lo < rg.End() && v.hi > rg.Base {
			out = append(out, v)
		}
	}
	return out
}

// countVMAs counts the lines of /proc/self/maps overlapping rg (cheaper
// than reading smaps).
func countVMAs(t testing.TB, rg Range) int {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		lo, rest, ok := strings.Cut(line, "-")
		hi, _, _ := strings.Cut(rest, " ")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if ok && err1 == nil && err2 == nil && uintptr(a) < rg.End() && uintptr(z) > rg.Base {
			n++
		}
	}
	return n
}

func rssOf(vs []vma) (rss, huge uintptr) {
	for _, v := range vs {
		rss += v.rss
		huge += v.anonHuge
	}
	return rss, huge
}

// processRSS reads the resident set of the whole process from
// /proc/self/statm (its second field, in pages).
func processRSS(t testing.TB) uintptr {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	n, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return uintptr(n) * pageSize
}

// guarded makes a reservation with a read-only page mapped right below and
// right above it, so the kernel cannot merge it with a neighbour and
// /proc/self/smaps shows the reservation's own mappings only.
func guarded(t *testing.T, size uintptr, o Options) *Reservation {
	t.Helper()
	margin := pageSize
	if o.HugePages && hugePageSize != 0 {
		margin = hugePageSize
	}
	r, _ := inHole(t, margin, size, margin, o)
	for _, at := range []uintptr{r.Base() - pageSize, r.Range().End()} {
		p, err := unix.MmapPtr(-1, 0, addrPtr(at), pageSize, unix.PROT_READ,
			unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED_NOREPLACE)
		if err != nil || uintptr(p) != at {
			t.Skipf("could not place a guard page at %#x: %v", at, err)
		}
		t.Cleanup(func() { _ = unix.MunmapPtr(p, pageSize) })
	}
	return r
}

// TestReserveCostsNothing: reserving 1 GiB adds (almost) nothing to RSS,
// and the reservation itself holds no resident page.
func TestReserveCostsNothing(t *testing.T) {
	runtime.GC()
	before := processRSS(t)
	r := reserveT(t, 1<<30, Options{Owner: "one gibibyte"})
	grew := processRSS(t) - before
	if int(grew) >= int(oneMiB) {
		t.Errorf("reserving 1 GiB grew RSS by %d KiB", grew>>10)
	}
	rss, _ := rssOf(vmasOf(t, r.Range()))
	if rss != 0 {
		t.Errorf("the reservation holds %d KiB resident", rss>>10)
	}
	t.Logf("RSS grew by %d KiB for a 1 GiB reservation", int(grew)>>10)
}

const touchEnv = "ZEBRA_VMEM_TOUCH_CHILD"

// TestTouchChild is the subprocess of TestTouchFaults: it does nothing
// unless started by it.
func TestTouchChild(t *testing.T) {
	mode := os.Getenv(touchEnv)
	if mode == "" {
		t.Skip("subprocess of TestTouchFaults")
	}
	r, err := OS().Reserve(1<<30, Options{})
	if err != nil {
		fmt.Println("reserve:", err)
		os.Exit(3)
	}
	if err := r.Commit(r.Base(), 2*pageSize); err != nil {
		fmt.Println("commit:", err)
		os.Exit(3)
	}
	mem(r)[0] = 1 // committed: fine
	target := r.Base() + 512<<20
	switch mode {
	case "reserved":
	case "uncommitted":
		target = r.Base() + pageSize
		if err := r.Decommit(target, pageSize); err != nil {
			fmt.Println("decommit:", err)
			os.Exit(3)
		}
	case "released":
		target = r.Base()
		if err := r.Release(); err != nil {
			fmt.Println("release:", err)
			os.Exit(3)
		}
	}
	fmt.Printf("committed page written; touching %#x\n", target)
	os.Stdout.Sync()
	*(*byte)(addrPtr(target)) = 1
	fmt.Println("no fault")
	os.Exit(0)
}

// TestTouchFaults runs TestTouchChild in a subprocess and expects it to die
// of SIGSEGV at the address it touched.
func TestTouchFaults(t *testing.T) {
	tests := []struct {
		name string
		mode string
	}{
		{"reserved, never committed", "reserved"},
		{"above a lowered watermark", "uncommitted"},
		{"released", "released"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestTouchChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), touchEnv+"="+tt.mode, "GOTRACEBACK=single")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("child: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
			}
			_, addr, ok := strings.Cut(stdout.String(), "touching ")
			if !ok {
				t.Fatalf("child did not get to the touch: %s", stdout.String())
			}
			addr = strings.TrimSpace(addr)
			if !strings.Contains(stderr.String(), "SIGSEGV") || !strings.Contains(stderr.String(), "addr="+addr) {
				t.Fatalf("child did not fault at %s:\n%s", addr, stderr.String())
			}
		})
	}
}

// TestFewVMAs: commit the first half of 64 MiB, touch it, decommit
// scattered parts. The reservation stays at two VMAs, and its RSS falls by
// exactly what was decommitted.
func TestFewVMAs(t *testing.T) {
	const size = 64 << 20
	r := guarded(t, size, Options{Owner: "few vmas"})
	if err := r.Commit(r.Base(), size/2); err != nil {
		t.Fatal(err)
	}
	b := mem(r)[:size/2]
	for i := 0; i < len(b); i += int(pageSize) {
		b[i] = 1
	}
	vs := vmasOf(t, r.Range())
	rss, _ := rssOf(vs)
	if len(vs) != 2 || rss != size/2 {
		t.Fatalf("after committing half: %d VMAs, RSS %d KiB", len(vs), rss>>10)
	}
	var dropped uintptr
	for off := uintptr(1 << 20); off < size/2-(1<<20); off += 2 << 20 {
		n := uintptr(512<<10) + off%(3<<12) // scattered, uneven sizes
		if err := r.Decommit(r.Base()+off, n); err != nil {
			t.Fatal(err)
		}
		dropped += n &^ (pageSize - 1)
	}
	vs = vmasOf(t, r.Range())
	after, _ := rssOf(vs)
	if len(vs) > 2 {
		t.Errorf("scattered decommits split the reservation into %d VMAs: %+v", len(vs), vs)
	}
	if rss-after != dropped {
		t.Errorf("RSS fell by %d KiB, decommitted %d KiB", (rss-after)>>10, dropped>>10)
	}
	t.Logf("decommitted %d KiB in %d pieces: RSS %d → %d KiB, %d VMAs",
		dropped>>10, (size/2)>>21-1, rss>>10, after>>10, len(vs))
	// Lowering the watermark from the top keeps two; from the bottom, three
	// at most.
	if err := r.Decommit(r.Base()+size/4, size/4); err != nil {
		t.Fatal(err)
	}
	if vs := vmasOf(t, r.Range()); len(vs) != 2 || r.CommittedRange().Size != size/4 {
		t.Errorf("after lowering the watermark: %d VMAs, committed %#x; base %#x %+v", len(vs), r.Committed(), r.Base(), vs)
	}
	if err := r.Decommit(r.Base(), 1<<20); err != nil {
		t.Fatal(err)
	}
	if vs := vmasOf(t, r.Range()); len(vs) != 3 {
		t.Errorf("after raising the bottom: %d VMAs, want 3", len(vs))
	}
}

// TestExtendNaturally: Linux places mappings top-down, so the space right
// below a fresh reservation is usually free. Without preparing a hole,
// Extend(Below) must work at least once in a few tries, and the pieces
// merge into as few VMAs as a single reservation.
func TestExtendNaturally(t *testing.T) {
	for try := 0; try < 5; try++ {
		r := reserveT(t, 4<<20, Options{Owner: "natural"})
		if err := r.Commit(r.Base(), 1<<20); err != nil {
			t.Fatal(err)
		}
		err := r.Extend(Below, 2<<20)
		if errors.Is(err, ErrAddressTaken) {
			t.Logf("try %d: %v", try, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		validT(t, r)
		if n := len(vmasOf(t, r.Range())); n > 3 {
			t.Fatalf("extended reservation spans %d VMAs", n)
		}
		aboveErr := r.Extend(Above, 1<<20)
		t.Logf("extended below on try %d; above: %v", try, aboveErr)
		if aboveErr != nil && !errors.Is(aboveErr, ErrAddressTaken) {
			t.Fatal(aboveErr)
		}
		return
	}
	t.Fatalf("Extend(Below) never found free space below a fresh reservation")
}

// TestExtendOverMapping: a foreign mapping (with data) right below; Extend
// fails with ErrAddressTaken and the mapping and its data survive.
func TestExtendOverMapping(t *testing.T) {
	r, hole := inHole(t, 4*pageSize, 4*pageSize, 0, Options{Owner: "blocked"})
	p, err := unix.MmapPtr(-1, 0, addrPtr(hole.Base), 2*pageSize,
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED_NOREPLACE)
	if err != nil {
		t.Skipf("could not place the foreign mapping: %v", err)
	}
	defer unix.MunmapPtr(p, 2*pageSize)
	foreign := unsafe.Slice((*byte)(p), 2*pageSize)
	copy(foreign, "someone else's data")
	before, live := r.Range(), liveEntry(r)
	err = r.Extend(Below, 3*pageSize)
	if !errors.Is(err, ErrAddressTaken) || !errors.Is(err, unix.EEXIST) {
		t.Fatalf("got %v, want ErrAddressTaken wrapping EEXIST", err)
	}
	t.Logf("error reads: %v", err)
	if r.Range() != before || fmt.Sprint(liveEntry(r)) != fmt.Sprint(live) {
		t.Fatalf("failed Extend changed the reservation or the registry")
	}
	if string(foreign[:19]) != "someone else's data" {
		t.Fatalf("the foreign mapping was replaced")
	}
	if !isFree(t, Range{hole.Base + 2*pageSize, 2 * pageSize}) {
		t.Fatalf("failed Extend left a mapping below the foreign one")
	}
	if err := r.Extend(Below, 2*pageSize); err != nil { // exactly the free gap
		t.Fatalf("Extend into the free part: %v", err)
	}
}

// TestHugePagesResident: a huge reservation is 2 MiB aligned, its VMA is
// THP-eligible, and touching committed memory shows AnonHugePages.
func TestHugePagesResident(t *testing.T) {
	if hugePageSize == 0 {
		t.Skip("transparent huge pages are unavailable (no THP or \"[never]\")")
	}
	const size = 8 << 20
	r := guarded(t, size, Options{HugePages: true, Owner: "huge"})
	if r.Base()%hugePageSize != 0 || r.Unit() != hugePageSize {
		t.Fatalf("huge reservation at %#x, unit %#x", r.Base(), r.Unit())
	}
	if err := r.Commit(r.Base(), size/2); err != nil {
		t.Fatal(err)
	}
	b := mem(r)[:size/2]
	for i := 0; i < len(b); i += int(pageSize) {
		b[i] = 1
	}
	vs := vmasOf(t, r.Range())
	eligible := false
	for _, v := range vs {
		eligible = eligible || (v.thpEligible && v.perms[:2] == "rw")
	}
	if !eligible {
		t.Fatalf("the committed VMA is not THP-eligible: %+v", vs)
	}
	_, huge := rssOf(vs)
	if huge == 0 {
		t.Skip("THP-eligible but no huge page was formed (memory too fragmented for the kernel to compact?)")
	}
	t.Logf("AnonHugePages %d KiB of %d KiB committed", huge>>10, size/2>>10)
	if err := r.Decommit(r.Base(), hugePageSize); err != nil {
		t.Fatal(err)
	}
	if _, after := rssOf(vmasOf(t, r.Range())); after != huge-hugePageSize {
		t.Errorf("decommitting one huge page: AnonHugePages %d → %d KiB", huge>>10, after>>10)
	}
}

func TestTHPSize(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		enabled string
		size    string
		want    uintptr
	}{
		{"madvise", "always [madvise] never\n", "2097152\n", 2 << 20},
		{"always", "[always] madvise never\n", "2097152\n", 2 << 20},
		{"never", "always madvise [never]\n", "2097152\n", 0},
		{"no size", "[always] madvise never\n", "", 0},
		{"garbage size", "[always] madvise never\n", "two megs\n", 0},
		{"not a power of two", "[always] madvise never\n", "3000000\n", 0},
		{"no files", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dir + "/" + strings.ReplaceAll(tt.name, " ", "_")
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.enabled != "" {
				os.WriteFile(d+"/enabled", []byte(tt.enabled), 0o644)
			}
			if tt.size != "" {
				os.WriteFile(d+"/hpage_pmd_size", []byte(tt.size), 0o644)
			}
			if got := thpSize(d); got != tt.want {
				t.Fatalf("thpSize = %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestVMAName(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"heap A", "heap A"},
		{"", ""},
		{"a[b]c\\d$e`f", "a_b_c_d_e_f"},
		{"tab\there\n", "tab_here_"},
		{"héap", "h__ap"},
		{strings.Repeat("x", 100), strings.Repeat("x", 79)},
	}
	for _, tt := range tests {
		got := vmaName(tt.in)
		if got[len(got)-1] != 0 || string(got[:len(got)-1]) != tt.want {
			t.Errorf("vmaName(%q) = %q, want %q + NUL", tt.in, got, tt.want)
		}
	}
	// Naming is best effort: on kernels without it, nothing fails.
	r := reserveT(t, pageSize, Options{Owner: "named [zebra]"})
	if err := r.Commit(r.Base(), pageSize); err != nil {
		t.Fatal(err)
	}
	t.Logf("kernel naming available: %v", !namingOff.Load())
}

const maxMapEnv = "ZEBRA_VMEM_MAXMAP_CHILD"

// TestMaxMapCountChild is the subprocess of TestMaxMapCount.
func TestMaxMapCountChild(t *testing.T) {
	if os.Getenv(maxMapEnv) == "" {
		t.Skip("subprocess of TestMaxMapCount")
	}
	if err := maxMapCountChild(); err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("maxmap ok")
	os.Exit(0)
}

// maxMapCountChild fills the process's mappings up to vm.max_map_count
// with one-page mappings of alternating protections (which cannot merge),
// then checks that Commit and Reserve fail cleanly with ErrNoMemory and
// work again once a few mappings are gone. The Go runtime must not need a
// new mapping meanwhile: the GC is off and everything is allocated first.
func maxMapCountChild() error {
	// Grow the Go heap and its span metadata first and collect it, so that
	// the allocations made once the mappings are full reuse mapped memory
	// instead of asking the kernel for a mapping it cannot give.
	var warm [][]byte
	for size := 16; size <= 32<<10; size *= 2 {
		for range (8 << 20) / size {
			warm = append(warm, make([]byte, size))
		}
	}
	runtime.KeepAlive(warm)
	runtime.GC()
	debug.SetGCPercent(-1)
	runtime.LockOSThread()
	r, err := OS().Reserve(1<<20, Options{})
	if err != nil {
		return err
	}
	b, err := os.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return err
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || limit > 1<<20 {
		return fmt.Errorf("max_map_count %q too large to fill", b)
	}
	fill := make([]unsafe.Pointer, 0, limit+16)
	live := len(Live())
	prot := []int{unix.PROT_READ, unix.PROT_NONE}
	for i := 0; ; i++ {
		p, err := unix.MmapPtr(-1, 0, nil, pageSize, prot[i%2], unix.MAP_PRIVATE|unix.MAP_ANON)
		if errors.Is(err, unix.ENOMEM) {
			break
		}
		if err != nil {
			return err
		}
		if len(fill) == cap(fill) {
			return fmt.Errorf("no ENOMEM after %d mappings", len(fill))
		}
		fill = append(fill, p)
	}
	// Committing a page in the middle splits the reservation: refused.
	mid := r.Base() + 4*pageSize
	errCommit := r.Commit(mid, pageSize)
	if !errors.Is(errCommit, ErrNoMemory) || !errors.Is(errCommit, unix.ENOMEM) {
		return fmt.Errorf("commit at the limit: %v", errCommit)
	}
	if r.Committed() != 0 {
		return fmt.Errorf("failed commit moved the watermark to %#x", r.Committed())
	}
	r2, errReserve := OS().Reserve(3*pageSize, Options{HugePages: false, Align: 1 << 20})
	if errReserve == nil {
		_ = r2.Release() // merged with a neighbour: allowed
	} else if !errors.Is(errReserve, ErrNoMemory) {
		return fmt.Errorf("reserve at the limit: %v", errReserve)
	}
	if len(Live()) != live {
		return fmt.Errorf("registry changed at the limit")
	}
	for _, p := range fill[len(fill)-8:] {
		_ = unix.MunmapPtr(p, pageSize)
	}
	fill = fill[:len(fill)-8]
	if err := r.Commit(mid, pageSize); err != nil {
		return fmt.Errorf("commit after freeing mappings: %v", err)
	}
	*(*byte)(addrPtr(mid)) = 1
	for _, p := range fill {
		_ = unix.MunmapPtr(p, pageSize)
	}
	fmt.Printf("filled %d mappings; commit: %v; reserve: %v\n", len(fill)+8, errCommit, errReserve)
	return r.Release()
}

// TestMaxMapCount runs maxMapCountChild in a subprocess, so that filling the
// mapping table cannot hurt the test binary itself.
func TestMaxMapCount(t *testing.T) {
	if testing.Short() {
		t.Skip("fills vm.max_map_count in a subprocess (about a second)")
	}
	if raceEnabled {
		t.Skip("the race detector's allocator needs mappings of its own and dies at the limit")
	}
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMaxMapCountChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), maxMapEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("maxmap ok")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "filled") {
			t.Log(line)
		}
	}
	t.Logf("took %v", time.Since(start))
}

// TestVMABound commits, touches and decommits at pseudo-random places and
// checks after every step that the reservation never spans more than three
// VMAs (two while the committed interval starts at the base or is empty).
// Lowering the watermark with mprotect alone failed this: a VMA that was
// ever written keeps an anon_vma and will not merge with an untouched one.
func TestVMABound(t *testing.T) {
	const pages = 256
	r := guarded(t, pages*pageSize, Options{Owner: "bound"})
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 300 {
		off := uintptr(rng.IntN(pages))
		n := uintptr(1 + rng.IntN(pages-int(off)))
		var err error
		op := "commit"
		if rng.IntN(2) == 0 {
			err = r.Commit(r.Base()+off*pageSize, n*pageSize)
			if err == nil {
				mem(r)[off*pageSize] = 1
			}
		} else {
			op = "decommit"
			err = r.Decommit(r.Base()+off*pageSize, n*pageSize)
		}
		if err != nil {
			t.Fatalf("step %d: %s: %v", step, op, err)
		}
		validT(t, r)
		want := 3
		if cr := r.CommittedRange(); cr.Size == 0 || cr.Base == r.Base() || cr.End() == r.Range().End() {
			want = 2
		}
		if r.Committed() == 0 {
			want = 1
		}
		if got := countVMAs(t, r.Range()); got > want {
			t.Fatalf("step %d (%s pages %d+%d): %d VMAs, want at most %d; committed %v",
				step, op, off, n, got, want, r.CommittedRange())
		}
	}
}
