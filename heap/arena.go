package heap

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// Arena is a bump allocator inside a heap: it takes chunks from the heap
// with Heap.Alloc and hands out objects by moving an offset through the
// current chunk, so an allocation is a few instructions and no lock, and
// every object is freed at once by Reset or Free. It suits memory whose
// lifetime is one unit of work, such as a request: allocate freely while
// serving it, then Reset.
//
// Objects are 16-byte aligned and take a multiple of 16 bytes (AllocAligned
// asks for more). Chunks start at ArenaOptions.Chunk bytes and double with
// each new chunk up to ArenaOptions.MaxChunk; a request that does not fit
// the current chunk's room and is larger than a quarter of the next chunk
// gets a block of its own, so a large object never wastes the rest of a
// chunk. The chunks are ordinary busy blocks of
// the heap: its Stats count them in InUse and Blocks, and the arena's own
// Stats say how much of them the arena has handed out.
//
// An Arena is for one goroutine at a time, like the bump allocators it
// replaces: calls must not overlap (the heap under it may still be shared).
// Objects are not tracked one by one, so the heap's debug modes check the
// chunks' bounds, not the objects'. As the rules of off-heap memory say
// (see the package documentation), objects dangle after Reset, Free, and
// the heap's Reset or Destroy; an arena notices a Reset of its heap (its
// chunks are gone with every other block) and starts again empty.
type Arena struct {
	// The fast path reads cur, off, end, zero, epoch and h only.
	cur      unsafe.Pointer // the current chunk
	off, end uintptr        // the next free byte and the end, as offsets in cur
	h        *Heap
	epoch    uint64 // h.epoch when the chunks were taken: a Reset of h frees them
	zero     bool   // the heap's Options.Zero

	chunks []arenaChunk // regular chunks, the current one last
	big    []arenaChunk // blocks of their own, freed by Reset
	next   uintptr      // the size of the next regular chunk
	max    uintptr      // MaxChunk
	spent  uintptr      // bytes handed out from regular chunks before the current one
	bigUse uintptr      // bytes handed out as blocks of their own
	allocs uint64
	resets uint64
	freed  bool
	name   string // for errors after Free
}

type arenaChunk struct {
	p    unsafe.Pointer
	size uintptr
}

// ArenaOptions size an arena's chunks. The zero value starts at 64 KiB and
// doubles up to 4 MiB.
type ArenaOptions struct {
	// Chunk is the size of the first chunk; 64 KiB when 0. A per-request
	// arena whose requests fit one chunk takes no memory from the heap
	// after its first request.
	Chunk int
	// MaxChunk caps the doubling; 4 MiB when 0, and never below Chunk.
	MaxChunk int
}

const (
	arenaChunk0   = 64 << 10
	arenaMaxChunk = 4 << 20
	arenaAlign    = minAlign // every object's alignment and size granule
)

// NewArena makes an arena in h. It takes its first chunk at once, so that a
// heap that cannot serve it fails here, not at the first object.
func NewArena(h *Heap, o ArenaOptions) (*Arena, error) {
	if h == nil {
		return nil, nilHeap("new arena")
	}
	if o.Chunk < 0 || o.MaxChunk < 0 {
		return nil, fmt.Errorf("heap %q: new arena: %w: ArenaOptions.Chunk (%d) or MaxChunk (%d) is negative",
			h.Name(), ErrInvalidSize, o.Chunk, o.MaxChunk)
	}
	first, most := uintptr(o.Chunk), uintptr(o.MaxChunk)
	if first == 0 {
		first = arenaChunk0
	}
	if most == 0 {
		most = max(arenaMaxChunk, first)
	}
	if most < first {
		return nil, fmt.Errorf("heap %q: new arena: %w: ArenaOptions.MaxChunk (%s) is below Chunk (%s)",
			h.Name(), ErrInvalidSize, sizeText(uint64(most)), sizeText(uint64(first)))
	}
	if first > h.limit() {
		return nil, fmt.Errorf("heap %q: new arena: chunk of %s: %w", h.Name(), sizeText(uint64(first)), ErrTooLarge)
	}
	a := &Arena{h: h, next: roundUp(first, arenaAlign), max: roundUp(most, arenaAlign), name: h.Name(), zero: h.cfg.zero}
	a.epoch = h.epoch.Load()
	if err := a.newChunk("new arena", 0); err != nil {
		return nil, err
	}
	return a, nil
}

// roundUp rounds n up to a multiple of the power of two a; it wraps to 0
// for n within a of the top of uintptr, which callers rule out.
func roundUp(n, a uintptr) uintptr { return (n + a - 1) &^ (a - 1) }

// Alloc returns n bytes from the arena, 16-byte aligned. The memory is not
// zeroed unless the heap's Options.Zero is set (a chunk reused after Reset
// holds what the last request left). Alloc(0) returns a unique pointer.
func (a *Arena) Alloc(n int) (unsafe.Pointer, error) {
	// The fast path: off, end and every size are multiples of 16, so a
	// bump needs no alignment. A heap that zeroes takes the slow path.
	if a != nil && n > 0 && !a.zero {
		if size := (uintptr(n) + arenaAlign - 1) &^ (arenaAlign - 1); size <= a.end-a.off &&
			a.h.state.Load() == stateOK && a.h.epoch.Load() == a.epoch {
			p := unsafe.Add(a.cur, a.off)
			a.off += size
			a.allocs++
			return p, nil
		}
	}
	return a.alloc(n)
}

// alloc is Alloc's slow path.
func (a *Arena) alloc(n int) (unsafe.Pointer, error) {
	return a.slow("alloc", n, arenaAlign, a != nil && a.zero)
}

// AllocAligned returns n bytes aligned to align, a power of two up to
// 1 GiB. Alignments above 16 bytes may leave a gap before the object.
func (a *Arena) AllocAligned(n, align int) (unsafe.Pointer, error) {
	if align <= 0 || align&(align-1) != 0 || align > maxAlign {
		if a == nil {
			return nil, nilArena("alloc")
		}
		return nil, fmt.Errorf("heap %q: arena alloc %d bytes aligned to %d: %w: alignment must be a power of two up to 1 GiB",
			a.name, n, align, ErrInvalidSize)
	}
	return a.slow("alloc", n, max(uintptr(align), arenaAlign), a != nil && a.zero)
}

// nilArena is the error of op on a nil *Arena.
func nilArena(op string) error { return fmt.Errorf("arena %s: %w", op, ErrNilArena) }

// slow serves every request the fast path does not: bad input, a freed
// arena or heap, a Reset of the heap, alignments above 16 bytes, and the
// requests that need a new chunk or a block of their own.
func (a *Arena) slow(op string, n int, align uintptr, zero bool) (unsafe.Pointer, error) {
	if err := a.usable(op); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("heap %q: arena %s %d bytes: %w: negative", a.name, op, n, ErrInvalidSize)
	}
	if uintptr(n) > a.h.limit() {
		return nil, fmt.Errorf("heap %q: arena %s %s: %w", a.name, op, sizeText(uint64(n)), ErrTooLarge)
	}
	size := max(roundUp(uintptr(n), arenaAlign), arenaAlign)
	gap := a.gap(align)
	fits := a.cur != nil && gap <= a.end-a.off && size <= a.end-a.off-gap
	var p unsafe.Pointer
	switch {
	case !fits && size+align-arenaAlign > a.next/4:
		// Large: a block of its own, which Reset frees.
		q, err := a.h.AllocAligned(int(size), int(align))
		if err != nil {
			return nil, fmt.Errorf("arena %s: %w", op, err)
		}
		a.big = append(a.big, arenaChunk{q, size})
		a.bigUse += size
		p = q
	default:
		if !fits {
			if err := a.newChunk(op, size+align-arenaAlign); err != nil {
				return nil, err
			}
			gap = a.gap(align)
		}
		p = unsafe.Add(a.cur, a.off+gap)
		a.off += gap + size
	}
	a.allocs++
	if zero {
		clear(unsafe.Slice((*byte)(p), n))
	}
	return p, nil
}

// gap is the padding that aligns the current chunk's next free byte to
// align.
func (a *Arena) gap(align uintptr) uintptr {
	return -(uintptr(a.cur) + a.off) & (align - 1)
}

// usable returns why the arena cannot serve op now, or nil. It notices a
// Reset of the heap: the heap freed the chunks with every other block, so
// the arena forgets them and starts again empty.
func (a *Arena) usable(op string) error {
	switch {
	case a == nil:
		return nilArena(op)
	case a.freed:
		return fmt.Errorf("heap %q: arena %s: %w", a.name, op, ErrArenaFreed)
	}
	if a.h.state.Load() != stateOK {
		return a.h.stateErr("arena " + op)
	}
	a.resync()
	return nil
}

// resync forgets the chunks when the heap was Reset since the arena took
// them.
func (a *Arena) resync() {
	if e := a.h.epoch.Load(); e != a.epoch {
		a.forget()
		a.epoch = e
	}
}

// forget drops every chunk without freeing it: the heap's Reset did.
func (a *Arena) forget() {
	a.chunks, a.big = a.chunks[:0], a.big[:0]
	a.cur, a.off, a.end = nil, 0, 0
	a.spent, a.bigUse = 0, 0
}

// newChunk takes a regular chunk of at least need bytes from the heap and
// makes it current. Chunks double up to max; a need above the next size
// takes a chunk of its size.
func (a *Arena) newChunk(op string, need uintptr) error {
	size := max(a.next, roundUp(need, arenaAlign))
	p, err := a.h.Alloc(int(size))
	if err != nil {
		return fmt.Errorf("arena %s: %w", op, err)
	}
	if a.cur != nil {
		a.spent += a.off
	}
	a.chunks = append(a.chunks, arenaChunk{p, size})
	a.cur, a.off, a.end = p, 0, size
	if a.next < a.max {
		a.next = min(2*a.next, a.max)
	}
	return nil
}

// Reset frees every object of the arena at once. It keeps the largest
// chunk for the next round and gives the others, and every block of its
// own, back to the heap: an arena that serves similar requests stops
// taking memory from the heap after the first. Objects dangle afterwards.
func (a *Arena) Reset() error {
	if err := a.usable("reset"); err != nil {
		return err
	}
	keep := -1
	for i, c := range a.chunks {
		if keep < 0 || c.size > a.chunks[keep].size {
			keep = i
		}
	}
	var errs []error
	for i, c := range a.chunks {
		if i != keep {
			errs = a.give(errs, c)
		}
	}
	for _, c := range a.big {
		errs = a.give(errs, c)
	}
	var kept arenaChunk
	if keep >= 0 {
		kept = a.chunks[keep]
	}
	a.forget()
	if kept.p != nil {
		a.chunks = append(a.chunks, kept)
		a.cur, a.end = kept.p, kept.size
	}
	a.resets++
	if len(errs) > 0 {
		return fmt.Errorf("heap %q: arena reset: %w", a.name, errs[0])
	}
	return nil
}

// give frees a chunk to the heap, collecting the error.
func (a *Arena) give(errs []error, c arenaChunk) []error {
	if err := a.h.Free(c.p); err != nil {
		return append(errs, err)
	}
	return errs
}

// Free gives every chunk back to the heap; the arena is unusable
// afterwards (ErrArenaFreed), and a second Free says so. After the heap's
// Reset there is nothing to give back; after its Destroy, Free marks the
// arena freed and returns ErrDestroyed.
func (a *Arena) Free() error {
	if a == nil {
		return nilArena("free")
	}
	if a.freed {
		return fmt.Errorf("heap %q: arena free: %w", a.name, ErrArenaFreed)
	}
	err := a.usable("free")
	if err == nil {
		var errs []error
		for _, c := range a.chunks {
			errs = a.give(errs, c)
		}
		for _, c := range a.big {
			errs = a.give(errs, c)
		}
		if len(errs) > 0 {
			err = fmt.Errorf("heap %q: arena free: %w", a.name, errs[0])
		}
	}
	a.forget()
	a.chunks, a.big = nil, nil
	a.freed = true
	return err
}

// ArenaStats describe an arena at one moment.
type ArenaStats struct {
	// Chunks counts the regular chunks, Big the blocks of their own; Reserved
	// is the bytes of both, taken from the heap (which counts them in its
	// InUse).
	Chunks, Big int
	Reserved    uint64
	// Used is what the arena handed out since its last Reset, alignment
	// included; Reserved - Used is the chunks' unused tails and room.
	Used uint64
	// Allocs counts the objects handed out, Resets the Resets, since the
	// arena was made.
	Allocs, Resets uint64
}

// Stats reports the arena's figures. A nil arena reports zeros; a freed
// one, or one whose heap is destroyed, only its counters.
func (a *Arena) Stats() ArenaStats {
	if a == nil {
		return ArenaStats{}
	}
	switch {
	case a.freed:
	case a.h.state.Load() == stateOK:
		a.resync()
	default:
		a.forget() // the heap is destroyed or broken: its chunks are gone
	}
	st := ArenaStats{Chunks: len(a.chunks), Big: len(a.big), Allocs: a.allocs, Resets: a.resets}
	for _, c := range a.chunks {
		st.Reserved += uint64(c.size)
	}
	for _, c := range a.big {
		st.Reserved += uint64(c.size)
	}
	st.Used = uint64(a.spent + a.off + a.bigUse)
	return st
}

// ArenaNew allocates a zeroed T in a, like new(T). T must be pointer-free
// (see NewOf).
func ArenaNew[T any](a *Arena) (*T, error) {
	if err := checkType[T](); err != nil {
		return nil, fmt.Errorf("arena new %T: %w", *new(T), err)
	}
	var zero T
	p, err := a.typed(unsafe.Sizeof(zero), unsafe.Alignof(zero))
	if err != nil {
		return nil, err
	}
	return (*T)(p), nil
}

// ArenaMakeSlice allocates a zeroed slice of length n and capacity c in a,
// like make([]T, n, c). T must be pointer-free. It is freed with the
// arena; append past its capacity moves it to the Go heap. A capacity of
// zero returns a nil slice.
func ArenaMakeSlice[T any](a *Arena, n, c int) ([]T, error) {
	if err := checkType[T](); err != nil {
		return nil, fmt.Errorf("arena make slice: %w", err)
	}
	if n < 0 || c < n {
		return nil, fmt.Errorf("arena make slice len %d cap %d: %w", n, c, ErrInvalidSize)
	}
	if c == 0 {
		return nil, nil
	}
	var zero T
	size := unsafe.Sizeof(zero)
	hi, lo := bits.Mul(uint(c), uint(size))
	if hi != 0 || lo > uint(maxSize) {
		return nil, fmt.Errorf("arena make slice of %d × %d bytes: %w: overflows", c, size, ErrInvalidSize)
	}
	p, err := a.typed(uintptr(lo), unsafe.Alignof(zero))
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*T)(p), c)[:n], nil
}

// typed serves the typed helpers: size bytes, zeroed, with T's alignment.
func (a *Arena) typed(size, align uintptr) (unsafe.Pointer, error) {
	var p unsafe.Pointer
	var err error
	if align <= arenaAlign {
		p, err = a.Alloc(int(size))
	} else {
		p, err = a.AllocAligned(int(size), int(align))
	}
	if err == nil && !a.zero {
		clear(unsafe.Slice((*byte)(p), size))
	}
	return p, err
}
