package vmem

import (
	"errors"
	"fmt"

	"github.com/zebra-heap/zebra/internal/units"
)

// Sentinel errors. Every error this package returns wraps one of them (test
// with errors.Is), together with what was asked and what was available.
//
// The sentinels carry no "vmem:" prefix: the public function that returns an
// error adds it once, with the space and the operation, so a message reads
//
//	vmem: linux: reserve 0 B: invalid size: size is zero
//
// Errors from the OS keep the errno too (errors.Is(err, unix.ENOMEM) holds).
var (
	// ErrInvalidSize is returned when a size is zero, overflows when rounded
	// up to the granularity or added to an address, or is larger than the
	// address space.
	ErrInvalidSize = errors.New("invalid size")
	// ErrInvalidAlign is returned by Reserve when an alignment is not a power
	// of two or exceeds Caps.MaxAlign.
	ErrInvalidAlign = errors.New("invalid alignment")
	// ErrInvalidDirection is returned by Extend for a Direction other than
	// Below and Above.
	ErrInvalidDirection = errors.New("invalid direction")
	// ErrOutOfRange is returned when Commit or Decommit names addresses
	// outside the reservation.
	ErrOutOfRange = errors.New("range outside the reservation")
	// ErrReleased is returned by every operation on a reservation that has
	// been released, including a second Release.
	ErrReleased = errors.New("reservation already released")
	// ErrAddressTaken is returned by Extend when the range next to the
	// reservation is not free, or the space cannot place at an address.
	ErrAddressTaken = errors.New("address range not free")
	// ErrNoMemory is returned when the OS refuses (ENOMEM: out of address
	// space, over the commit limit, or vm.max_map_count mappings reached) or
	// an emulated window has no free block large enough (see NoFitError).
	ErrNoMemory = errors.New("out of memory or address space")
	// ErrInvalidWindow is returned when a window's layout is impossible:
	// smaller than its granularity, ranges outside it or overlapping.
	ErrInvalidWindow = errors.New("invalid window")
)

// NoFitError is returned when a window has no free block large enough for a
// request. It wraps ErrNoMemory. Its message does not repeat the space's
// name, which the operation that returns it already gives.
type NoFitError struct {
	Space   string  // the window's name
	Asked   uintptr // bytes requested, after rounding
	Largest uintptr // the largest free block at the time
	Free    uintptr // total free bytes at the time
}

func (e *NoFitError) Error() string {
	return fmt.Sprintf("no free block of %s (largest free block %s, %s free in all)",
		units.Size(e.Asked), units.Size(e.Largest), units.Size(e.Free))
}

func (e *NoFitError) Unwrap() error { return ErrNoMemory }

// sysError is a refusal by the OS: the call, the range it was about, the
// errno, and the sentinel the errno means (ErrNoMemory for ENOMEM), so that
// both errors.Is(err, ErrNoMemory) and errors.Is(err, unix.ENOMEM) hold
// while the message names each thing once.
type sysError struct {
	call     string  // "mmap", "mprotect", "VirtualAlloc"...
	addr     uintptr // 0 when the OS chooses the address
	size     uintptr
	err      error // the errno
	sentinel error // nil, ErrNoMemory or ErrAddressTaken
	hint     string
}

func (e *sysError) Error() string {
	s := e.call + " "
	if e.addr != 0 {
		s += fmt.Sprintf("%#x-%#x", e.addr, e.addr+e.size)
	} else {
		s += units.Size(e.size)
	}
	s += ": " + e.err.Error()
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

func (e *sysError) Unwrap() []error {
	if e.sentinel != nil {
		return []error{e.sentinel, e.err}
	}
	return []error{e.err}
}
