package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv makes the test binary a child that TestMapOtherProcess maps:
// it prints its pid and waits for its stdin to close.
const childEnv = "ZEBRA_MAP_CHILD"

func TestMapChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("only as TestMapOtherProcess's child")
	}
	fmt.Println(os.Getpid())
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// TestMapOtherProcess runs `zebra map PID` on another Windows process (a
// Wine process in CI) and expects its process heap among the owners, found
// by Toolhelp or, where Wine lacks it, the process's PEB.
func TestMapOtherProcess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestMapChild$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if pid := strings.TrimSpace(line); err != nil || pid != fmt.Sprint(cmd.Process.Pid) {
		t.Fatalf("child said %q, %v", line, err)
	}
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
