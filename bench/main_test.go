package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary serve as the worker, as the bench binary
// does, so that TestQuickRun runs the real pipeline.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	out := filepath.Join(t.TempDir(), "B.md")
	err := run([]string{"--quick", "--workloads", "churn,sizes,seed", "--peers", "zebra,go,glibc,go-noop,c-noop,floor-4k", "-o", out})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	wants := []string{"## Churn, 1 thread", "## Alloc+Free pair, 4194304 B", "## Seed", "| zebra |", "![sizes.png](sizes.png)", "QUICK"}
	if _, err := exec.LookPath("gcc"); err == nil {
		wants = append(wants, "| glibc |")
	} else if !strings.Contains(md, "skipped: cannot build against glibc") {
		t.Error("without gcc the report must say the C peers were skipped")
	}
	for _, want := range wants {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "**Checksums differ") || strings.Contains(md, "differs between rounds**") {
		t.Errorf("checksums differ:\n%s", md)
	}
	for _, png := range []string{"churn.png", "sizes.png", "seed.png"} {
		if fi, err := os.Stat(filepath.Join(filepath.Dir(out), png)); err != nil || fi.Size() < 1000 {
			t.Errorf("%s: %v", png, err)
		}
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--workloads", "nope"},
		{"--peers", "nobody"},
		{"--rounds", "0"},
		{"extra"},
	} {
		if err := run(args); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
