package heap

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"sync"

	"github.com/zebra-heap/zebra/vmem"
)

// thpAlways reports whether transparent huge pages are in "always" mode,
// where any heap may get them without asking.
var thpAlways = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && bytes.Contains(b, []byte("[always]"))
})

// anonHugePages sums the AnonHugePages of the mappings in /proc/self/smaps
// that lie inside rs (sorted, disjoint): the heap's memory backed by
// transparent huge pages. It reports 0 when smaps cannot be read.
func anonHugePages(rs []vmem.Range) uint64 {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	var total uint64
	inside := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if lo, hi, ok := smapsHeader(line); ok {
			inside = false
			for _, r := range rs {
				if lo >= r.Base && hi <= r.End() {
					inside = true
					break
				}
			}
			continue
		}
		if inside && bytes.HasPrefix(line, []byte("AnonHugePages:")) {
			f := bytes.Fields(line[len("AnonHugePages:"):])
			if len(f) == 2 {
				if kb, err := strconv.ParseUint(string(f[0]), 10, 64); err == nil {
					total += kb << 10
				}
			}
		}
	}
	return total
}

// smapsHeader parses the address range of a mapping's first line
// ("lo-hi perms ..."); field lines ("Name: value") do not parse.
func smapsHeader(line []byte) (lo, hi uintptr, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	dash := bytes.IndexByte(line, '-')
	if sp < 0 || dash < 0 || dash > sp {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(string(line[:dash]), 16, 64)
	b, err2 := strconv.ParseUint(string(line[dash+1:sp]), 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), true
}
