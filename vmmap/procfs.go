package vmmap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc reads snapshots of Linux processes from a procfs tree. The library
// reads the files itself and never runs another program.
//
// For a process P it reads P/smaps (falling back to P/maps, without
// counters, on kernels built without smaps), P/stat for the process's pid,
// name and state, P/exe for Go's build information (goruntime.go), and
// sys/vm/max_map_count.
type Proc struct {
	// FS is rooted at a procfs mount. Tests use a directory of captured
	// files, or a file system that fails on purpose.
	FS fs.FS
	// Root is where FS is mounted ("/proc"), used only to name files in
	// errors: paths in FS are relative to it ("42/smaps"). Empty leaves
	// the relative names.
	Root string
	// Now returns the time stamped on snapshots; time.Now when nil.
	Now func() time.Time
	// Layout reads only the layout: the mappings of /proc/PID/maps, not
	// the counters of smaps. Resident, private and the like are zero and
	// Committed follows the protection (writable private memory). For
	// views that need only where things are, at a fraction of the cost
	// (see layoutEntries).
	Layout bool
}

// NewProc returns a Proc reading the procfs mounted at root ("/proc" on a
// live Linux system; a directory of fixtures in tests).
func NewProc(root string) Proc { return Proc{FS: os.DirFS(root), Root: root} }

// readFile reads name from p.FS; a failure names the file by its full
// path, Root joined with name.
func (p Proc) readFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(p.FS, name)
	return b, p.pathError(err)
}

// pathError names the file of a *fs.PathError under Root, as the user
// gave it, rather than relative to the FS.
func (p Proc) pathError(err error) error {
	var pe *fs.PathError
	if err != nil && p.Root != "" && errors.As(err, &pe) && !filepath.IsAbs(pe.Path) {
		pe.Path = filepath.Join(p.Root, filepath.FromSlash(pe.Path))
	}
	return err
}

// Snapshot reads the memory map of process pid: a decimal process id, or
// "self" for the calling process (of a live procfs). Regions are classified
// as described in classify_procfs.go; regions of zebra heaps are named only
// by [anon:…] names here, use Attribute with vmem.Live for the calling
// process's own reservations.
func (p Proc) Snapshot(pid string) (*Snapshot, error) {
	if pid != "self" {
		if n, err := strconv.Atoi(pid); err != nil || n <= 0 {
			return nil, fmt.Errorf("%w: pid %q is not a positive number or \"self\"", ErrNoProcess, pid)
		}
	}
	st, err := p.stat(pid)
	if err != nil {
		return nil, err
	}
	if pid != "self" && strconv.Itoa(st.pid) != pid {
		return nil, fmt.Errorf("pid %s: %w: its stat file names pid %d", pid, ErrParse, st.pid)
	}
	what := fmt.Sprintf("pid %d (%s)", st.pid, st.comm)
	// The kernel writes smaps in several reads; a process that maps or
	// unmaps meanwhile can make one read see a torn list (a mapping that
	// overlaps or precedes the one before). Such a list is read again, a
	// few times, and never reported.
	var entries []smapsEntry
	for try := 1; ; try++ {
		entries, err = p.readEntries(pid)
		if err == nil || !errors.Is(err, errTorn) || try == tornRetries {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, procError(err))
	}
	if len(entries) == 0 {
		// A zombie's, or a kernel thread's, map is empty; so is the map
		// of a process that exited after it was opened.
		if st2, err := p.stat(pid); err != nil || st2.state == 'Z' || st2.state == 'X' {
			return nil, fmt.Errorf("%s: %w", what, ErrExited)
		}
		return nil, fmt.Errorf("%s: %w", what, ErrNoAddressSpace)
	}
	s := &Snapshot{
		Source:      "linux " + what,
		PID:         st.pid,
		Command:     st.comm,
		Granularity: 4096,
		MaxMapCount: p.maxMapCount(),
		VMAs:        len(entries),
		Regions:     classifyLinux(entries),
	}
	if p.Now != nil {
		s.Taken = p.Now()
	} else {
		s.Taken = time.Now()
	}
	if p.goProgram(pid) {
		recogniseGoRuntime(s.Regions)
	}
	s.Span = defaultSpan(s.Regions)
	s.Regions = fillFree(s.Regions, s.Span)
	return s, nil
}

// tornRetries bounds the reads of a map that keeps changing under us.
const tornRetries = 8

// errTorn marks a map whose mappings are out of order: read while it
// changed (or not a map at all, when every read says so).
var errTorn = errors.New("the mappings changed while they were read")

// readEntries reads and checks pid's smaps, or its maps without counters
// on kernels built without smaps. smaps is streamed through the parser,
// never held whole (90 MB for 60,000 mappings).
func (p Proc) readEntries(pid string) ([]smapsEntry, error) {
	if p.Layout {
		return p.layoutEntries(pid)
	}
	f, err := p.FS.Open(pid + "/smaps")
	if err == nil {
		// Read ahead: the kernel writes smaps as fast as it is parsed.
		ra := newReadAhead(f)
		entries, err := parseSmaps(ra)
		ra.Close()
		f.Close()
		if err != nil {
			return nil, err
		}
		return entries, checkOrder(entries)
	}
	err = p.pathError(err)
	if errors.Is(err, fs.ErrNotExist) && p.exists(pid) {
		// No smaps on this kernel: maps still has every mapping.
		return p.layoutEntries(pid)
	}
	return nil, err
}

// layoutEntries reads and checks pid's mappings without counters, from
// the text of maps. The PROCMAP_QUERY ioctl (Linux 6.11+), which answers
// one mapping per call, was measured here for this (60,000 mappings, Linux
// 6.18): 327 ms against 130 ms for the text, the whole snapshot included;
// it is built to look up addresses, not to list a map.
func (p Proc) layoutEntries(pid string) ([]smapsEntry, error) {
	f, err := p.FS.Open(pid + "/maps")
	if err != nil {
		return nil, p.pathError(err)
	}
	defer f.Close()
	ms, err := parseMaps(f)
	if err != nil {
		return nil, err
	}
	entries := make([]smapsEntry, len(ms))
	for i, m := range ms {
		entries[i] = smapsEntry{mapping: m, Size: m.End - m.Start}
	}
	return entries, checkOrder(entries)
}

func (p Proc) exists(pid string) bool {
	_, err := fs.Stat(p.FS, pid)
	return err == nil
}

// procStat is what Snapshot needs from /proc/PID/stat.
type procStat struct {
	pid   int
	comm  string
	state byte // R, S, D, Z (zombie), X (dead), …
}

// stat reads /proc/PID/stat: "PID (COMM) STATE …", where COMM may itself
// contain spaces and parentheses, so it ends at the last ')'.
func (p Proc) stat(pid string) (procStat, error) {
	var st procStat
	text, err := p.readFile(pid + "/stat")
	if err != nil {
		return st, fmt.Errorf("pid %s: %w", pid, procError(err))
	}
	s := string(text)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return st, fmt.Errorf("pid %s: %w: stat %q", pid, ErrParse, s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	if err != nil || n <= 0 {
		return st, fmt.Errorf("pid %s: %w: stat %q", pid, ErrParse, s)
	}
	st.pid, st.comm = n, s[open+1:close]
	if rest := strings.TrimSpace(s[close+1:]); rest != "" {
		st.state = rest[0]
	}
	return st, nil
}

// maxMapCount reads vm.max_map_count, or returns 0 when it is unknown.
func (p Proc) maxMapCount() int {
	text, err := fs.ReadFile(p.FS, "sys/vm/max_map_count")
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(text)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// procError turns the errors of reading procfs into this package's
// sentinels, keeping the original error in the chain.
func procError(err error) error {
	switch {
	case errors.Is(err, ErrParse):
		return err
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w (%w)", ErrNoProcess, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w (%w)", ErrPermission, err)
	case errors.Is(err, syscall.ESRCH):
		return fmt.Errorf("%w (%w)", ErrExited, err)
	}
	return err
}

// readError wraps a failure to read maps or smaps text.
func readError(what string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%s: %w: %w", what, ErrParse, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// checkOrder verifies that mappings come in address order without overlap,
// as the kernel writes them, and that no counter exceeds its mapping:
// anything else is not a consistent map.
func checkOrder(entries []smapsEntry) error {
	for _, e := range entries {
		size := e.End - e.Start
		for _, c := range []struct {
			name string
			v    uint64
		}{{"Rss", e.RSS}, {"Pss", e.PSS}, {"Private", e.PrivateClean + e.PrivateDirty},
			{"Shared", e.SharedClean + e.SharedDirty}, {"Swap", e.Swap}, {"AnonHugePages", e.AnonHuge}} {
			if c.v > size {
				return fmt.Errorf("%w: mapping %#x-%#x (%d bytes) has %s of %d bytes", ErrParse, e.Start, e.End, size, c.name, c.v)
			}
		}
		// The same checks as a snapshot read from a file gets
		// (Snapshot.Validate), on the counters classification keeps.
		if e.PrivateClean > size || e.PrivateDirty > size || e.SharedClean > size || e.SharedDirty > size {
			return fmt.Errorf("%w: mapping %#x-%#x (%d bytes) has a private or shared part larger than itself", ErrParse, e.Start, e.End, size)
		}
		r := Region{Start: e.Start, End: e.End, RSS: e.RSS, PSS: e.PSS, Private: e.PrivateClean + e.PrivateDirty,
			PrivateDirty: e.PrivateDirty, Shared: e.SharedClean + e.SharedDirty, Swap: e.Swap, AnonHuge: e.AnonHuge}
		if err := r.checkCounters(); err != nil {
			return fmt.Errorf("%w: mapping %#x-%#x: %s", ErrParse, e.Start, e.End, err)
		}
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Start < entries[i-1].End {
			return fmt.Errorf("%w: %w: mapping %#x-%#x overlaps or precedes %#x-%#x", ErrParse, errTorn,
				entries[i].Start, entries[i].End, entries[i-1].Start, entries[i-1].End)
		}
	}
	return nil
}
