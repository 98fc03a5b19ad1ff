package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
)

// parseInterspersed parses fs from args allowing flags after positional
// arguments ("report FILE -o x.html"), as zebra map does, and returns the
// positional ones. -h prints usage and the flags to help (stdout); a bad
// flag is one line of error pointing at 'zebra help NAME'.
func parseInterspersed(fs *flag.FlagSet, args []string, usage string, help io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(help, usage, fs)
				return nil, err
			}
			return nil, usageErrorf("%v (see 'zebra help %s')", err, fs.Name())
		}
		if args = fs.Args(); len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// helpWidth is the widest line of help text, in columns (a tab to the
// next multiple of 8).
const helpWidth = 100

// printHelp writes a command's usage text and its flags, every line wrapped
// at spaces to helpWidth columns; a wrapped line goes on with the leading
// white space of its first (for a flag's description, its indent).
func printHelp(w io.Writer, usage string, fs *flag.FlagSet) {
	var buf bytes.Buffer
	buf.WriteString(usage)
	fs.SetOutput(&buf)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			io.WriteString(w, wrapLine(line, helpWidth))
		}
	}
}

// wrapLine breaks one line (with or without its newline) at spaces so that
// no piece is wider than width columns where a space allows it.
func wrapLine(line string, width int) string {
	body := strings.TrimSuffix(line, "\n")
	indent := body[:len(body)-len(strings.TrimLeft(body, " \t"))]
	words := strings.Fields(body)
	if columns(body) <= width || len(words) < 2 {
		return line
	}
	var out strings.Builder
	cur := indent + words[0]
	for _, word := range words[1:] {
		if columns(cur+" "+word) > width {
			out.WriteString(cur + "\n")
			cur = indent + word
			continue
		}
		cur += " " + word
	}
	out.WriteString(cur + "\n")
	return out.String()
}

// columns is the width of s on a terminal: tabs to the next multiple of 8,
// every other rune one column.
func columns(s string) int {
	n := 0
	for _, r := range s {
		if r == '\t' {
			n += 8 - n%8
		} else {
			n++
		}
	}
	return n
}

// flagSet reports whether the flag name was given on the command line
// (a flag given its default value included).
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
