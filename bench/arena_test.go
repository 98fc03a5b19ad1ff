package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/internal/tempdir"
)

// TestArenaCase runs the arena workload through the real pipeline: every
// row present, a ratio to the bump floor for zebra's, and the same
// checksum in every row (each did the same requests).
func TestArenaCase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	out := filepath.Join(tempdir.New(t), "B.md")
	if err := run([]string{"--quick", "--workloads", "arena", "--peers", "zebra,zebra-noser,go,go-bump,go-noop", "--profile=false", "-o", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md, _, _ := strings.Cut(string(b), "## Peers") // the arena table, not the list of peers
	if strings.Contains(md, "**Checksums differ") {
		t.Errorf("rows did different work:\n%s", md)
	}
	if strings.Contains(md, "| go-noop |") {
		t.Error("go-noop ran the arena case")
	}
	for _, row := range []string{"| zebra |", "| zebra-noser |", "| go |", "| go-bump |"} {
		i := strings.Index(md, row)
		if i < 0 {
			t.Errorf("no row %q in\n%s", row, md)
			continue
		}
		line, _, _ := strings.Cut(md[i:], "\n")
		cols := strings.Split(line, "|")
		// | peer | ns/object | min–max | × best | × floor | free-each | GC CPU s | peak RSS | checksum |
		if len(cols) != 11 {
			t.Errorf("row %q has %d columns", line, len(cols))
			continue
		}
		floor, freeEach := strings.TrimSpace(cols[5]), strings.TrimSpace(cols[6])
		zebra := strings.HasPrefix(row, "| zebra")
		if zebra && (floor == "—" || freeEach == "—") || !zebra && freeEach != "—" {
			t.Errorf("row %q: × floor %q, free-each %q", line, floor, freeEach)
		}
	}
}

func TestArenaWorkerBadInput(t *testing.T) {
	for _, c := range []struct {
		name     string
		requests int
	}{{"zebra", 0}, {"zebra", -1}, {"nobody", 1}, {"go-noop", 1}} {
		if err := arenaGo(c.name, c.requests); err == nil {
			t.Errorf("arenaGo(%q, %d): no error", c.name, c.requests)
		}
	}
}
