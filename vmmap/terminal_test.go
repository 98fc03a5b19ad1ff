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

// TestTerminalFits100Columns: every line of the default view of a real
// 64-bit process fits a 100-column terminal (issue 13).
func TestTerminalFits100Columns(t *testing.T) {
	for _, name := range []string{"go", "arenas", "spaces", "anon"} {
		var b bytes.Buffer
		if err := Terminal(&b, fixtureSnapshot(t, name), TerminalOptions{}); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(b.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > 100 {
				t.Errorf("%s: line %d has %d columns: %q", name, i+1, n, line)
			}
		}
	}
}

// TestTerminalExplain: the explanation's legend lists the types a process
// of the snapshot's OS can have, not only those shown, and no others; the
// view without it carries none of the explanation (issue 13).
func TestTerminalExplain(t *testing.T) {
	window := layout(t, "AaBB..A-", 0x100000, 0x10000)
	window.Source = "window win32"
	for _, tt := range []struct {
		name    string
		snap    *Snapshot
		explain bool
		want    []string
		notWant []string
	}{
		{"linux", fixtureSnapshot(t, "arenas"), true,
			[]string{"About this view", "G Go heap:", "S Shareable:", "glibc arena: glibc's other malloc arenas", "[heap]: the brk heap"},
			[]string{"Unusable", "Page Table", "Java heap:", "(lower case: mostly reserved)\n"}},
		{"windows window", window, true, []string{"U Unusable:", "I Image:"}, []string{"Page Table", "How those here"}},
		{"not asked", fixtureSnapshot(t, "arenas"), false, []string{"glibc arena *", "(lower case: mostly reserved)"},
			[]string{"About this view", "glibc's other malloc arenas"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Terminal(&b, tt.snap, TerminalOptions{Explain: tt.explain}); err != nil {
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
			for i, line := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(line); n > 100 {
					t.Errorf("line %d has %d columns: %q", i+1, n, line)
				}
			}
		})
	}
}
