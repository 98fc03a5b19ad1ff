// Package visible shows text that another process controls (its name, the
// paths it maps, the names of its threads and heaps) so that it cannot
// steer the terminal or page it is printed on.
//
// A process can name itself "\x1b[2J\x1b]0;pwn\x07" (prctl PR_SET_NAME) or
// map a file whose name holds escape sequences; printed raw, such a name
// clears or retitles the terminal of whoever looks at the process, often
// root. ps and pmap print those bytes as '?'. String does better for a
// reader: each byte that is a control character or not valid UTF-8 is shown
// as \xHH, and each invisible or control code point (C1 controls, bidi
// overrides, zero-width characters, line separators) as \uHHHH, so the
// reader sees that something was there and what. Everything else, including
// a backslash, is printed as it is: the escaped form is for people, and
// formats meant for programs (JSON, CSV files) keep the raw bytes instead.
//
// Every output of zebra meant for a person goes through String: the
// terminal views, watch, the region list and diff, the labels of pictures
// and the HTML and SVG text (which are HTML-escaped as well).
package visible

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s with every control character, invisible code point and
// byte that is not valid UTF-8 replaced by a visible escape (\x1b,
// \u202e, \U000e0001 above U+FFFF, as Go quotes them). A string with
// nothing to escape is returned as is, without allocating.
func String(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !shown(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case shown(r, n):
			b.WriteString(s[i : i+n])
		case r == utf8.RuneError || r < utf8.RuneSelf:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
			n = 1 // the next byte may start a valid rune
		case r <= 0xffff:
			b.WriteString(`\u` + pad(r, 4))
		default:
			b.WriteString(`\U` + pad(r, 8))
		}
		i += n
	}
	return b.String()
}

// Lines is String for text of several lines: line feeds are kept, each
// line escaped. It is for output made of lines that a person may see on a
// terminal, such as CSV printed to one.
func Lines(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && !unicode.IsPrint(r) }) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = String(l)
	}
	return strings.Join(lines, "\n")
}

// shown reports whether the rune r, n bytes long in the text, is printed
// as it is: a valid, printable code point or the ASCII space.
func shown(r rune, n int) bool {
	if r == utf8.RuneError && n <= 1 {
		return false
	}
	return unicode.IsPrint(r) // letters, marks, numbers, punctuation, symbols and ' '
}

// pad is r in hexadecimal, n digits.
func pad(r rune, n int) string {
	h := strconv.FormatUint(uint64(r), 16)
	return strings.Repeat("0", n-len(h)) + h
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
