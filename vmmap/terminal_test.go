package vmmap

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	tests := []struct {
		name    string
		snap    *Snapshot
		opts    TerminalOptions
		want    []string
		notWant []string
	}{
		{
			name: "plain",
			snap: layout(t, "AaBB..A-", 0x100000, 0x10000),
			opts: TerminalOptions{Width: 26}, // 8 cells and two 9-column addresses
			want: []string{"span 0x100000-0x180000 (512 KiB)", "zebra score 2", "heap A", "HhHH..HP",
				"Largest free blocks (1 of 1, within the span)", "lower case: mostly reserved"},
			notWant: []string{"\x1b["},
		},
		{
			name: "strip of a part of the span",
			snap: layout(t, "AaBB..A-", 0x100000, 0x10000),
			opts: TerminalOptions{Width: 26, StripSpan: AddrRange{0x120000, 0x140000}},
			want: []string{"span 0x100000-0x180000 (512 KiB)", "0x120000 HHHHHHHH 0x140000",
				"Largest free blocks (1 of 1, within the span)"},
			notWant: []string{"HhHH..HP"},
		},
		{
			name: "colour",
			snap: layout(t, "AB", 0x100000, 0x10000),
			opts: TerminalOptions{Color: true, Width: 20},
			want: []string{"\x1b[48;2;255;150;102m", "\x1b[0m"},
		},
		{
			name: "few ranges listed",
			snap: layout(t, zebra(12), 0x100000, 0x10000),
			opts: TerminalOptions{Ranges: 2},
			want: []string{"… 4 more"},
		},
		{name: "empty", snap: &Snapshot{Source: "nothing"}, want: []string{"nothing", "span 0x0-0x0 (0 B)"}},
		// Issue 13: Committed and Resident are separate, named columns; the
		// legend lists only the types shown.
		{
			name:    "committed and resident",
			snap:    fixtureSnapshot(t, "anon"),
			want:    []string{"Committed    Resident", "Resident is the working set (RSS)", "UTC"},
			notWant: []string{"Page Table", "Unusable"},
		},
		// Issue 13: the explanation's legend lists the types a process of
		// the snapshot's OS can have, not only those shown, and no others;
		// the view without it carries none of the explanation.
		{
			name: "explained, linux",
			snap: fixtureSnapshot(t, "arenas"),
			opts: TerminalOptions{Explain: true},
			want: []string{"About this view", "G Go heap:", "S Shareable:", "glibc arena: glibc's other malloc arenas",
				"[heap]: the brk heap"},
			notWant: []string{"Unusable", "Page Table", "Java heap:", "(lower case: mostly reserved)\n"},
		},
		{
			name:    "explained, windows window",
			snap:    withSource(layout(t, "AaBB..A-", 0x100000, 0x10000), "window win32"),
			opts:    TerminalOptions{Explain: true},
			want:    []string{"U Unusable:", "I Image:"},
			notWant: []string{"Page Table", "How those here"},
		},
		{
			name:    "not explained",
			snap:    fixtureSnapshot(t, "arenas"),
			want:    []string{"glibc arena *", "(lower case: mostly reserved)"},
			notWant: []string{"About this view", "glibc's other malloc arenas"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Terminal(&b, tt.snap, tt.opts); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestTerminalFits100Columns: every line of the view of a real 64-bit
// process, explained or not, fits a 100-column terminal (issue 13).
func TestTerminalFits100Columns(t *testing.T) {
	for _, name := range []string{"go", "arenas", "spaces", "anon", "jvm", "jemalloc", "mimalloc"} {
		for _, explain := range []bool{false, true} {
			var b bytes.Buffer
			if err := Terminal(&b, fixtureSnapshot(t, name), TerminalOptions{Explain: explain}); err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(b.String(), "\n") {
				if n := utf8.RuneCountInString(line); n > 100 {
					t.Errorf("%s, explain %v: line %d has %d columns: %q", name, explain, i+1, n, line)
				}
			}
		}
	}
}

// withSource returns s with its source set.
func withSource(s *Snapshot, source string) *Snapshot {
	s.Source = source
	return s
}
