package vmmap

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
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
func parseSmaps(r io.Reader) ([]smapsEntry, error) {
	var out []smapsEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, val, isKey := smapsKey(line)
		if !isKey {
			m, err := parseMapping(line)
			if err != nil {
				return nil, fmt.Errorf("smaps line %d: %w", n, err)
			}
			out = append(out, smapsEntry{mapping: m})
			continue
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("smaps line %d: %w: %q before the first mapping", n, ErrParse, key)
		}
		e := &out[len(out)-1]
		if key == "VmFlags" {
			e.Flags = strings.Fields(val)
			continue
		}
		dst := e.counter(key)
		if dst == nil {
			continue
		}
		v, err := parseKB(val)
		if err != nil {
			return nil, fmt.Errorf("smaps line %d: %s: %w", n, key, err)
		}
		*dst = v
	}
	if err := sc.Err(); err != nil {
		return nil, readError("smaps", err)
	}
	return out, nil
}

// smapsKey splits "Rss:   12 kB" into "Rss" and "12 kB". A maps line is
// not a key line: its first word holds a '-' and no ':' at its end.
func smapsKey(line string) (key, val string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	key = line[:i]
	if strings.ContainsAny(key, " \t-") {
		return "", "", false
	}
	return key, strings.TrimSpace(line[i+1:]), true
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

// parseKB reads "123 kB" into bytes.
func parseKB(s string) (uint64, error) {
	num, unit, _ := strings.Cut(s, " ")
	if strings.TrimSpace(unit) != "kB" {
		return 0, fmt.Errorf("%w: %q is not a size in kB", ErrParse, s)
	}
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil || v > 1<<54-1 {
		return 0, fmt.Errorf("%w: %q is not a size in kB", ErrParse, s)
	}
	return v << 10, nil
}
