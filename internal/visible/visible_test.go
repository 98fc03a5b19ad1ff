package visible

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "/usr/lib/libc.so.6", "/usr/lib/libc.so.6"},
		{"utf-8 kept", "/tmp/zèbre ☃", "/tmp/zèbre ☃"},
		{"backslash kept", `C:\Windows\x`, `C:\Windows\x`},
		{"clear and retitle", "\x1b[2J\x1b]0;pwn\x07", `\x1b[2J\x1b]0;pwn\x07`},
		{"newline and tab", "a\nb\tc\r", `a\x0ab\x09c\x0d`},
		{"delete", "a\x7fb", `a\x7fb`},
		{"NUL", "a\x00b", `a\x00b`},
		{"invalid byte", "a\xffb", `a\xffb`},
		{"truncated rune", "a\xe2\x98", `a\xe2\x98`},
		{"invalid then valid", "\xe2☃", `\xe2☃`},
		{"C1 CSI", "a\u009b2J", `a\u009b2J`},
		{"bidi override", "evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"zero width space", "a\u200bb", `a\u200bb`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"replacement char itself", "a\uFFFDb", "a\uFFFDb"},
		{"tag character (above U+FFFF)", "a\U000e0001b", `a\U000e0001b`},
		{"surrogate bytes", "\xed\xa0\x80", `\xed\xa0\x80`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStringDoesNotAllocateWhenClean(t *testing.T) {
	s := "/usr/lib/x86_64-linux-gnu/libc.so.6 [anon:zebra heap A]"
	if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
		t.Errorf("String of a clean path allocates %v times", n)
	}
}

func TestLines(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a,b\nc,d\n", "a,b\nc,d\n"},
		{"a,\x1b[2J\n\"x\xff\",y\n", "a,\\x1b[2J\n\"x\\xff\",y\n"},
		{"\t\n", "\\x09\n"},
	}
	for _, tt := range tests {
		if got := Lines(tt.in); got != tt.want {
			t.Errorf("Lines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzString checks String against what it promises: valid UTF-8 of
// printable code points only, the input unchanged when it had nothing to
// escape, and the input recoverable (unescaping the output by a simple
// reference decoder gives it back when it held no backslash).
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J\x1b]0;pwn\x07", "a\xffb", "\u202e", "\xe2☃", `\x41`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := String(s)
		if !utf8.ValidString(got) {
			t.Fatalf("String(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) {
				t.Fatalf("String(%q) = %q holds %U", s, got, r)
			}
		}
		clean := utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
		if clean != (got == s) {
			t.Fatalf("String(%q) = %q; input printable: %v", s, got, clean)
		}
		if !strings.Contains(s, `\`) {
			if back := unescape(t, got); back != s {
				t.Fatalf("String(%q) = %q, which unescapes to %q", s, got, back)
			}
		}
	})
}

// unescape is the reference decoder: \xHH is a byte, \uHHHH and
// \UHHHHHHHH a code point.
func unescape(t *testing.T, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		var v rune
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i+1]]
		for _, c := range s[i+2 : i+2+n] {
			v = v*16 + rune(strings.IndexRune("0123456789abcdef", c))
		}
		if n == 2 {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(v)
		}
		i += 1 + n
	}
	return b.String()
}
