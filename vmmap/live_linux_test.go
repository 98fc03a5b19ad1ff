//go:build linux

package vmmap

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/vmem"
)

// TestSelf maps the test process: its own reservations carry their owners'
// names (from the registry: this kernel may not name mappings), and the Go
// heap is recognised.
func TestSelf(t *testing.T) {
	var rs []*vmem.Reservation
	for _, owner := range []string{"self heap A", "self heap B", "self heap A"} {
		r, err := vmem.OS().Reserve(1<<20, vmem.Options{Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	defer func() {
		for _, r := range rs {
			r.Release()
		}
	}()
	if err := rs[0].Commit(rs[0].Base(), 64<<10); err != nil {
		t.Fatal(err)
	}
	for name, get := range map[string]func() (*Snapshot, error){
		"Self":    Self,
		"Process": func() (*Snapshot, error) { return Process(os.Getpid()) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := get()
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if s.PID != os.Getpid() {
				t.Errorf("PID %d, want %d", s.PID, os.Getpid())
			}
			for i, r := range rs {
				got, ok := regionAt(s, uint64(r.Base()))
				if !ok || got.Type != Heap || got.Owner != r.Owner() || got.Block() != uint64(r.Base()) {
					t.Errorf("reservation %d at %#x: %+v", i, r.Base(), got)
				}
			}
			var bytes uint64
			for _, o := range Owners(s) {
				if o.Owner == "self heap A" || o.Owner == "self heap B" {
					bytes += o.Bytes
				}
			}
			if bytes != 3<<20 {
				t.Errorf("owned bytes %d, want 3 MiB", bytes)
			}
			if r, ok := regionAt(s, goHeapAddr()); !ok || r.Type != GoHeap || r.Owner != GoHeapOwner {
				t.Errorf("the Go heap at %#x: %+v", goHeapAddr(), r)
			}
			// The runtime's index reservations: by name, or by size in
			// this process, whose executable is a Go program.
			var runtime uint64
			for _, r := range s.Regions {
				if r.Owner == GoRuntimeOwner {
					runtime += r.Size()
				}
			}
			if runtime < goIndexBytes-goSmallLevels {
				t.Errorf("Go runtime: %d bytes, want its index block of %d or more", runtime, goIndexBytes-goSmallLevels)
			}
		})
	}
}

// TestExitedProcess maps a child that has exited: first as a zombie (not
// yet reaped), then gone.
func TestExitedProcess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ZEBRA_VMMAP_CHILD=exit")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := NewProc("/proc").stat(strconv.Itoa(pid))
		if err != nil {
			t.Fatal(err)
		}
		if st.state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d did not exit", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := Process(pid); !errors.Is(err, ErrExited) {
		t.Errorf("zombie: %v, want ErrExited", err)
	}
	cmd.Wait()
	if _, err := Process(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("reaped: %v, want ErrNoProcess", err)
	}
}

func TestProcessErrors(t *testing.T) {
	if _, err := Process(-1); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Process(-1) = %v", err)
	}
	if _, err := Process(1 << 30); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Process(1<<30) = %v", err)
	}
	// pid 1 belongs to root; as root it may be readable, else not.
	_, err := Process(1)
	if os.Geteuid() != 0 && !errors.Is(err, ErrPermission) && err != nil {
		t.Errorf("Process(1) as a user = %v, want ErrPermission or success", err)
	}
}
