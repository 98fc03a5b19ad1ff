//go:build linux

package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestNoTerminalQueries runs commands other than watch on a
// pseudo-terminal: none may write an escape sequence (a terminal library
// querying the background colour or the cursor position at start-up
// writes "ESC]11;?" and "ESC[6n" and then waits seconds for an answer that
// a pipe or a plain terminal never sends), and each returns promptly. The
// bound is a sanity bound for a loaded machine, not a benchmark: the query
// waited 5 s.
func TestNoTerminalQueries(t *testing.T) {
	bin := binaries(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"version", []string{"version"}, "zebra "},
		{"help", []string{"help"}, "usage: zebra"},
		{"record help", []string{"help", "record"}, "usage: zebra record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := exec.Command(bin["zebra"], tt.args...)
			c.Env = append(c.Environ(), "TERM=xterm-256color")
			start := time.Now()
			tty, err := pty.StartWithSize(c, &pty.Winsize{Rows: 24, Cols: 80})
			if err != nil {
				t.Fatal(err)
			}
			defer tty.Close()
			var out bytes.Buffer
			copied := make(chan struct{})
			go func() { io.Copy(&out, tty); close(copied) }()
			waited := make(chan error, 1)
			go func() { waited <- c.Wait() }()
			select {
			case err := <-waited:
				if err != nil {
					t.Errorf("zebra %s: %v", strings.Join(tt.args, " "), err)
				}
			case <-time.After(20 * time.Second):
				c.Process.Kill()
				t.Fatalf("zebra %s did not return in 20 s", strings.Join(tt.args, " "))
			}
			took := time.Since(start)
			tty.Close()
			<-copied
			if took > 2*time.Second {
				t.Errorf("zebra %s took %v on a terminal; want well under 2 s", strings.Join(tt.args, " "), took)
			}
			if bytes.Contains(out.Bytes(), []byte("\x1b")) {
				t.Errorf("zebra %s wrote an escape sequence to the terminal: %q", strings.Join(tt.args, " "), out.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("zebra %s wrote %q; want it to contain %q", strings.Join(tt.args, " "), out.String(), tt.want)
			}
		})
	}
}
