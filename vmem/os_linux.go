//go:build linux

package vmem

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

const hostName = "linux"

// hugePageSize is the transparent huge page size on the architectures Go
// supports on Linux with 4 KiB base pages (amd64, 386, arm64 by default).
const hugePageSize = 2 << 20

// MADV_DONTNEED drops the pages at once and lowers RSS; MADV_FREE only marks
// them reclaimable, so RSS would not move until memory pressure.
const decommitAdvice = unix.MADV_DONTNEED

// placeAt reserves exactly [p, p+n) with MAP_FIXED_NOREPLACE (Linux 4.17+),
// which fails with EEXIST instead of replacing an existing mapping. Older
// kernels ignore the flag and treat p as a hint: a mapping elsewhere is
// undone and reported as taken.
func placeAt(p unsafe.Pointer, n uintptr) error {
	q, err := unix.MmapPtr(-1, 0, p, n, unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED_NOREPLACE)
	if errors.Is(err, unix.EEXIST) {
		return ErrAddressTaken
	}
	if err != nil {
		return osError("mmap", p, n, err)
	}
	if q != p {
		unix.MunmapPtr(q, n)
		return ErrAddressTaken
	}
	return nil
}

func adviseHuge(p unsafe.Pointer, n uintptr) {
	// Advice only: with THP disabled the kernel answers EINVAL and the
	// reservation simply uses small pages.
	_ = unix.Madvise(bytesAt(p, n), unix.MADV_HUGEPAGE)
}

// nameRange names an anonymous mapping "[anon:owner]" with
// PR_SET_VMA_ANON_NAME (Linux 5.17+ with CONFIG_ANON_VMA_NAME). Kernels
// without it answer EINVAL; naming is best effort and nothing depends on it.
func nameRange(p unsafe.Pointer, n uintptr, owner string) {
	b := make([]byte, 0, len(owner)+1)
	for i := 0; i < len(owner) && i < 79; i++ {
		c := owner[i]
		// The kernel refuses unprintable characters and these four.
		if c < 0x20 || c > 0x7e || c == '[' || c == ']' || c == '\\' || c == '$' || c == '`' {
			c = '_'
		}
		b = append(b, c)
	}
	b = append(b, 0)
	_ = unix.PrctlArg5Ptr(unix.PR_SET_VMA, unix.PR_SET_VMA_ANON_NAME,
		uintptr(p), n, unsafe.Pointer(&b[0]))
}
