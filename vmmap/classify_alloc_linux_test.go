package vmmap

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/internal/childproc"
)

// TestClassifyLiveAllocators builds testdata/src/allocators.c against the
// system's jemalloc and mimalloc, runs it and reads its map from outside,
// as `zebra map PID` does. It needs gcc and the libraries' development
// packages (Debian: libjemalloc-dev, libmimalloc-dev) and skips without.
func TestClassifyLiveAllocators(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is not installed: cannot build a jemalloc or mimalloc child")
	}
	src, err := filepath.Abs("testdata/src/allocators.c")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ lib, owner string }{
		{"jemalloc", JemallocOwner},
		{"mimalloc", MimallocOwner},
	} {
		t.Run(tt.lib, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), tt.lib)
			var stderr bytes.Buffer
			build := exec.Command(gcc, "-O1", "-pthread", "-o", bin, src, "-l"+tt.lib)
			build.Stderr = &stderr
			if err := build.Run(); err != nil {
				if strings.Contains(stderr.String(), "-l"+tt.lib) {
					t.Skipf("lib%s is not installed (apt-get install lib%s-dev): %s", tt.lib, tt.lib,
						strings.TrimSpace(stderr.String()))
				}
				t.Fatalf("gcc: %v\n%s", err, stderr.String())
			}
			cmd, stop := childproc.Start(t, exec.Command(bin))
			defer stop()
			s, err := Process(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(s.Source, strconv.Itoa(cmd.Process.Pid)) {
				t.Fatalf("source %q is not the child", s.Source)
			}
			checkAllocatorMap(t, s, tt.owner)
		})
	}
}
