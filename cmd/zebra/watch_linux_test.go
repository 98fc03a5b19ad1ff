//go:build linux

package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/internal/tempdir"
)

// TestWatchTerminal runs zebra watch in a tmux window of 100 columns and
// 24 rows and reads what tmux shows (capture-pane): the view starts,
// refreshes, keeps its header and key line on the first rows, and quits on
// q. Skipped without tmux (.ci/run installs it).
func TestWatchTerminal(t *testing.T) {
	bin := binaries(t)
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux not installed")
	}
	child := exec.Command(bin["growheaps"], "-for", "20s")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	socket := filepath.Join(tempdir.New(t), "tmux.sock")
	tmux := func(args ...string) (string, error) {
		c := exec.Command(tmuxPath, append([]string{"-S", socket}, args...)...)
		c.Env = append(c.Environ(), "TERM=xterm-256color")
		out, err := c.CombinedOutput()
		return string(out), err
	}
	const rows = 24
	if out, err := tmux("-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", strconv.Itoa(rows), "-s", "w",
		bin["zebra"], "watch", "--every", "100ms", strconv.Itoa(child.Process.Pid)); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	defer tmux("kill-server")
	// By the fifth refresh the heaps have grown and the changes fill more
	// than the window: the header must still be on screen.
	var screen string
	deadline := time.Now().Add(20 * time.Second)
	for refreshes(screen) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("no fifth refresh on screen within 20 s:\n%s", screen)
		}
		time.Sleep(100 * time.Millisecond)
		screen, err = tmux("capture-pane", "-p", "-t", "w")
		if err != nil {
			t.Fatalf("capture-pane: %v\n%s", err, screen)
		}
	}
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	if len(lines) > rows {
		t.Errorf("capture-pane gave %d lines of a %d-row window", len(lines), rows)
	}
	if !strings.HasPrefix(lines[0], "zebra watch · every ") {
		t.Errorf("first row %q; want the header", lines[0])
	}
	if !strings.Contains(strings.Join(lines[:min(3, len(lines))], "\n"), "q quit") {
		t.Errorf("the key line is not among the first three rows:\n%s", screen)
	}
	if !stripRE.MatchString(screen) {
		t.Errorf("the strip of the address space is not on screen:\n%s", screen)
	}
	if out, err := tmux("send-keys", "-t", "w", "q"); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := tmux("has-session", "-t", "w"); err != nil {
			break // the session ended with zebra watch
		}
		if time.Now().After(deadline) {
			t.Fatal("watch did not quit on q")
		}
	}
}

var refreshRE = regexp.MustCompile(`· (\d+) snapshots? at `)

// refreshes reads the refresh number off a screen, 0 when none shows.
func refreshes(screen string) int {
	m := refreshRE.FindStringSubmatch(screen)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
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
	for _, want := range []string{"every 100ms · 1 snapshot at", "every 100ms · 2 snapshots at", "Largest free blocks", "is gone"} {
		if !strings.Contains(got, want) {
			t.Errorf("piped output lacks %q", want)
		}
	}
}
