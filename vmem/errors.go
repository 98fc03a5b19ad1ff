package vmem

import (
	"errors"
	"fmt"

	"github.com/zebra-heap/zebra/internal/units"
)

// Sentinel errors. Every error this package returns wraps one of them (with
// %w), together with what was asked and what was available.
var (
	// ErrInvalidSize is returned when a size is zero, overflows when rounded
	// up to the granularity, or is not a multiple of what an operation needs.
	ErrInvalidSize = errors.New("vmem: invalid size")
	// ErrInvalidAlign is returned when an alignment is not a power of two or
	// exceeds Caps.MaxAlign.
	ErrInvalidAlign = errors.New("vmem: invalid alignment")
	// ErrOutOfRange is returned when Commit or Decommit names addresses
	// outside the reservation.
	ErrOutOfRange = errors.New("vmem: range outside the reservation")
	// ErrReleased is returned by every operation on a reservation that has
	// been released, including a second Release.
	ErrReleased = errors.New("vmem: reservation already released")
	// ErrAddressTaken is returned by Extend when the range next to the
	// reservation is not free.
	ErrAddressTaken = errors.New("vmem: address range not free")
	// ErrNoMemory is returned when the OS refuses (ENOMEM, commit limit,
	// vm.max_map_count reached) or an emulated window has no free block
	// large enough (see NoFitError).
	ErrNoMemory = errors.New("vmem: out of address space or memory")
	// ErrInvalidWindow is returned when a window's layout is impossible:
	// smaller than its granularity, ranges outside it or overlapping.
	ErrInvalidWindow = errors.New("vmem: invalid window")
)

// NoFitError is returned when a window has no free block large enough for a
// request. It wraps ErrNoMemory.
type NoFitError struct {
	Space   string  // the window's name
	Asked   uintptr // bytes requested, after rounding
	Largest uintptr // the largest free block at the time
	Free    uintptr // total free bytes at the time
}

func (e *NoFitError) Error() string {
	return fmt.Sprintf("vmem: %s: no free block of %s (largest free block %s, %s free in all)",
		e.Space, units.Size(e.Asked), units.Size(e.Largest), units.Size(e.Free))
}

func (e *NoFitError) Unwrap() error { return ErrNoMemory }
