//go:build windows

package vmem

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zebra-heap/zebra/internal/winapi"

	"github.com/zebra-heap/zebra/internal/units"
)

const hostName = "windows"

// hostPrims implements prims with VirtualAlloc and VirtualFree:
//
//	reserve    VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS) — no commit charge
//	reserveAt  the same at an exact address; fails if any of it is in use
//	commit     VirtualAlloc(MEM_COMMIT, PAGE_READWRITE)
//	decommit   VirtualFree(MEM_DECOMMIT): contents dropped, charge returned
//	uncommit   nothing: decommit already returned the commit charge
//	release    VirtualFree(MEM_RELEASE) of every piece
//
// Each VirtualAlloc(MEM_RESERVE) makes an allocation with its own base, and
// Windows can neither merge allocations nor release part of one, so an
// extended reservation is several allocations (its pieces): Commit and
// Decommit are split at their boundaries by Reservation.each, and release
// frees each one.
//
// Large pages (MEM_LARGE_PAGES) are not supported: they need the
// SeLockMemoryPrivilege, which ordinary accounts do not hold, and must be
// committed at reservation time. Caps.HugePageSize is 0, so Options.HugePages
// is ignored.
type hostPrims struct{}

// sysInfo is read once: page size, allocation granularity and the bounds of
// the user address space do not change while a process runs.
var sysInfo = winapi.GetSystemInfo()

var pageSize = uintptr(sysInfo.PageSize)

// hugePageSize is 0: see hostPrims.
const hugePageSize = 0

func (hostPrims) caps() Caps {
	return Caps{
		PageSize:              pageSize,
		Granularity:           uintptr(sysInfo.AllocationGranularity),
		HugePageSize:          hugePageSize,
		MaxAlign:              1 << 30,
		PartialRelease:        false,
		RecommitAfterDecommit: true,
		ExactPlacement:        true,
		TopDown:               false,
		MaxAddress:            sysInfo.MaximumApplicationAddress + 1,
	}
}

// osError wraps a Windows error from call on [addr, addr+n) as a sysError
// (errors.go). Running out of address space or of commit charge also wraps
// ErrNoMemory, with the likely cause as a hint.
func osError(call string, addr, n uintptr, err error) error {
	e := &sysError{call: call, addr: addr, size: n, err: err}
	switch {
	case errors.Is(err, windows.ERROR_NOT_ENOUGH_MEMORY), errors.Is(err, windows.ERROR_OUTOFMEMORY):
		e.sentinel, e.hint = ErrNoMemory, "no free range of that size in the address space"
	case errors.Is(err, windows.ERROR_COMMITMENT_LIMIT), errors.Is(err, windows.ERROR_PAGEFILE_QUOTA):
		e.sentinel, e.hint = ErrNoMemory, "the system commit limit is reached"
	}
	return e
}

// userSpace is the size of the user address space; no reservation larger
// than it can succeed, and Windows reports such sizes as an invalid
// parameter rather than as a lack of memory.
func userSpace() uintptr {
	return sysInfo.MaximumApplicationAddress - sysInfo.MinimumApplicationAddress + 1
}

// alignRetries bounds the attempts of reserve to place an aligned range:
// another thread can take the range between the probe and the reservation.
const alignRetries = 8

func (hostPrims) reserve(size, align uintptr, huge bool) (unsafe.Pointer, error) {
	gran := uintptr(sysInfo.AllocationGranularity)
	span := size
	if align > gran {
		span += align - gran
		if span < size {
			return nil, fmt.Errorf("%w: %s aligned to %#x is larger than the address space",
				ErrInvalidSize, units.Size(size), align)
		}
	}
	if span > userSpace() {
		return nil, fmt.Errorf("VirtualAlloc %s: %w: larger than the user address space (%s)",
			units.Size(span), ErrNoMemory, units.Size(userSpace()))
	}
	if align <= gran {
		// VirtualAlloc places reservations at multiples of the
		// granularity: any base is aligned.
		addr, err := windows.VirtualAlloc(0, size, windows.MEM_RESERVE, windows.PAGE_NOACCESS)
		if err != nil {
			return nil, osError("VirtualAlloc(MEM_RESERVE)", 0, size, err)
		}
		return pointerAt(addr), nil
	}
	// VirtualFree cannot give back the unaligned head and tail of a
	// reservation, so find a range with room for the alignment, release
	// it, and reserve the aligned part of it at its exact address.
	var last error
	for range alignRetries {
		probe, err := windows.VirtualAlloc(0, span, windows.MEM_RESERVE, windows.PAGE_NOACCESS)
		if err != nil {
			return nil, osError("VirtualAlloc(MEM_RESERVE)", 0, span, err)
		}
		at := (probe + align - 1) &^ (align - 1)
		if err := windows.VirtualFree(probe, 0, windows.MEM_RELEASE); err != nil {
			return nil, osError("VirtualFree(MEM_RELEASE)", probe, span, err)
		}
		addr, err := windows.VirtualAlloc(at, size, windows.MEM_RESERVE, windows.PAGE_NOACCESS)
		switch {
		case err == nil && addr == at:
			return pointerAt(addr), nil
		case err == nil: // cannot happen for an aligned address; be safe
			_ = windows.VirtualFree(addr, 0, windows.MEM_RELEASE)
			last = fmt.Errorf("placed at %#x", addr)
		case errors.Is(err, windows.ERROR_INVALID_ADDRESS):
			last = err // another thread took the range: try again
		default:
			return nil, osError("VirtualAlloc(MEM_RESERVE)", at, size, err)
		}
	}
	return nil, fmt.Errorf("VirtualAlloc %s aligned to %#x: %w: other threads took the range %d times, last: %w",
		units.Size(size), align, ErrAddressTaken, alignRetries, last)
}

func (hostPrims) reserveAt(p unsafe.Pointer, size uintptr, huge bool) error {
	at := uintptr(p)
	gran := uintptr(sysInfo.AllocationGranularity)
	if at%gran != 0 || size%gran != 0 {
		// VirtualAlloc would round the address down and reserve a
		// range other than the one asked for.
		return fmt.Errorf("VirtualAlloc %#x-%#x: %w: not a multiple of the granularity %s",
			at, at+size, ErrInvalidAlign, units.Size(gran))
	}
	if at < sysInfo.MinimumApplicationAddress || size == 0 ||
		size-1 > sysInfo.MaximumApplicationAddress-at {
		return fmt.Errorf("VirtualAlloc %#x-%#x: %w: outside the user address space %#x-%#x",
			at, at+size, ErrAddressTaken, sysInfo.MinimumApplicationAddress, sysInfo.MaximumApplicationAddress+1)
	}
	addr, err := windows.VirtualAlloc(at, size, windows.MEM_RESERVE, windows.PAGE_NOACCESS)
	if errors.Is(err, windows.ERROR_INVALID_ADDRESS) {
		// Part of the range is reserved or committed already; nothing
		// was reserved.
		return &sysError{call: "VirtualAlloc(MEM_RESERVE)", addr: at, size: size, err: err,
			sentinel: ErrAddressTaken, hint: "part of the range is in use"}
	}
	if err != nil {
		return osError("VirtualAlloc(MEM_RESERVE)", at, size, err)
	}
	if addr != at {
		_ = windows.VirtualFree(addr, 0, windows.MEM_RELEASE)
		return fmt.Errorf("VirtualAlloc %#x-%#x: %w: placed at %#x", at, at+size, ErrAddressTaken, addr)
	}
	return nil
}

// reserveHint is reserveAt: VirtualAlloc at an address fails rather than
// move, so it serves hints as well as extensions.
func (h hostPrims) reserveHint(p unsafe.Pointer, size uintptr, huge bool) error {
	return h.reserveAt(p, size, huge)
}

func (hostPrims) commit(p unsafe.Pointer, n uintptr) error {
	_, err := windows.VirtualAlloc(uintptr(p), n, windows.MEM_COMMIT, windows.PAGE_READWRITE)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		// Wine commits with mprotect and reports any failure of it,
		// such as Linux refusing to overcommit, as access denied
		// (dlls/ntdll/unix/virtual.c, set_protection). Windows itself
		// has no reason to deny read-write access to pages of our own
		// MEM_RESERVE range, so this can only be a refusal of memory.
		return &sysError{call: "VirtualAlloc(MEM_COMMIT)", addr: uintptr(p), size: n, err: err,
			sentinel: ErrNoMemory, hint: "under Wine: the host refused the memory"}
	}
	if err != nil {
		return osError("VirtualAlloc(MEM_COMMIT)", uintptr(p), n, err)
	}
	return nil
}

// uncommit has nothing to do: on Windows decommit already moved the pages
// back to MEM_RESERVE and returned their commit charge.
func (hostPrims) uncommit(p unsafe.Pointer, n uintptr) error { return nil }

func (hostPrims) decommit(p unsafe.Pointer, n uintptr) error {
	if err := windows.VirtualFree(uintptr(p), n, windows.MEM_DECOMMIT); err != nil {
		return osError("VirtualFree(MEM_DECOMMIT)", uintptr(p), n, err)
	}
	return nil
}

// release frees every piece with VirtualFree(MEM_RELEASE), which takes an
// allocation base and size 0 and frees the whole allocation. It first checks
// with VirtualQuery that each piece is still a live allocation based where
// the reservation thinks: releasing a stale base could free another owner's
// memory, and stopping after some pieces would leave a reservation that
// cannot be released again. The check makes a refusal all-or-nothing.
func (hostPrims) release(p unsafe.Pointer, pieces []Range) error {
	for _, pc := range pieces {
		var mbi windows.MemoryBasicInformation
		if err := windows.VirtualQuery(pc.Base, &mbi, unsafe.Sizeof(mbi)); err != nil {
			return osError("VirtualQuery", pc.Base, pc.Size, err)
		}
		if mbi.State == winapi.MemFree || mbi.AllocationBase != pc.Base {
			return fmt.Errorf("VirtualFree(MEM_RELEASE) %v: %w: the piece is not a live allocation (state %#x, allocation base %#x)",
				pc, ErrReleased, mbi.State, mbi.AllocationBase)
		}
	}
	var errs []error
	for _, pc := range pieces {
		if err := windows.VirtualFree(pc.Base, 0, windows.MEM_RELEASE); err != nil {
			errs = append(errs, osError("VirtualFree(MEM_RELEASE)", pc.Base, pc.Size, err))
		}
	}
	return errors.Join(errs...)
}

// name does nothing: Windows has no way to label a range of virtual memory.
// Maps attribute regions through the registry (Live) instead.
func (hostPrims) name(p unsafe.Pointer, n uintptr, owner string) {}
