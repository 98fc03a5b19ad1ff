//go:build freebsd

package vmem

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

const hostName = "freebsd"

// FreeBSD searches for free space upwards from a hint above the data
// segment, so new reservations land above earlier ones.
const topDown = false

// hugePageSize is the first superpage size (hw.pagesizes[1], 2 MiB on amd64)
// when superpages are on (vm.pmap.pg_ps_enabled), else 0. FreeBSD needs no
// advice: it promotes a 2 MiB-aligned run to a superpage by itself once every
// page of it is touched. Options.HugePages gives it exactly that: the 2 MiB
// alignment, and commit and decommit in whole 2 MiB units.
var hugePageSize = superPageSize()

func superPageSize() uintptr {
	if on, err := unix.SysctlUint32("vm.pmap.pg_ps_enabled"); err != nil || on == 0 {
		return 0
	}
	b, err := unix.SysctlRaw("hw.pagesizes") // u_long[]: the sizes, 0 for none
	if err != nil {
		return 0
	}
	var s uint64
	switch w := unsafe.Sizeof(uintptr(0)); {
	case w == 8 && len(b) >= 16:
		s = binary.NativeEndian.Uint64(b[8:])
	case w == 4 && len(b) >= 8:
		s = uint64(binary.NativeEndian.Uint32(b[4:]))
	}
	if s == 0 || s&(s-1) != 0 {
		return 0
	}
	return uintptr(s)
}

// decommitRange maps fresh anonymous memory over [p, p+n) with MAP_FIXED.
// The old pages go back to the OS at once and the range reads as zero when
// next touched, as after MADV_DONTNEED on Linux. (FreeBSD's MADV_DONTNEED
// keeps the pages, and MADV_FREE frees them only lazily and may leave the old
// contents readable: RSS would not show the decommit.) The replacement is
// atomic: no other mapping can land in the range in between.
func decommitRange(p unsafe.Pointer, n uintptr) error {
	return remap(p, n, unix.PROT_READ|unix.PROT_WRITE)
}

// placeAt reserves exactly [p, p+n) with MAP_FIXED|MAP_EXCL, which refuses
// to replace an existing mapping. FreeBSD reports that refusal as ENOMEM
// (KERN_NO_SPACE), the same errno as a real shortage; a range next to a
// reservation is far more often taken than memory exhausted, so ENOMEM here
// means ErrAddressTaken, and a real shortage shows up at the next Reserve.
func placeAt(p unsafe.Pointer, n uintptr) error {
	q, err := unix.MmapPtr(-1, 0, p, n, unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED|unix.MAP_EXCL)
	if errors.Is(err, unix.ENOMEM) {
		return &sysError{call: "mmap MAP_FIXED|MAP_EXCL", addr: uintptr(p), size: n, err: err,
			sentinel: ErrAddressTaken, hint: "the range is in use, or the address space is full"}
	}
	if err != nil {
		return osError("mmap MAP_FIXED|MAP_EXCL", p, n, err)
	}
	if q != p {
		_ = unix.MunmapPtr(q, n)
		return &sysError{call: "mmap", addr: uintptr(p), size: n, err: ErrAddressTaken}
	}
	return nil
}

// uncommitRange only changes the protection: decommitRange has already
// replaced the pages.
func uncommitRange(p unsafe.Pointer, n uintptr) error { return mprotectNone(p, n) }

// adviseHuge does nothing: see hugePageSize.
func adviseHuge(unsafe.Pointer, uintptr) {}

// nameRange does nothing: FreeBSD cannot name anonymous mappings, so the
// registry is the only attribution.
func nameRange(unsafe.Pointer, uintptr, string) {}
