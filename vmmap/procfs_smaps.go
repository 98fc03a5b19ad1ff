package vmmap

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"
)

// smapsEntry is one mapping of /proc/PID/smaps with its counters, in bytes.
type smapsEntry struct {
	mapping
	Size, RSS, PSS             uint64
	SharedClean, SharedDirty   uint64
	PrivateClean, PrivateDirty uint64
	Swap, AnonHuge             uint64
	Flags                      []string // VmFlags: "rd", "wr", "gd" (grows down), "ht" (huge TLB)…
}

// parseSmaps reads the text of /proc/PID/smaps: each mapping's maps line
// followed by "Key:   N kB" lines and a "VmFlags:" line. Keys this package
// does not use are skipped, so newer kernels' additions do not break it.
//
// A process of 60,000 mappings has 1.5 million smaps lines (90 MB), so the
// text is streamed and parsed in place, without allocating per line: a
// line is looked at as a string that aliases the reader's buffer (see
// view) and only what is kept is copied, once per distinct value (see
// interner): permissions, paths and VmFlags lists repeat across mappings.
// TestSnapshotMemoryAtScale measures what a snapshot then costs.
func parseSmaps(r io.Reader) ([]smapsEntry, error) {
	var out entryList
	br := bufio.NewReaderSize(r, maxLine+1)
	in := newInterner()
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			return nil, readError("smaps", fmt.Errorf("line %d: %w", n, bufio.ErrTooLong))
		case err != nil && err != io.EOF:
			return nil, readError("smaps", err)
		case err == io.EOF && len(b) == 0:
			return out.all(), nil
		}
		line := view(bytes.TrimSuffix(b, []byte("\n")))
		if line == "" || isSpace(line[0]) && strings.TrimSpace(line) == "" {
			if err == io.EOF {
				return out.all(), nil
			}
			continue
		}
		key, val, isKey := smapsKey(line)
		switch {
		case !isKey:
			m, perr := parseMapping(line)
			if perr != nil {
				return nil, fmt.Errorf("smaps line %d: %w", n, perr)
			}
			m.Perms, m.Path = in.string(m.Perms), in.string(m.Path)
			out.add(smapsEntry{mapping: m})
		case out.n == 0:
			return nil, fmt.Errorf("smaps line %d: %w: %q before the first mapping", n, ErrParse, key)
		case key == "VmFlags":
			out.last().Flags = in.fields(strings.TrimSpace(val))
		default:
			if dst := out.last().counter(key); dst != nil {
				v, perr := parseKB(strings.TrimSpace(val))
				if perr != nil {
					return nil, fmt.Errorf("smaps line %d: %s: %w", n, key, perr)
				}
				*dst = v
			}
		}
		if err == io.EOF {
			return out.all(), nil
		}
	}
}

// entryList collects entries in chunks and copies them once, at the end,
// into a slice of the exact length: appending to one slice would copy and
// clear its doubling arrays, a third of a snapshot's time at 60,000
// mappings.
type entryList struct {
	chunks [][]smapsEntry
	n      int
}

func (l *entryList) add(e smapsEntry) {
	if len(l.chunks) == 0 || len(l.chunks[len(l.chunks)-1]) == cap(l.chunks[len(l.chunks)-1]) {
		l.chunks = append(l.chunks, make([]smapsEntry, 0, min(64<<len(l.chunks), 8192)))
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, e)
	l.n++
}

func (l *entryList) last() *smapsEntry {
	c := l.chunks[len(l.chunks)-1]
	return &c[len(c)-1]
}

func (l *entryList) all() []smapsEntry {
	if len(l.chunks) == 1 {
		return l.chunks[0]
	}
	out := make([]smapsEntry, 0, l.n)
	for _, c := range l.chunks {
		out = append(out, c...)
	}
	return out
}

// view returns b as a string without copying it. The string aliases b:
// it must not be kept once b's buffer is read into again, so whatever the
// parser keeps goes through an interner, which copies.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// interner keeps one copy of each distinct string (and VmFlags list) a
// parse keeps: a process of 60,000 mappings has a few hundred distinct
// paths and a few dozen flag lists. Its lookups allocate nothing.
type interner struct {
	strs  map[string]string
	flags map[string][]string
}

func newInterner() *interner {
	return &interner{strs: map[string]string{}, flags: map[string][]string{}}
}

// string returns a copy of s that outlives the buffer s may alias.
func (in *interner) string(s string) string {
	if v, ok := in.strs[s]; ok {
		return v
	}
	v := strings.Clone(s)
	in.strs[v] = v
	return v
}

// fields is strings.Fields(s) for a VmFlags value, shared by every
// mapping with the same list: callers must not modify it.
func (in *interner) fields(s string) []string {
	if v, ok := in.flags[s]; ok {
		return v
	}
	v := strings.Fields(strings.Clone(s))
	in.flags[strings.Clone(s)] = v
	return v
}

// isSpace reports whether c is white space that may start a blank line.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// smapsKey splits "Rss:   12 kB" into "Rss" and "   12 kB" (trimmed by
// the caller, for the keys it uses). A maps line is not a key line: its
// first word holds a '-' and no ':' at its end.
func smapsKey(line string) (key, val string, ok bool) {
	// A byte loop, not IndexByte and ContainsAny: this runs for each of
	// the 1.5 million lines of a process of 60,000 mappings.
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ':':
			if i == 0 {
				return "", "", false
			}
			return line[:i], line[i+1:], true
		case ' ', '\t', '-':
			return "", "", false
		}
	}
	return "", "", false
}

func (e *smapsEntry) counter(key string) *uint64 {
	switch key {
	case "Size":
		return &e.Size
	case "Rss":
		return &e.RSS
	case "Pss":
		return &e.PSS
	case "Shared_Clean":
		return &e.SharedClean
	case "Shared_Dirty":
		return &e.SharedDirty
	case "Private_Clean":
		return &e.PrivateClean
	case "Private_Dirty":
		return &e.PrivateDirty
	case "Swap":
		return &e.Swap
	case "AnonHugePages":
		return &e.AnonHuge
	}
	return nil
}

// parseKB reads "123 kB" into bytes. Its error copies s, which may alias
// the reader's buffer.
func parseKB(s string) (uint64, error) {
	num, unit, _ := strings.Cut(s, " ")
	if strings.TrimSpace(unit) != "kB" {
		return 0, fmt.Errorf("%w: %q is not a size in kB", ErrParse, strings.Clone(s))
	}
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil || v > 1<<54-1 {
		return 0, fmt.Errorf("%w: %q is not a size in kB", ErrParse, strings.Clone(s))
	}
	return v << 10, nil
}
