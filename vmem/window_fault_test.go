package vmem

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"
)

// faultEnv makes the test binary, re-executed by TestWindowFault, touch one
// address of a window and report, instead of running the tests.
const faultEnv = "ZEBRA_WINDOW_FAULT"

// faultChild is the child's side: it prepares a window as the mode says,
// prints the real address it is about to touch, and touches it. A fault
// kills it with the Go runtime's "unexpected fault address"; otherwise it
// prints what it read and exits 0.
func faultChild(mode string) {
	fail := func(err error) {
		fmt.Println("setup failed:", err)
		os.Exit(3)
	}
	w, err := NewWindow(WindowConfig{Name: "fault", Low: testLow, High: testLow + 4*wmib, Granularity: 64 * wkib,
		Occupied: []Occupied{{Range: Range{testLow, 64 * wkib}, Kind: KindStack, Name: "stack reserve"}}})
	if err != nil {
		fail(err)
	}
	r, err := w.Reserve(1*wmib, Options{})
	if err != nil {
		fail(err)
	}
	ps := r.Unit()
	if err := r.Commit(r.Base(), ps); err != nil {
		fail(err)
	}
	*(*byte)(r.Pointer()) = 42
	p := r.Pointer()
	switch mode {
	case "committed":
	case "uncommitted":
		p = unsafe.Add(p, ps)
	case "decommitted":
		// The middle page: at an end of the committed interval the
		// reservation would uncommit it too.
		if err := r.Commit(r.Base(), 3*ps); err != nil {
			fail(err)
		}
		p = unsafe.Add(p, ps)
		*(*byte)(p) = 7
		if err := r.Decommit(r.Base()+ps, ps); err != nil {
			fail(err)
		}
	case "released":
		if err := r.Release(); err != nil {
			fail(err)
		}
	case "occupied":
		p = w.pointer(testLow)
	default:
		fail(fmt.Errorf("unknown mode %q", mode))
	}
	fmt.Printf("touching %#x\n", uintptr(p))
	v := *(*byte)(p)
	*(*byte)(p) = v + 1
	fmt.Printf("read %d\n", v)
	os.Exit(0)
}

// TestWindowFault checks that memory in a window is as real as the OS's:
// committed pages hold data, and touching a page that is reserved but not
// committed, decommitted (where the host needs a recommit), released, or
// pre-occupied without commit kills the process. Each case runs in a child
// process, the test binary itself.
func TestWindowFault(t *testing.T) {
	if mode := os.Getenv(faultEnv); mode != "" {
		faultChild(mode)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	tests := []struct {
		mode      string
		wantFault bool
		wantRead  string
	}{
		{"committed", false, "read 42"},
		{"uncommitted", true, ""},
		// Linux keeps decommitted pages accessible (they read as zero);
		// Windows must commit them again.
		{"decommitted", OS().Caps().RecommitAfterDecommit, "read 0"},
		{"released", true, ""},
		{"occupied", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestWindowFault$", "-test.count=1")
			cmd.Env = append(os.Environ(), faultEnv+"="+tt.mode, "GOTRACEBACK=single")
			out, err := cmd.CombinedOutput()
			text := string(out)
			_, after, found := strings.Cut(text, "touching ")
			if !found {
				t.Fatalf("child did not reach the touch: %v\n%s", err, text)
			}
			addr, _, _ := strings.Cut(after, "\n")
			if !tt.wantFault {
				if err != nil || !strings.Contains(text, tt.wantRead) {
					t.Fatalf("child failed (%v), want %q:\n%s", err, tt.wantRead, text)
				}
				return
			}
			if err == nil {
				t.Fatalf("touching %s did not fault:\n%s", addr, text)
			}
			if want := "unexpected fault address " + addr; !strings.Contains(text, want) {
				t.Fatalf("child died without %q:\n%s", want, text)
			}
			t.Logf("touching %s faulted as expected: %s", addr, firstLine(text, "signal"))
		})
	}
}

// firstLine returns the first line of text containing sub.
func firstLine(text, sub string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
