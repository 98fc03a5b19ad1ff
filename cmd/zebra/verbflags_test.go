package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpFitsColumns: every help text, the usage and each command's, fits
// helpWidth columns (issue 13: `zebra help map` had lines of 122 columns
// and `help demo` of 159).
func TestHelpFitsColumns(t *testing.T) {
	calls := [][]string{{"help"}, {"--help"}}
	for _, c := range commands {
		calls = append(calls, []string{"help", c.name}, []string{c.name, "-h"})
	}
	for _, args := range calls {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 0 {
			t.Errorf("zebra %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut.String())
		}
		if out.Len() == 0 {
			t.Errorf("zebra %s printed no help", strings.Join(args, " "))
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if n := columns(line); n > helpWidth {
				t.Errorf("zebra %s: %d columns: %q", strings.Join(args, " "), n, line)
			}
		}
	}
}

func TestWrapLine(t *testing.T) {
	for _, tt := range []struct {
		line  string
		width int
		want  string
	}{
		{"short\n", 10, "short\n"},
		{"one two three\n", 9, "one two\nthree\n"},
		{"    \tone two three\n", 15, "    \tone two\n    \tthree\n"},
		{"  a bb ccc dddd", 6, "  a bb\n  ccc\n  dddd\n"},
		{"unbreakable-word-longer-than-width\n", 5, "unbreakable-word-longer-than-width\n"},
		{"x verylongword\n", 5, "x\nverylongword\n"},
	} {
		if got := wrapLine(tt.line, tt.width); got != tt.want {
			t.Errorf("wrapLine(%q, %d) = %q, want %q", tt.line, tt.width, got, tt.want)
		}
	}
}
