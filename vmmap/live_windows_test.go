//go:build windows

package vmmap

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/vmem"
	"golang.org/x/sys/windows"
)

// TestSelfWindows maps the test process with VirtualQueryEx: the
// executable is an Image with a DOS path, thread stacks are found by their
// guard pages, the process heap and this process's reservations are Heap
// with their owners.
func TestSelfWindows(t *testing.T) {
	r, err := vmem.OS().Reserve(1<<20, vmem.Options{Owner: "win heap"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if err := r.Commit(r.Base(), 64<<10); err != nil {
		t.Fatal(err)
	}
	s, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Granularity != 64<<10 || s.PID != os.Getpid() || !strings.HasPrefix(s.Source, "windows pid ") {
		t.Errorf("granularity %d pid %d source %q", s.Granularity, s.PID, s.Source)
	}
	got, ok := regionAt(s, uint64(r.Base()))
	if !ok || got.Type != Heap || got.Owner != "win heap" || got.State != StateCommitted || got.Committed != 64<<10 {
		t.Errorf("reservation at %#x: %+v", r.Base(), got)
	}
	sum := Summarize(s)
	for _, typ := range []Type{Image, Stack, Heap} {
		if sum.Row(typ).Blocks == 0 {
			t.Errorf("no %v regions", typ)
		}
	}
	exe, _ := os.Executable()
	found := false
	for _, reg := range s.Regions {
		if reg.Type == Image && strings.EqualFold(reg.Path, exe) {
			found = true
		}
	}
	if !found {
		t.Errorf("executable %q not found among image paths", exe)
	}
	if r, ok := regionAt(s, goHeapAddr()); !ok || r.Type != GoHeap {
		t.Errorf("the Go heap at %#x: %+v", goHeapAddr(), r)
	}
}

func TestProcessErrorsWindows(t *testing.T) {
	for _, pid := range []int{0, -1, 0x7ffffff0} {
		if _, err := Process(pid); !errors.Is(err, ErrNoProcess) {
			t.Errorf("Process(%d) = %v, want ErrNoProcess", pid, err)
		}
	}
}

func TestProtection(t *testing.T) {
	tests := []struct {
		input uint32
		want  string
	}{
		{0, ""},
		{windows.PAGE_NOACCESS, "NA"},
		{windows.PAGE_READWRITE, "RW"},
		{windows.PAGE_READWRITE | windows.PAGE_GUARD, "RW+G"},
		{windows.PAGE_EXECUTE_READ, "RX"},
		{windows.PAGE_EXECUTE_WRITECOPY, "RWXC"},
		{0x1000, "0x1000"},
	}
	for _, tt := range tests {
		if got := protection(tt.input); got != tt.want {
			t.Errorf("protection(%#x) = %q, want %q", tt.input, got, tt.want)
		}
	}
}

// TestOtherProcessWindows maps a child process: another process's memory
// has no registry, so its reservations stay Private Data.
func TestOtherProcessWindows(t *testing.T) {
	cmd, stop := startChild(t)
	defer stop()
	s, err := Process(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.PID != cmd.Process.Pid || !strings.Contains(s.Source, ".exe") {
		t.Errorf("pid %d source %q", s.PID, s.Source)
	}
	sum := Summarize(s)
	if sum.Row(Image).Blocks == 0 || sum.Row(Stack).Blocks == 0 || sum.Row(PrivateData).Blocks == 0 {
		t.Errorf("summary %+v", sum.Rows)
	}
	for _, o := range Owners(s) {
		if strings.HasPrefix(o.Owner, "child heap") {
			t.Errorf("a foreign process's reservation is attributed: %+v", o)
		}
	}
}
