package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/internal/childproc"
)

// childEnv makes the test binary a child that TestMapOtherProcess maps:
// it prints its pid and waits for its stdin to close.
const childEnv = "ZEBRA_MAP_CHILD"

func TestMapChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("only as TestMapOtherProcess's child")
	}
	childproc.Serve()
}

// TestMapOtherProcess runs `zebra map PID` on another Windows process (a
// Wine process in CI) and expects its process heap among the owners, found
// by Toolhelp or, where Wine lacks it, the process's PEB.
func TestMapOtherProcess(t *testing.T) {
	c := exec.Command(os.Args[0], "-test.run=^TestMapChild$")
	c.Env = append(os.Environ(), childEnv+"=1")
	cmd, stop := childproc.Start(t, c)
	defer stop()
	code, stdout, stderr := runMapCmd(t, fmt.Sprint(cmd.Process.Pid), "--format", "csv")
	if code != 0 {
		t.Fatalf("zebra map %d: exit %d\n%s", cmd.Process.Pid, code, stderr)
	}
	if !strings.Contains(stdout, "process heap 0") {
		t.Errorf("zebra map of another process lists no \"process heap 0\":\n%.2000s", stdout)
	}
	code, _, stderr = runMapCmd(t, "999999999")
	if code == 0 || !strings.Contains(stderr, "999999999") {
		t.Errorf("zebra map of a process that does not exist: exit %d, stderr %q; want an error naming the pid", code, stderr)
	}
}
