//go:build linux || darwin || freebsd

package vmem

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hostPrims implements prims with mmap, mprotect and madvise:
//
//	reserve    mmap(PROT_NONE) — no physical memory, no commit charge
//	commit     mprotect(PROT_READ|PROT_WRITE) of the interval's new part
//	uncommit   mprotect(PROT_NONE) at an end of the interval
//	decommit   madvise(decommitAdvice): contents dropped, RSS lowered
//	release    munmap of the whole range
//
// The per-OS files supply decommitAdvice, placeAt (for reserveAt), nameRange
// and the huge-page advice.
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
		TopDown:        true,
	}
}

func bytesAt(p unsafe.Pointer, n uintptr) []byte { return unsafe.Slice((*byte)(p), n) }

// osError wraps an errno with the operation and, for ENOMEM, ErrNoMemory
// and the likely cause.
func osError(op string, p unsafe.Pointer, n uintptr, err error) error {
	if errors.Is(err, unix.ENOMEM) {
		return fmt.Errorf("%s %p+%#x: %w: %w (out of memory, or the process reached vm.max_map_count mappings)",
			op, p, n, ErrNoMemory, err)
	}
	return fmt.Errorf("%s %p+%#x: %w", op, p, n, err)
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
	// Trim the slack so the base is aligned: head and tail go back.
	head := (align - uintptr(p)%align) % align
	if head > 0 {
		if err := unix.MunmapPtr(p, head); err != nil {
			unix.MunmapPtr(p, span)
			return nil, osError("munmap", p, head, err)
		}
	}
	q := unsafe.Add(p, head)
	if tail := span - head - size; tail > 0 {
		if err := unix.MunmapPtr(unsafe.Add(q, size), tail); err != nil {
			unix.MunmapPtr(q, span-head)
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

func (hostPrims) commit(p unsafe.Pointer, n uintptr) error {
	if err := unix.Mprotect(bytesAt(p, n), unix.PROT_READ|unix.PROT_WRITE); err != nil {
		return osError("mprotect", p, n, err)
	}
	return nil
}

func (hostPrims) uncommit(p unsafe.Pointer, n uintptr) error {
	if err := unix.Mprotect(bytesAt(p, n), unix.PROT_NONE); err != nil {
		return osError("mprotect", p, n, err)
	}
	return nil
}

func (hostPrims) decommit(p unsafe.Pointer, n uintptr) error {
	if err := unix.Madvise(bytesAt(p, n), decommitAdvice); err != nil {
		return osError("madvise", p, n, err)
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
