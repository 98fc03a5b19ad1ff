// Package childproc starts the helper processes that tests map or record:
// programs that print their pid once their memory is in place and exit
// when their standard input is closed. It is shared by the tests of vmmap
// and cmd/zebra, on every OS (under Wine in CI too).
package childproc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Start starts cmd, waits for the line with its pid, and returns it with a
// function that ends it: it closes the child's standard input and waits,
// killing it after 10 s. A child that says anything else first fails the
// test.
func Start(t testing.TB, cmd *exec.Cmd) (*exec.Cmd, func()) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != fmt.Sprint(cmd.Process.Pid) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	return cmd, func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
}

// Serve is the child's side: it prints the pid and waits for standard
// input to close.
func Serve() {
	fmt.Println(os.Getpid())
	bufio.NewReader(os.Stdin).ReadString('\n')
}
