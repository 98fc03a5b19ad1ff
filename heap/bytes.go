package heap

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// Byte and string helpers: []byte and string values whose bytes live in a
// heap. Strings and byte slices are what Go programs hold most, and the
// typed helpers cannot hold them (a string points to its bytes); these
// functions put the bytes themselves in the heap, so a cache can keep a
// million values without the garbage collector scanning one.

// Init says whether MakeBytes clears the memory it returns: a choice made
// at every call, because uninitialised memory is faster but may hold what
// a freed block held.
type Init uint8

const (
	// Zeroed memory reads as zero, like make([]byte, n).
	Zeroed Init = iota
	// Uninitialized memory holds whatever the heap's last use of it left
	// (zero for memory never used, or with Options.Zero): for buffers the
	// caller overwrites whole before reading.
	Uninitialized
)

func (i Init) String() string {
	switch i {
	case Zeroed:
		return "zeroed"
	case Uninitialized:
		return "uninitialized"
	}
	return fmt.Sprintf("Init(%d)", uint8(i))
}

// MakeBytes allocates a []byte of length n and capacity c in h, zeroed or
// not as init says. A capacity of zero returns a nil slice without
// allocating. Free it with FreeBytes; appending past its capacity copies it
// into the Go heap (use Grow).
func MakeBytes(h *Heap, n, c int, init Init) ([]byte, error) {
	if h == nil {
		return nil, nilHeap("make bytes")
	}
	if n < 0 || c < n {
		return nil, fmt.Errorf("heap %q: make bytes len %d cap %d: %w", h.Name(), n, c, ErrInvalidSize)
	}
	var p unsafe.Pointer
	var err error
	switch {
	case init > Uninitialized:
		return nil, fmt.Errorf("heap %q: make bytes: %w: unknown %v", h.Name(), ErrInvalidSize, init)
	case c == 0:
		return nil, nil
	case init == Zeroed:
		p, err = h.Calloc(c, 1)
	default:
		p, err = h.Alloc(c)
	}
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), c)[:n], nil
}

// CloneBytes copies b into h: a slice of the same length and capacity
// whose bytes live in the heap. An empty b returns nil without allocating.
// Free it with FreeBytes.
func CloneBytes(h *Heap, b []byte) ([]byte, error) {
	out, err := MakeBytes(h, len(b), len(b), Uninitialized)
	if err != nil {
		return nil, err
	}
	copy(out, b)
	return out, nil
}

// CloneString copies s into h and returns a string over the copy, which
// Go code uses as any string; it is valid until FreeString, the heap's
// Reset or Destroy (after which reading it reads freed memory, or faults).
// The empty string is returned as is, without allocating.
func CloneString(h *Heap, s string) (string, error) {
	if h == nil {
		return "", nilHeap("clone string")
	}
	if s == "" {
		return "", nil
	}
	p, err := h.Alloc(len(s))
	if err != nil {
		return "", err
	}
	copy(unsafe.Slice((*byte)(p), len(s)), s)
	return unsafe.String((*byte)(p), len(s)), nil
}

// FreeBytes frees a slice made by MakeBytes, CloneBytes, Bytes or
// MakeSlice[byte]; a nil or zero-capacity slice is a no-op. When the
// slice's bytes are in no heap at all, the error says why that usually
// happens: append grew the slice past its capacity and copied it into the
// Go heap, and the heap's block, still allocated, is what to free.
func FreeBytes(h *Heap, b []byte) error {
	if cap(b) == 0 {
		return nil
	}
	return h.freeData("free bytes", unsafe.Pointer(unsafe.SliceData(b)))
}

// FreeString frees a string made by CloneString. The empty string is a
// no-op; a string whose bytes are in no heap (a Go string, or the result
// of concatenating or converting one from the heap) is an error that says
// so.
func FreeString(h *Heap, s string) error {
	if s == "" {
		return nil
	}
	return h.freeData("free string", unsafe.Pointer(unsafe.StringData(s)))
}

// freeData frees the block at p, the data of a slice or string, and
// explains an invalid pointer by where p lies: in no heap (append moved the
// slice, or the value never came from a heap), or in another heap.
func (h *Heap) freeData(op string, p unsafe.Pointer) error {
	if h == nil {
		return nilHeap(op)
	}
	err := h.Free(p)
	if err == nil || !errors.Is(err, ErrInvalidPointer) {
		return err
	}
	switch owner := heapAt(uintptr(p)); owner {
	case "":
		return fmt.Errorf("heap %q: %s %p: %w: its bytes are in no zebra heap: append copies a slice that grows past its capacity into the Go heap (free the block it had, and use Grow to grow inside the heap), and strings made by concatenation or conversion are Go memory",
			h.cfg.name, op, p, ErrInvalidPointer)
	case h.cfg.owner:
		return err
	default:
		return fmt.Errorf("heap %q: %s %p: %w: its bytes belong to heap %q, not to this one", h.cfg.name, op, p, ErrInvalidPointer, owner)
	}
}

// heapAt returns the Owner of the live heap whose memory or bookkeeping
// holds addr, or "" when none does. It reads vmem's registry of
// reservations and the package's list of heaps, and changes neither.
func heapAt(addr uintptr) string {
	in := vmem.Select(func(_, _ string, r vmem.Range) bool { return r.Contains(addr) })
	if len(in) == 0 {
		return ""
	}
	for _, x := range Heaps() {
		for _, r := range in {
			if r.Owner == x.Owner() || r.Owner == MetadataOwner(x.Owner()) {
				return x.Owner()
			}
		}
	}
	return ""
}
