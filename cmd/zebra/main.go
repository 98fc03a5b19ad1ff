// Command zebra makes address-space fragmentation visible and shows the fix.
//
//	zebra demo           reproduce the user's document: two heaps, with and without reserve
//	zebra map [PID|self] a VMMap-style map of a process
//
// Each subcommand lives in its own file; this one only dispatches.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// A command is one verb of the zebra command.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands lists the verbs in the order the usage shows them.
var commands = []command{
	{"demo", "reproduce the document: heaps growing together, with and without reserve", runDemo},
	{"map", "a VMMap-style map of a process", runMap},
}

// errUsage marks errors in the command line: they exit with status 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				fmt.Fprintf(stderr, "zebra %s: %v\n", c.name, err)
				return 2
			default:
				fmt.Fprintf(stderr, "zebra %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "zebra: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: zebra <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'zebra <command> -h' for a command's flags.")
}

// usageErrorf returns an error that makes the command exit with status 2.
func usageErrorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}
