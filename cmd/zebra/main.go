// Command zebra makes address-space fragmentation visible and shows the fix.
//
//	zebra demo                   the experiment of github.com/pkjq/PoC.HeapReserve: heaps with and without reserve
//	zebra map [PID|self]         a VMMap-style map of a process
//	zebra record -o FILE PID|self
//	zebra record -o FILE -- CMD  a process's address space over time, into a timeline file
//	zebra report FILE -o F.html  a timeline file as one self-contained HTML page
//	zebra watch PID|self         a live terminal view of a process's address space
//	zebra version                the version of zebra and the Go it was built with
//	zebra help [COMMAND]         the usage, or a command's flags
//
// Each subcommand lives in its own file; this one only dispatches.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/zebra-heap/zebra/internal/visible"
)

// A command is one verb of the zebra command.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands lists the verbs in the order the usage shows them.
var commands = []command{
	{"demo", "heaps growing together, one destroyed, with and without reserve", runDemo},
	{"map", "a VMMap-style map of a process", runMap},
	{"version", "print the version of zebra and of the Go it was built with", runVersion},
	{"record", "record a process's address space over time into a timeline file", runRecord},
	{"report", "an HTML timeline of a recording", runReport},
	{"watch", "a live view of a process's address space", runWatch},
}

// errUsage marks errors in the command line: they exit with status 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args. Help that was asked for goes to stdout and exits 0;
// a missing or unknown command prints the usage to stderr and exits 2.
func run(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		usage(stderr)
		return 2
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help" && len(args) == 1:
		usage(stdout)
		return 0
	case args[0] == "help":
		// "zebra help map" is "zebra map -h".
		if !known(args[1]) {
			fmt.Fprintf(stderr, "zebra help: unknown command %q\n", args[1])
			usage(stderr)
			return 2
		}
		return run([]string{args[1], "-h"}, stdout, stderr)
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			var status exitStatus
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, &status):
				return int(status) // the recorded command's; it spoke for itself
			case errors.Is(err, errUsage):
				fmt.Fprintf(stderr, "zebra %s: %s\n", c.name, visible.String(err.Error()))
				return 2
			default:
				fmt.Fprintf(stderr, "zebra %s: %s\n", c.name, visible.String(err.Error()))
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "zebra: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func known(name string) bool {
	for _, c := range commands {
		if c.name == name {
			return true
		}
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: zebra <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'zebra help <command>' for a command's flags.")
}

// runVersion prints the module version (from the build information: a
// tagged version for `go install ...@v1.2.3`, "(devel)" with the VCS
// revision for a build in a checkout) and the Go version.
func runVersion(args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, "usage: zebra version\n\nPrints the version of zebra and of the Go it was built with.")
		return nil
	}
	if len(args) > 0 {
		return usageErrorf("version takes no arguments, got %q", args)
	}
	fmt.Fprintln(stdout, versionLine())
	return nil
}

func versionLine() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "zebra (unknown version) " + runtime.Version()
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return fmt.Sprintf("zebra %s %s %s/%s", v, bi.GoVersion, runtime.GOOS, runtime.GOARCH)
}

// usageErrorf returns an error that makes the command exit with status 2.
func usageErrorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}
