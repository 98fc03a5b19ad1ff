package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The suite's own readers of /proc: deliberately not zebra's vmmap parser,
// so that a bug there cannot hide in the numbers measured here.

// procKiB returns the "key: N kB" value of a /proc file, -1 when absent.
func procKiB(file, key string) float64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && k == key {
			n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// span is one address range [lo, hi).
type span struct{ lo, hi uint64 }

// readMaps parses the address columns of a /proc/PID/maps dump.
func readMaps(path string) ([]span, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseMaps(b)
}

func parseMaps(b []byte) ([]span, error) {
	var out []span
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f, _, _ := strings.Cut(sc.Text(), " ")
		lo, hi, ok := strings.Cut(f, "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || z <= a {
			return nil, fmt.Errorf("maps line %d: bad range %q", n, f)
		}
		out = append(out, span{a, z})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !slices.IsSortedFunc(out, func(x, y span) int { return cmpU(x.lo, y.lo) }) {
		return nil, fmt.Errorf("maps: ranges out of order")
	}
	return out, nil
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// merge joins touching ranges: the address space's mapped pieces.
func merge(s []span) []span {
	var out []span
	for _, r := range s {
		if n := len(out); n > 0 && out[n-1].hi >= r.lo {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// rangesHolding counts the pieces of merge(maps) that hold at least one of
// addrs: the separate ranges a heap's blocks live in.
func rangesHolding(maps []span, addrs []uint64) int {
	m := merge(maps)
	hit := make([]bool, len(m))
	for _, a := range addrs {
		i, _ := slices.BinarySearchFunc(m, a, func(r span, a uint64) int {
			if r.hi <= a {
				return -1
			}
			if r.lo > a {
				return 1
			}
			return 0
		})
		if i < len(m) && m[i].lo <= a && a < m[i].hi {
			hit[i] = true
		}
	}
	n := 0
	for _, h := range hit {
		if h {
			n++
		}
	}
	return n
}

// largestFreed is the largest range mapped in before and unmapped in after:
// the biggest hole a destroy left in the address space.
func largestFreed(before, after []span) uint64 {
	b, a := merge(before), merge(after)
	var best uint64
	j := 0
	for _, r := range b {
		lo := r.lo
		for j < len(a) && a[j].hi <= lo {
			j++
		}
		for k := j; lo < r.hi; k++ {
			hi := r.hi
			if k < len(a) && a[k].lo < hi {
				hi = a[k].lo
			}
			if hi > lo {
				best = max(best, hi-lo)
			}
			if k >= len(a) || a[k].lo >= r.hi {
				break
			}
			lo = a[k].hi
		}
	}
	return best
}

// munmapFloor maps n bytes, touches every page and times their munmap: the
// least a destroy of that much memory can cost.
func munmapFloor(n int) (time.Duration, error) {
	if n < 1 {
		return 0, nil
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return 0, err
	}
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	t0 := time.Now()
	err = syscall.Munmap(b)
	return time.Since(t0), err
}
