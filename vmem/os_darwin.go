//go:build darwin

package vmem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

const hostName = "macos"

// XNU searches for free space upwards from the hint (or the bottom of the
// map), so new reservations land above earlier ones.
const topDown = false

// hugePageSize is 0: macOS has no transparent huge pages for ordinary
// anonymous memory (its superpages need mach_vm_allocate with
// VM_FLAGS_SUPERPAGE_SIZE_2MB, on x86-64 only), so Options.HugePages is
// ignored there.
var hugePageSize uintptr

// decommitRange maps fresh anonymous memory over [p, p+n) with MAP_FIXED.
// The old pages go back to the OS at once and the range reads as zero when
// next touched, as after MADV_DONTNEED on Linux. MADV_FREE_REUSABLE, which
// the Go runtime uses, would keep the old contents until the kernel reclaims
// them and would need MADV_FREE_REUSE before reuse, a state this package's
// contract has no place for. The replacement is atomic: no other mapping can
// land in the range in between.
func decommitRange(p unsafe.Pointer, n uintptr) error {
	return remap(p, n, unix.PROT_READ|unix.PROT_WRITE)
}

// placeAt reserves exactly [p, p+n). XNU has no "fixed but do not replace"
// flag, and MAP_FIXED would destroy whatever is there, so p is passed as a
// hint: when the range is free XNU places the mapping exactly there;
// otherwise the mapping it made elsewhere is undone and the range is
// reported as taken.
func placeAt(p unsafe.Pointer, n uintptr) error {
	q, err := unix.MmapPtr(-1, 0, p, n, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return osError("mmap", p, n, err)
	}
	if q != p {
		_ = unix.MunmapPtr(q, n)
		return &sysError{call: "mmap", addr: uintptr(p), size: n, err: ErrAddressTaken,
			hint: "the kernel placed the mapping elsewhere"}
	}
	return nil
}

// uncommitRange only changes the protection: decommitRange has already
// replaced the pages.
func uncommitRange(p unsafe.Pointer, n uintptr) error { return mprotectNone(p, n) }

// adviseHuge does nothing: see hugePageSize.
func adviseHuge(unsafe.Pointer, uintptr) {}

// nameRange does nothing: macOS cannot name anonymous mappings (vmmap shows
// only a numeric VM tag), so the registry is the only attribution.
func nameRange(unsafe.Pointer, uintptr, string) {}
