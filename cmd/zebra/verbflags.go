package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
				fmt.Fprint(help, usage)
				fs.SetOutput(help)
				fs.PrintDefaults()
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
