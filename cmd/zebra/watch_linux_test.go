//go:build linux

package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestWatchTerminal runs zebra watch under a pseudo-terminal: it starts,
// refreshes, and quits on q.
func TestWatchTerminal(t *testing.T) {
	bin := binaries(t)
	child := exec.Command(bin["growheaps"], "-for", "10s")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	c := exec.Command(bin["zebra"], "watch", "--every", "100ms", strconv.Itoa(child.Process.Pid))
	c.Env = append(c.Environ(), "TERM=xterm-256color")
	tty, err := pty.StartWithSize(c, &pty.Winsize{Rows: 50, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	out := make(chan string, 1024)
	go func() {
		r := bufio.NewReader(tty)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				out <- string(buf[:n])
			}
			if err != nil {
				close(out)
				return
			}
		}
	}()
	var seen strings.Builder
	deadline := time.After(20 * time.Second)
	for !strings.Contains(seen.String(), "refresh 3") {
		select {
		case s, ok := <-out:
			if !ok {
				t.Fatalf("watch ended before refreshing three times:\n%q", seen.String())
			}
			seen.WriteString(s)
		case <-deadline:
			t.Fatalf("no third refresh within 20 s:\n%q", seen.String())
		}
	}
	if !strings.Contains(seen.String(), "VMAs") || !strings.Contains(seen.String(), "q quit") {
		t.Errorf("the view lacks its header or key line:\n%q", seen.String())
	}
	tty.Write([]byte("q"))
	done := make(chan error, 1)
	go func() {
		for range out {
		}
		done <- c.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch exited with %v after q", err)
		}
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		t.Fatal("watch did not quit on q")
	}
}

// TestWatchPiped runs zebra watch with stdout a pipe: it prints plain text
// at each refresh and stops with a clear line when the process exits.
func TestWatchPiped(t *testing.T) {
	bin := binaries(t)
	child := exec.Command(bin["growheaps"], "-for", "600ms")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	go child.Wait()
	var stdout, stderr bytes.Buffer
	c := exec.Command(bin["zebra"], "watch", "--every", "100ms", strconv.Itoa(child.Process.Pid))
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("watch: %v\n%s", err, stderr.String())
	}
	got := stdout.String()
	if strings.Contains(got, "\x1b[") {
		t.Errorf("piped output holds escape sequences")
	}
	for _, want := range []string{"refresh 1 ", "refresh 2 ", "Largest free blocks", "is gone"} {
		if !strings.Contains(got, want) {
			t.Errorf("piped output lacks %q", want)
		}
	}
}
