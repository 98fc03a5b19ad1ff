//go:build linux

package vmem

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

const hostName = "linux"

// Linux places a new mapping directly below the previous one (top-down from
// mmap_base), so the free side of a reservation is usually below it.
const topDown = true

// hugePageSize is the transparent huge page size (hpage_pmd_size: 2 MiB on
// amd64, 386 with PAE and arm64 with 4 KiB pages), or 0 when the kernel has
// no THP or it is switched off ("[never]"), since then MADV_HUGEPAGE does
// nothing and committing in huge units would only waste memory.
var hugePageSize = thpSize("/sys/kernel/mm/transparent_hugepage")

func thpSize(dir string) uintptr {
	enabled, err := os.ReadFile(dir + "/enabled")
	if err != nil || strings.Contains(string(enabled), "[never]") {
		return 0
	}
	b, err := os.ReadFile(dir + "/hpage_pmd_size")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n == 0 || n&(n-1) != 0 || uint64(uintptr(n)) != n {
		return 0
	}
	return uintptr(n)
}

// decommitRange drops the pages with MADV_DONTNEED: RSS falls at once and
// the pages read as zero when next touched. (MADV_FREE only marks them
// reclaimable, so RSS would not move until memory pressure; protections are
// not changed, so no VMA is split.)
func decommitRange(p unsafe.Pointer, n uintptr) error {
	if err := unix.Madvise(bytesAt(p, n), unix.MADV_DONTNEED); err != nil {
		return osError("madvise", p, n, err)
	}
	return nil
}

// uncommitRange maps fresh PROT_NONE memory over [p, p+n) with MAP_FIXED
// instead of calling mprotect. The difference shows in /proc/self/maps: a
// VMA that has ever been written to carries an anon_vma, and the kernel
// (6.x at least) will not merge it with the never-touched PROT_NONE VMA next
// to it, so each lowering of the watermark would leave a VMA behind, and
// commits and decommits at varying places would split the reservation
// without bound. A fresh mapping has no anon_vma and merges with its
// reserved neighbour, so everything outside the committed interval stays one
// VMA per side. The replacement is atomic, drops the pages and returns the
// commit charge. It loses the range's MADV_HUGEPAGE and name, which restore
// puts back. (If the kernel itself runs out of memory in the middle of the
// call, kernels before 6.12 may leave the range unmapped instead of
// restoring it; the map-count check that makes ENOMEM likely comes before
// anything is unmapped.)
func uncommitRange(p unsafe.Pointer, n uintptr) error {
	return remap(p, n, unix.PROT_NONE)
}

// restore gives a range that uncommitRange replaced its huge-page advice
// and its name back, so that it merges with the rest of the reservation.
func (hostPrims) restore(p unsafe.Pointer, n uintptr, huge bool, owner string) {
	if huge {
		adviseHuge(p, n)
	}
	if owner != "" {
		nameRange(p, n, owner)
	}
}

// placeAt reserves exactly [p, p+n) with MAP_FIXED_NOREPLACE (Linux 4.17+),
// which fails with EEXIST instead of replacing an existing mapping. Older
// kernels ignore the flag and treat p as a hint: a mapping placed elsewhere is
// undone and reported as taken. Either way a failure leaves nothing mapped.
func placeAt(p unsafe.Pointer, n uintptr) error {
	q, err := unix.MmapPtr(-1, 0, p, n, unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED_NOREPLACE)
	if errors.Is(err, unix.EEXIST) {
		return &sysError{call: "mmap MAP_FIXED_NOREPLACE", addr: uintptr(p), size: n,
			err: err, sentinel: ErrAddressTaken}
	}
	if err != nil {
		return osError("mmap MAP_FIXED_NOREPLACE", p, n, err)
	}
	if q != p {
		_ = unix.MunmapPtr(q, n)
		return &sysError{call: "mmap", addr: uintptr(p), size: n, err: ErrAddressTaken,
			hint: "the kernel ignored MAP_FIXED_NOREPLACE and placed the mapping elsewhere"}
	}
	return nil
}

// adviseHuge asks for transparent huge pages. It is advice only: with THP
// off the kernel answers EINVAL and the range simply uses small pages.
func adviseHuge(p unsafe.Pointer, n uintptr) {
	_ = unix.Madvise(bytesAt(p, n), unix.MADV_HUGEPAGE)
}

// namingOff is set once the kernel has refused PR_SET_VMA_ANON_NAME, so
// later reservations do not repeat a system call that cannot succeed.
var namingOff atomic.Bool

// nameRange names an anonymous mapping "[anon:owner]" with
// PR_SET_VMA_ANON_NAME (Linux 5.17+ with CONFIG_ANON_VMA_NAME). Kernels
// without it answer EINVAL; naming is best effort and nothing depends on it.
func nameRange(p unsafe.Pointer, n uintptr, owner string) {
	if namingOff.Load() {
		return
	}
	err := unix.PrctlArg5Ptr(unix.PR_SET_VMA, unix.PR_SET_VMA_ANON_NAME,
		uintptr(p), n, unsafe.Pointer(&vmaName(owner)[0]))
	if errors.Is(err, unix.EINVAL) {
		namingOff.Store(true)
	}
}

// vmaName returns owner as a NUL-terminated name the kernel accepts: at
// most 79 printable ASCII bytes without the four characters it refuses
// ([, ], \, $ and `), each other byte replaced by '_'.
func vmaName(owner string) []byte {
	b := make([]byte, 0, min(len(owner), 79)+1)
	for i := 0; i < len(owner) && i < 79; i++ {
		c := owner[i]
		if c < 0x20 || c > 0x7e || c == '[' || c == ']' || c == '\\' || c == '$' || c == '`' {
			c = '_'
		}
		b = append(b, c)
	}
	return append(b, 0)
}
