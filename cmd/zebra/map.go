package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/zebra-heap/zebra/internal/visible"
	"github.com/zebra-heap/zebra/vmmap"
)

// zebra map: a VMMap for a process. See runMap.

const mapUsage = `usage: zebra map [flags] [PID|self]
       zebra map --regions [--sort size|addr|rss] [--type heap,stack] [PID|self]
       zebra map --format json|csv [PID|self] | jq ...
       zebra map --diff A.json B.json

Shows the address space of a process (the calling process, "self", when no
PID is given) as VMMap does: a summary per type, the largest free blocks,
the heaps and their stripes, and a one-line strip. --regions lists every
mapping instead, like pmap -X or VMMap's lower pane. Free space is measured
within a span: from the lowest to the highest user mapping, or --range.
Committed counts towards the commit charge; Resident is the working set.
--explain ends the view with what its figures, owners and letters mean.

Flags:
`

// mapConfig is the map command's command line, validated.
type mapConfig struct {
	target   string // "self" or a decimal pid
	out      string // output file; "" for the terminal view
	span     vmmap.AddrRange
	hasSpan  bool
	diff     bool
	files    []string // the two snapshots of --diff
	procRoot string   // procfs root to read from instead of the live system
	color    string   // auto, always, never
	format   string   // "" (by -o's extension or the terminal view), json or csv
	regions  bool     // the per-region list instead of the summary view
	explain  bool     // end the summary view with what it means
	list     vmmap.ListOptions
}

// mapOutputs writes a snapshot to a file, by the file's extension. Each
// format is one entry.
var mapOutputs = map[string]func(io.Writer, *vmmap.Snapshot) error{
	".json": vmmap.WriteJSON,
	".csv":  vmmap.WriteCSV,
	".png":  writeMapPNG,
	".svg":  writeMapSVG,
	".html": writeMapHTML,
}

func runMap(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseMapArgs(args, stdout)
	if err != nil {
		return err
	}
	if cfg.diff {
		return mapDiff(stdout, cfg.files[0], cfg.files[1], cfg.out)
	}
	s, err := takeMap(cfg)
	if err != nil {
		return err
	}
	if cfg.hasSpan {
		if s, err = s.WithSpan(cfg.span); err != nil {
			return err
		}
	}
	switch {
	case cfg.format != "":
		// Structured output to stdout: nothing else is printed there.
		return writeStructured(stdout, cfg.format, s)
	case cfg.regions:
		return vmmap.TerminalRegions(stdout, s, cfg.list)
	case cfg.out == "":
		o := vmmap.TerminalOptions{Color: useColor(cfg.color, stdout), Explain: cfg.explain}
		if err := vmmap.Terminal(stdout, s, o); err != nil {
			return err
		}
		if why := attributionGap(cfg, s); why != "" {
			fmt.Fprintln(stdout, why)
		}
		if !cfg.explain {
			fmt.Fprintln(stdout, "(zebra map --explain: what the figures, owners, letters and colours mean)")
		}
		return nil
	}
	return writeMapFile(stdout, cfg.out, s)
}

// parseMapArgs reads the map's command line; -h prints the usage to help
// (stdout). A bad flag is one line of error, not the whole usage.
func parseMapArgs(args []string, help io.Writer) (mapConfig, error) {
	cfg := mapConfig{target: "self"}
	fs := flag.NewFlagSet("map", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var rng string
	fs.StringVar(&cfg.out, "o", "", "write the map to `FILE`: .json, .csv, .png, .svg or .html")
	fs.StringVar(&rng, "range", "", "measure within `LO-HI` (hexadecimal addresses) instead of the lowest to highest mapping")
	fs.BoolVar(&cfg.diff, "diff", false, "compare two JSON snapshots: what appeared, vanished, grew, shrank or changed")
	fs.StringVar(&cfg.procRoot, "proc", "", "read processes from the procfs at `DIR` instead of the live system (Linux layout, e.g. captured fixtures)")
	fs.StringVar(&cfg.color, "color", "auto", "colour the terminal view: auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	fs.StringVar(&cfg.format, "format", "", "print the map to stdout as `json` or csv (one header line, no preamble); -o - does the same, as JSON")
	fs.BoolVar(&cfg.explain, "explain", false, "end the terminal view with what its figures, owners (and how each was recognised), letters and colours mean")
	fs.BoolVar(&cfg.regions, "regions", false, "list every region: address, size, type, state, committed, resident, protection, owner or path")
	fs.StringVar(&cfg.list.Sort, "sort", "addr", "order of --regions: "+strings.Join(vmmap.SortKeys, ", ")+" (size and rss: largest first)")
	types := fs.String("type", "", "with --regions, list only these `TYPES`, comma-separated (heap, stack, image, privatedata, free, …)")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(help, mapUsage, fs)
				return cfg, err
			}
			return cfg, usageErrorf("%v (see 'zebra help map')", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch cfg.color {
	case "auto", "always", "never":
	default:
		return cfg, usageErrorf("--color %q: want auto, always or never", cfg.color)
	}
	if cfg.out == "-" {
		cfg.out = ""
		if cfg.format == "" {
			cfg.format = "json"
		}
	}
	switch {
	case cfg.format != "" && cfg.format != "json" && cfg.format != "csv":
		return cfg, usageErrorf("--format %q: want json or csv", cfg.format)
	case cfg.format != "" && (cfg.out != "" || cfg.regions || cfg.diff):
		return cfg, usageErrorf("--format prints to stdout: it takes no -o FILE, --regions or --diff")
	case cfg.regions && cfg.out != "":
		return cfg, usageErrorf("--regions is a terminal view: for a file, use -o map.csv")
	case cfg.explain && (cfg.format != "" || cfg.out != "" || cfg.regions || cfg.diff):
		return cfg, usageErrorf("--explain applies to the terminal view: it takes no --format, -o, --regions or --diff")
	}
	if err := vmmap.SortRegions(nil, cfg.list.Sort); err != nil {
		return cfg, usageErrorf("--sort: %v", err)
	}
	if *types != "" {
		for _, name := range strings.Split(*types, ",") {
			t, err := vmmap.ParseTypeName(strings.TrimSpace(name))
			if err != nil {
				return cfg, usageErrorf("--type: %v", err)
			}
			cfg.list.Types = append(cfg.list.Types, t)
		}
	}
	if (*types != "" || cfg.list.Sort != "addr") && !cfg.regions {
		return cfg, usageErrorf("--sort and --type apply to --regions")
	}
	if cfg.procRoot != "" {
		// Checked here so that a mistyped root is a usage error naming
		// it, not "no such process" for every pid.
		if fi, err := os.Stat(cfg.procRoot); err != nil || !fi.IsDir() {
			return cfg, usageErrorf("--proc %s: not a directory", cfg.procRoot)
		}
	}
	if rng != "" {
		r, err := vmmap.ParseRange(rng)
		if err != nil {
			return cfg, usageErrorf("--range: %v", err)
		}
		cfg.span, cfg.hasSpan = r, true
	}
	if cfg.diff {
		if len(pos) != 2 {
			return cfg, usageErrorf("--diff needs two JSON files, got %d arguments", len(pos))
		}
		if cfg.hasSpan {
			return cfg, usageErrorf("--diff takes no --range")
		}
		if cfg.out != "" && strings.ToLower(filepath.Ext(cfg.out)) != ".html" {
			return cfg, usageErrorf("--diff writes only an .html report, not %q", cfg.out)
		}
		cfg.files = pos
		return cfg, nil
	}
	switch len(pos) {
	case 0:
	case 1:
		cfg.target = pos[0]
		if cfg.target != "self" {
			if n, err := strconv.Atoi(cfg.target); err != nil || n <= 0 {
				return cfg, usageErrorf("%q is not a process id or \"self\"", cfg.target)
			}
		}
	default:
		return cfg, usageErrorf("one process at a time, got %q", pos)
	}
	if cfg.out != "" {
		ext := strings.ToLower(filepath.Ext(cfg.out))
		if _, ok := mapOutputs[ext]; !ok {
			return cfg, usageErrorf("-o %s: unknown format %q (want .json, .csv, .png, .svg or .html)", cfg.out, ext)
		}
	}
	return cfg, nil
}

// procFS opens the procfs root of --proc; tests replace it to make reads
// fail as they do for another user's process.
var procFS = func(root string) fs.FS { return os.DirFS(root) }

// takeMap reads the snapshot the command line asks for.
func takeMap(cfg mapConfig) (*vmmap.Snapshot, error) {
	if cfg.procRoot != "" {
		return vmmap.Proc{FS: procFS(cfg.procRoot), Root: cfg.procRoot}.Snapshot(cfg.target)
	}
	if cfg.target == "self" {
		return vmmap.Self()
	}
	pid, _ := strconv.Atoi(cfg.target)
	return vmmap.Process(pid)
}

// writeMapFile writes s to path in the format of its extension and says so
// on stdout, with the span the numbers refer to. It writes a temporary file
// in the same directory and renames it to path only when the whole output
// was written, so a failed render never leaves a truncated file (or
// destroys an older map) at path.
func writeMapFile(stdout io.Writer, path string, s *vmmap.Snapshot) error {
	ext := strings.ToLower(filepath.Ext(path))
	write, ok := mapOutputs[ext]
	if !ok {
		return fmt.Errorf("unsupported output %q", ext)
	}
	if err := writeAtomically(path, func(w io.Writer) error { return write(w, s) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %s, span %v\n", path, visible.String(s.Source), plural(len(s.Regions), "region", "regions"), s.Span)
	return nil
}

// writeAtomically calls write on a temporary file next to path and renames
// it to path when write and the close succeed; otherwise it removes the
// temporary file and returns an error naming path.
func writeAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // pe.Path is a temporary name the user never chose
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp := f.Name()
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp makes the file 0600; a map is an ordinary output.
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, hideTemp(err, tmp))
	}
	return nil
}

// hideTemp strips the temporary file's name from err: the user asked for
// path and never saw tmp. (A render error does not name it anyway.)
func hideTemp(err error, tmp string) error {
	var le *os.LinkError
	if errors.As(err, &le) && le.Old == tmp {
		return le.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == tmp {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// mapDiff prints what changed from snapshot file a to snapshot file b, or
// writes it to out as an HTML report with both pictures side by side.
func mapDiff(stdout io.Writer, a, b, out string) error {
	read := func(path string) (*vmmap.Snapshot, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		s, err := vmmap.ReadJSON(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	}
	sa, err := read(a)
	if err != nil {
		return err
	}
	sb, err := read(b)
	if err != nil {
		return err
	}
	if out != "" {
		if err := writeAtomically(out, func(w io.Writer) error { return writeDiffHTML(w, a, sa, b, sb) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: %s compared with %s\n", out, b, a)
		return nil
	}
	changes := vmmap.Diff(sa, sb)
	fmt.Fprintf(stdout, "from %s (%s, %s)\n  to %s (%s, %s)\n", visible.String(a), visible.String(sa.Source), sa.Taken.Format("15:04:05 MST"),
		visible.String(b), visible.String(sb.Source), sb.Taken.Format("15:04:05 MST"))
	for _, c := range changes {
		fmt.Fprintf(stdout, "  %v\n", c)
	}
	fmt.Fprintln(stdout, plural(len(changes), "change", "changes"))
	return nil
}

// useColor decides whether the terminal view is coloured.
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal; tests replace it to see what
// a terminal would be shown.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// attributionGap says why the heaps of the snapshot could not be told
// apart, or "" when they could. zebra heaps are found by the kernel's
// [anon:NAME] mapping names (Linux 5.17+ with CONFIG_ANON_VMA_NAME, which
// zebra sets) or, in the calling process, by vmem's own registry; a Linux
// process read from outside without any such name has its heaps only as
// anonymous memory. (The system owners recognised by layout instead are
// listed under --explain.)
func attributionGap(cfg mapConfig, s *vmmap.Snapshot) string {
	if cfg.target == "self" && cfg.procRoot == "" {
		return ""
	}
	if !strings.HasPrefix(s.Source, "linux ") {
		return ""
	}
	for _, r := range s.Regions {
		if strings.HasPrefix(r.Path, "[anon:") {
			return ""
		}
	}
	return "Heap attribution unavailable: no mapping of this process has an [anon:NAME] name (kernel without\n" +
		"CONFIG_ANON_VMA_NAME, or the program names none), so its zebra heaps show as Private Data."
}
