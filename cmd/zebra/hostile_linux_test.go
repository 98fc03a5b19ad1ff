package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap"
)

// TestHostileProcessLive maps a real process whose name is
// "\x1b[2J\x1b]0;pwn\x07" and whose executable's path holds it and an
// invalid byte: sleep(1), copied under that name (the kernel names a
// process after its executable). zebra map and --regions show both
// escaped; TestHostileNames covers every output with a fixture.
func TestHostileProcessLive(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	dir := filepath.Join(tempdir.New(t), "d\xff")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, hostileName)
	src, err := os.Open(sleep)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	if err == nil {
		_, err = io.Copy(dst, src)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	// Wait until the process runs the copy (its comm is set at exec).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		comm, _ := os.ReadFile("/proc/" + pid + "/comm")
		if string(bytes.TrimSuffix(comm, []byte("\n"))) == hostileName {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process is named %q", comm)
		}
	}
	for _, args := range [][]string{
		{"map", "--color", "never", pid},
		{"map", "--color", "always", pid},
		{"map", "--regions", "--type", "image", pid},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("zebra %q: exit %d: %s", args, code, stderr.String())
		}
		shown := []string{`(\x1b[2J\x1b]0;pwn\x07)`}
		if args[1] == "--regions" {
			shown = []string{`/\x1b[2J\x1b]0;pwn\x07`} // the path clipped on the left
		}
		checkVisible(t, "zebra "+args[1], stdout.Bytes(), args[2] == "always", shown...)
	}
	// JSON keeps the exact bytes of the name and of the path.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"map", "--format", "json", pid}, &stdout, &stderr); code != 0 {
		t.Fatalf("zebra map --format json: exit %d: %s", code, stderr.String())
	}
	s, err := vmmap.ReadJSON(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	if s.Command != hostileName || !slices.ContainsFunc(s.Regions, func(r vmmap.Region) bool { return r.Path == exe }) {
		t.Errorf("the JSON lost the name %q or the path %q", s.Command, exe)
	}
}
