package heap

import (
	"errors"
	"fmt"
	"unsafe"
)

// A Ref is a handle to a block: its address and its generation in one
// uint64, with no pointer in it. A Go map or slice of Refs is memory the
// garbage collector does not scan, and code that stores Refs needs no
// unsafe conversion that go vet flags: Heap.Pointer and Heap.Bytes turn a
// Ref back into the block. A Ref remembers which allocation it names:
// once the block is freed (and perhaps handed out again), Pointer, Bytes
// and FreeRef refuse it with ErrStaleRef instead of reaching someone
// else's data, as generational indices do.
//
// The generation is 7 bits for small blocks (the block's state byte,
// advanced by every Free and by Reset) and 16 bits for large and huge ones
// (a counter per heap): a stale Ref is caught unless its block was reused
// exactly 128 times (small) or 65,536 allocations later (large) — a
// safety net, not a proof. A Ref is valid in the heap that made it only.
type Ref uint64

const refAddrBits = 48

func makeRef(p unsafe.Pointer, gen uint16) Ref {
	return Ref(uint64(uintptr(p)) | uint64(gen)<<refAddrBits)
}

func (r Ref) addr() uintptr { return uintptr(uint64(r) & (1<<refAddrBits - 1)) }
func (r Ref) gen() uint16   { return uint16(uint64(r) >> refAddrBits) }

// pointer reads the Ref's address as a pointer, in the form checkptr and
// go vet accept (vmem's pointerAt): only for addresses in a heap's memory,
// off the Go heap.
func (r Ref) pointer() unsafe.Pointer {
	a := r.addr()
	return *(*unsafe.Pointer)(unsafe.Pointer(&a))
}

// spans reports whether addr lies in one of the heap's segments or huge
// blocks.
func (h *Heap) spans(addr uintptr) bool {
	if s := slabOf(addr); s != nil && s.heap == h.id {
		return true
	}
	if seg, _ := h.lookup(addr); seg != nil {
		return true
	}
	if h.lock("pointer") != nil {
		return false
	}
	defer h.unlockHeap()
	for _, hb := range h.huge {
		if hb.res.Range().Contains(addr) {
			return true
		}
	}
	return h.hugeFreed.has(addr, h.cfg.space)
}

// String shows the block's address and generation.
func (r Ref) String() string { return fmt.Sprintf("%#x/gen %d", r.addr(), r.gen()) }

// nextGen returns the next generation for a large or huge block. The
// caller holds the heap's lock.
func (h *Heap) nextGen() uint16 {
	h.gens++
	return h.gens
}

// AllocRef is Alloc returning a Ref.
func (h *Heap) AllocRef(n int) (Ref, error) {
	p, err := h.Alloc(n)
	if err != nil {
		return 0, err
	}
	return h.Ref(p)
}

// Ref returns the handle of the busy block at p.
func (h *Heap) Ref(p unsafe.Pointer) (Ref, error) {
	_, gen, err := h.refBlock("ref", p)
	if err != nil {
		return 0, err
	}
	return makeRef(p, gen), nil
}

// Pointer returns the block r names, or ErrStaleRef if it was freed since
// r was made (ErrInvalidPointer if r never named a block of this heap, or
// names a huge block released long ago, whose range the heap no longer
// remembers).
func (h *Heap) Pointer(r Ref) (unsafe.Pointer, error) {
	if h == nil {
		return nil, nilHeap("pointer")
	}
	// The address becomes a pointer only once it is known to lie in the
	// heap's memory: a Ref forged to an address in Go's heap or stack must
	// not become an unsafe.Pointer the garbage collector may trip on.
	if !h.spans(r.addr()) {
		return nil, fmt.Errorf("heap %q: pointer %v: %w: not in the heap", h.cfg.name, r, ErrInvalidPointer)
	}
	p := r.pointer()
	_, gen, err := h.refBlock("pointer", p)
	if err != nil {
		return nil, err
	}
	if gen != r.gen() {
		return nil, fmt.Errorf("heap %q: pointer %v: %w: the block was freed and handed out again (generation %d)", h.Name(), r, ErrStaleRef, gen)
	}
	return p, nil
}

// Bytes returns the block r names as a byte slice of its usable size
// (Size), or the error Pointer gives.
func (h *Heap) Bytes(r Ref) ([]byte, error) {
	p, err := h.Pointer(r)
	if err != nil {
		return nil, err
	}
	n, err := h.Size(p)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), n), nil
}

// FreeRef frees the block r names, or returns the error Pointer gives: a
// stale Ref frees nothing, even when its address is busy again.
func (h *Heap) FreeRef(r Ref) error {
	p, err := h.Pointer(r)
	if err != nil {
		return err
	}
	return h.Free(p)
}

// refBlock returns the usable size and generation of the busy block at p.
// A block that is not busy is ErrStaleRef, as is one freed and released.
func (h *Heap) refBlock(op string, p unsafe.Pointer) (uintptr, uint16, error) {
	if h == nil {
		return 0, 0, nilHeap(op)
	}
	if h.quar.holds(p) {
		return 0, 0, h.bad(op, p, ErrStaleRef, "the block was freed (it waits in the quarantine)")
	}
	if s, ci, idx, ok := h.slabFor(p); ok {
		st := *s.stateOf(idx)
		if !isBusy(st) {
			return 0, 0, h.bad(op, p, ErrStaleRef, "the %d-byte block is free", ci.size)
		}
		return ci.size, uint16(generation(st)), nil
	}
	if err := h.lock(op); err != nil {
		return 0, 0, err
	}
	defer h.unlockHeap()
	b, err := h.find(op, p)
	switch {
	case err != nil && errors.Is(err, ErrDoubleFree):
		return 0, 0, h.bad(op, p, ErrStaleRef, "the block was freed")
	case err != nil:
		return 0, 0, err
	case b.kind == blockLarge:
		return b.size, b.d.gen, nil
	case b.kind == blockHuge:
		return b.size, b.hb.gen, nil
	}
	return b.size, uint16(generation(*b.slab.stateOf(b.idx))), nil
}
