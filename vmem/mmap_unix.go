//go:build linux || darwin || freebsd

package vmem

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hostPrims implements prims with mmap, mprotect and madvise, the same on
// Linux, macOS and FreeBSD:
//
//	reserve    mmap(PROT_NONE): no physical memory, no commit charge;
//	           aligned by over-reserving and trimming head and tail
//	reserveAt  placeAt (per OS): exactly there, or ErrAddressTaken
//	commit     mprotect(PROT_READ|PROT_WRITE) of the interval's new part
//	uncommit   per OS (uncommitRange), at an end of the interval: back
//	           to PROT_NONE
//	decommit   per OS (decommitRange): contents dropped, RSS lowered
//	release    one munmap of the whole range
//
// The per-OS files (os_linux.go, os_darwin.go, os_freebsd.go) supply
// hostName, topDown, hugePageSize, placeAt, decommitRange, uncommitRange,
// adviseHuge and nameRange.
type hostPrims struct{}

var pageSize = uintptr(unix.Getpagesize())

func (hostPrims) caps() Caps {
	return Caps{
		PageSize:       pageSize,
		Granularity:    pageSize,
		HugePageSize:   hugePageSize,
		MaxAlign:       1 << 30,
		PartialRelease: true,
		ExactPlacement: true,
		TopDown:        topDown,
		MaxAddress:     unixMaxAddress,
	}
}

// unixMaxAddress is the top of the user address space in the usual layout
// (see Caps.MaxAddress): 2^47 with 64-bit pointers, the 3 GiB split with
// 32-bit ones. It is chosen by word size so one file serves every
// architecture.
var unixMaxAddress = func() uintptr {
	if unsafe.Sizeof(uintptr(0)) == 4 {
		return 3 << 30
	}
	top := uint64(1) << 47 // a variable: the constant overflows 32-bit uintptr
	return uintptr(top)
}()

func bytesAt(p unsafe.Pointer, n uintptr) []byte { return unsafe.Slice((*byte)(p), n) }

// enomemHint says what ENOMEM usually means, since the errno alone
// ("cannot allocate memory") sends people looking at free RAM.
const enomemHint = "out of address space or over the commit limit, or the process has reached its limit of mappings (vm.max_map_count on Linux)"

// osError wraps an errno from call on [p, p+n) as a sysError; ENOMEM also
// wraps ErrNoMemory.
func osError(call string, p unsafe.Pointer, n uintptr, err error) error {
	e := &sysError{call: call, addr: uintptr(p), size: n, err: err}
	if errors.Is(err, unix.ENOMEM) {
		e.sentinel, e.hint = ErrNoMemory, enomemHint
	}
	return e
}

func (hostPrims) reserve(size, align uintptr, huge bool) (unsafe.Pointer, error) {
	span := size
	if align > pageSize {
		span += align - pageSize
		if span < size {
			return nil, fmt.Errorf("%w: %d bytes aligned to %#x overflows", ErrInvalidSize, size, align)
		}
	}
	p, err := unix.MmapPtr(-1, 0, nil, span, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, osError("mmap", nil, span, err)
	}
	// Trim the slack so the base is aligned: head and tail go back. Cutting
	// the ends of a mapping never splits it, so neither munmap can fail for
	// lack of mappings; if one fails anyway, nothing is left behind.
	head := (align - uintptr(p)%align) % align
	if head > 0 {
		if err := unix.MunmapPtr(p, head); err != nil {
			_ = unix.MunmapPtr(p, span)
			return nil, osError("munmap", p, head, err)
		}
	}
	q := unsafe.Add(p, head)
	if tail := span - head - size; tail > 0 {
		if err := unix.MunmapPtr(unsafe.Add(q, size), tail); err != nil {
			_ = unix.MunmapPtr(q, span-head)
			return nil, osError("munmap", unsafe.Add(q, size), tail, err)
		}
	}
	if huge {
		adviseHuge(q, size)
	}
	return q, nil
}

func (hostPrims) reserveAt(p unsafe.Pointer, size uintptr, huge bool) error {
	if err := placeAt(p, size); err != nil {
		return err
	}
	if huge {
		adviseHuge(p, size)
	}
	return nil
}

// reserveHint is reserveAt: the host's exact placement never moves a
// mapping onto one in use, so it serves hints as well as extensions.
func (h hostPrims) reserveHint(p unsafe.Pointer, size uintptr, huge bool) error {
	return h.reserveAt(p, size, huge)
}

func (hostPrims) commit(p unsafe.Pointer, n uintptr) error {
	if err := unix.Mprotect(bytesAt(p, n), unix.PROT_READ|unix.PROT_WRITE); err != nil {
		return osError("mprotect", p, n, err)
	}
	return nil
}

func (hostPrims) uncommit(p unsafe.Pointer, n uintptr) error { return uncommitRange(p, n) }

// mprotectNone is uncommitRange where a protection change is enough.
func mprotectNone(p unsafe.Pointer, n uintptr) error {
	if err := unix.Mprotect(bytesAt(p, n), unix.PROT_NONE); err != nil {
		return osError("mprotect", p, n, err)
	}
	return nil
}

func (hostPrims) decommit(p unsafe.Pointer, n uintptr) error { return decommitRange(p, n) }

// remap maps fresh anonymous memory with protection prot over [p, p+n) with
// MAP_FIXED: atomically, the old pages go back to the OS, the range reads as
// zero when next touched and no other mapping can land in it in between.
func remap(p unsafe.Pointer, n uintptr, prot int) error {
	q, err := unix.MmapPtr(-1, 0, p, n, prot, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED)
	if err != nil {
		return osError("mmap MAP_FIXED", p, n, err)
	}
	if q != p { // MAP_FIXED never moves; this would be a kernel bug
		_ = unix.MunmapPtr(q, n)
		return &sysError{call: "mmap MAP_FIXED", addr: uintptr(p), size: n, err: unix.EINVAL,
			hint: "the kernel placed the replacement elsewhere"}
	}
	return nil
}

func (hostPrims) release(p unsafe.Pointer, pieces []Range) error {
	// The pieces are contiguous; one munmap releases them all without
	// splitting anything, so it cannot hit the mapping limit.
	n := pieces[len(pieces)-1].End() - pieces[0].Base
	if err := unix.MunmapPtr(p, n); err != nil {
		return osError("munmap", p, n, err)
	}
	return nil
}

func (hostPrims) name(p unsafe.Pointer, n uintptr, owner string) { nameRange(p, n, owner) }
