package vmmap

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"unsafe"

	"github.com/zebra-heap/zebra/internal/childproc"
	"github.com/zebra-heap/zebra/vmem"
)

// The test binary doubles as the child process the live tests map: with
// ZEBRA_VMMAP_CHILD=run it reserves two owned ranges, grows its Go heap,
// prints its pid and waits for stdin to close; with
// ZEBRA_VMMAP_CHILD=mappings it makes ZEBRA_VMMAP_MAPPINGS mappings first
// (see manyMappings); with ZEBRA_VMMAP_CHILD=exit it exits at once.
func TestMain(m *testing.M) {
	switch os.Getenv("ZEBRA_VMMAP_CHILD") {
	case "run":
		os.Exit(child())
	case "mappings":
		n, err := strconv.Atoi(os.Getenv("ZEBRA_VMMAP_MAPPINGS"))
		if err == nil {
			err = manyMappings(n)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		childproc.Serve()
		os.Exit(0)
	case "exit":
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var childKeep [][]byte

func child() int {
	for _, owner := range []string{"child heap A", "child heap B"} {
		r, err := vmem.OS().Reserve(4<<20, vmem.Options{Owner: owner})
		if err == nil {
			err = r.Commit(r.Base(), 1<<20)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		clear(unsafe.Slice((*byte)(r.Pointer()), 512<<10))
	}
	for range 64 {
		childKeep = append(childKeep, make([]byte, 64<<10))
	}
	childproc.Serve()
	return 0
}

// manyMappings makes about n mappings in this process (childproc.Mappings)
// and keeps them.
func manyMappings(n int) error {
	rs, err := childproc.Mappings(n)
	childKeepRes = rs
	return err
}

var childKeepRes []*vmem.Reservation

// startMappingsChild starts a child with about n mappings.
func startMappingsChild(t *testing.T, n int) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ZEBRA_VMMAP_CHILD=mappings", "ZEBRA_VMMAP_MAPPINGS="+strconv.Itoa(n))
	return childproc.Start(t, cmd)
}

// startChild starts the child, waits until its memory is in place and
// returns it with a function that ends it.
func startChild(t *testing.T) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ZEBRA_VMMAP_CHILD=run")
	return childproc.Start(t, cmd)
}
