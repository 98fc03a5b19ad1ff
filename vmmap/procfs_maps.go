package vmmap

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// mapping is one line of /proc/PID/maps: a kernel mapping (VMA).
type mapping struct {
	Start, End uint64
	Perms      string // "rwxp": read, write, execute, private (p) or shared (s)
	Inode      uint64 // the file's inode; 0 for anonymous memory
	Path       string // file, "[heap]", "[anon:name]", "" for anonymous memory
}

// maxLine bounds one line of maps or smaps text. The kernel limits a path
// to PATH_MAX (4096) bytes, and escapes newlines in it as \012.
const maxLine = 64 << 10

// parseMaps reads the text of /proc/PID/maps.
func parseMaps(r io.Reader) ([]mapping, error) {
	var out []mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseMapping(line)
		if err != nil {
			return nil, fmt.Errorf("maps line %d: %w", n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, readError("maps", err)
	}
	return out, nil
}

// parseMapping reads one maps line:
//
//	7f2c4c000000-7f2c4c021000 rw-p 00000000 00:00 0      /path/may have spaces
//
// Five space-separated fields, then padding, then the path: the rest of the
// line, which may contain spaces and end in " (deleted)".
func parseMapping(line string) (mapping, error) {
	var m mapping
	rest := line
	field := func() string {
		rest = strings.TrimLeft(rest, " \t")
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			f := rest
			rest = ""
			return f
		}
		f := rest[:i]
		rest = rest[i+1:]
		return f
	}
	addr, perms, off, dev, inode := field(), field(), field(), field(), field()
	lo, hi, ok := strings.Cut(addr, "-")
	if !ok {
		return m, fmt.Errorf("%w: address %q is not LO-HI", ErrParse, addr)
	}
	var err error
	if m.Start, err = strconv.ParseUint(lo, 16, 64); err != nil {
		return m, fmt.Errorf("%w: address %q", ErrParse, addr)
	}
	if m.End, err = strconv.ParseUint(hi, 16, 64); err != nil {
		return m, fmt.Errorf("%w: address %q", ErrParse, addr)
	}
	if m.Start >= m.End {
		return m, fmt.Errorf("%w: empty mapping %q", ErrParse, addr)
	}
	if len(perms) != 4 || !strings.ContainsRune("r-", rune(perms[0])) ||
		!strings.ContainsRune("w-", rune(perms[1])) || !strings.ContainsRune("x-", rune(perms[2])) ||
		!strings.ContainsRune("ps", rune(perms[3])) {
		return m, fmt.Errorf("%w: permissions %q", ErrParse, perms)
	}
	m.Perms = perms
	// The offset and the device are checked, so that a line that is not
	// a maps line fails, but not kept: classification does not use them.
	if _, err = strconv.ParseUint(off, 16, 64); err != nil {
		return m, fmt.Errorf("%w: offset %q", ErrParse, off)
	}
	if maj, min, ok := strings.Cut(dev, ":"); !ok || !isHex(maj) || !isHex(min) {
		return m, fmt.Errorf("%w: device %q", ErrParse, dev)
	}
	if m.Inode, err = strconv.ParseUint(inode, 10, 64); err != nil {
		return m, fmt.Errorf("%w: inode %q", ErrParse, inode)
	}
	m.Path = strings.TrimLeft(rest, " \t")
	return m, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Path helpers: how the kernel names mappings.

// deleted reports whether the mapped file was unlinked, and the path without
// the kernel's " (deleted)" suffix.
func deleted(path string) (string, bool) {
	if p, ok := strings.CutSuffix(path, " (deleted)"); ok {
		return p, true
	}
	return path, false
}

// anonName returns NAME for "[anon:NAME]" (PR_SET_VMA_ANON_NAME) and
// "[anon_shmem:NAME]" (named shared anonymous memory, Linux 6.2+).
func anonName(path string) (name string, shared, ok bool) {
	if n, ok := strings.CutPrefix(path, "[anon:"); ok && strings.HasSuffix(n, "]") {
		return n[:len(n)-1], false, true
	}
	if n, ok := strings.CutPrefix(path, "[anon_shmem:"); ok && strings.HasSuffix(n, "]") {
		return n[:len(n)-1], true, true
	}
	return "", false, false
}
