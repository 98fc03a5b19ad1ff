package heap

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"unsafe"
)

// Debug modes (Options.Debug): checks a test suite switches on to turn
// memory bugs in the caller into errors that name the block. They live in
// the exported methods, around the allocator proper, so with every mode off
// the fast path pays one predictable branch.
//
//   - DebugTail puts a canary after each block: the bytes from the size
//     asked to the end of the usable block, at least one, hold a pattern,
//     and the last eight hold the size asked (keyed with the address).
//     Free, Realloc, Size and Validate check it, so a one-byte overrun is
//     reported with the block's address and size. Size then returns the
//     size asked, not the size class. Cost: 9 bytes more per block (often
//     the next size class) and a pass over the tail at each call.
//   - DebugFree fills each freed block with a pattern (the first word
//     records the block and its size) and checks it when the block is
//     handed out again and, for quarantined blocks, at Validate: a write
//     after free is reported with the block's address (by the Alloc that
//     met it, which fails; the block is retired, never handed out again). Blocks of pages
//     (over 16 KiB) are filled but checked only while quarantined, since
//     their pages may be merged and split before reuse. Cost: a write of
//     every freed byte and a read at reuse.
//   - DebugQuarantine keeps freed blocks from reuse, first in first out,
//     until QuarantineBytes of them wait (16 MiB by default): a stale
//     second Free of a quarantined block is ErrDoubleFree even though the
//     block would otherwise have been handed out again. Cost: that much
//     memory held, and a Go map entry per waiting block.
//   - DebugCallers records where each block was allocated (the first
//     caller outside this package), so that Leaks groups what is still
//     allocated by call site. Cost: a stack walk and a Go map entry per
//     allocation.
//
// DebugEnv (ZEBRA_DEBUG) switches modes on for every heap the process
// creates, like GODEBUG: "all", or a comma-separated list of "tail",
// "free", "quarantine" and "callers".
type Debug uint8

const (
	DebugTail Debug = 1 << iota
	DebugFree
	DebugQuarantine
	DebugCallers
	// DebugAll is every mode that checks: tail, free and quarantine.
	// DebugCallers, which reports, is left out: its map grows the Go heap
	// with every live block.
	DebugAll = DebugTail | DebugFree | DebugQuarantine
)

// DebugEnv is the environment variable New reads debug modes from, added to
// Options.Debug.
const DebugEnv = "ZEBRA_DEBUG"

// defaultQuarantine is the quarantine's budget when QuarantineBytes is 0.
const defaultQuarantine = 16 << 20

var debugNames = []struct {
	name string
	d    Debug
}{{"tail", DebugTail}, {"free", DebugFree}, {"quarantine", DebugQuarantine}, {"callers", DebugCallers}}

func (d Debug) String() string {
	if d == 0 {
		return "off"
	}
	var parts []string
	for _, n := range debugNames {
		if d&n.d != 0 {
			parts = append(parts, n.name)
			d &^= n.d
		}
	}
	if d != 0 {
		parts = append(parts, fmt.Sprintf("Debug(%#x)", uint8(d)))
	}
	return strings.Join(parts, ",")
}

// ParseDebug reads modes as DebugEnv holds them: "all", "off" or "", or a
// comma-separated list of "tail", "free", "quarantine" and "callers".
func ParseDebug(s string) (Debug, error) {
	var d Debug
	for _, f := range strings.Split(s, ",") {
		switch f = strings.TrimSpace(f); f {
		case "", "off":
			continue
		case "all":
			d |= DebugAll
			continue
		}
		found := false
		for _, n := range debugNames {
			if f == n.name {
				d |= n.d
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("%w: unknown debug mode %q (want all, off, tail, free, quarantine or callers)", ErrInvalidSize, f)
		}
	}
	return d, nil
}

// debugFromEnv returns the modes DebugEnv asks for.
func debugFromEnv() (Debug, error) {
	d, err := ParseDebug(os.Getenv(DebugEnv))
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", DebugEnv, os.Getenv(DebugEnv), err)
	}
	return d, nil
}

// ErrOverrun is returned when a block's tail canary (DebugTail) was
// overwritten: something wrote past the size it asked for.
var ErrOverrun = errors.New("heap: write past the end of a block")

// ErrWriteAfterFree is returned when a freed block's fill (DebugFree) was
// changed: something wrote into the block after Free.
var ErrWriteAfterFree = errors.New("heap: write after free")

const (
	tailByte  = 0xFD
	freeByte  = 0xDF
	tailExtra = 9 // one canary byte at least, and the size word
	debugKey  = 0x7A6562726164BB67
)

// sizeWord is the word that records size n of the block at p: keyed with
// the address, so that a block's word copied elsewhere does not decode.
func sizeWord(p unsafe.Pointer, n uintptr) uint64 {
	return uint64(n) ^ debugKey ^ uint64(uintptr(p))*0x9E3779B97F4A7C15
}

func wordAt(p unsafe.Pointer, off uintptr) *uint64 { return (*uint64)(unsafe.Add(p, off)) }

func bytesOf(p unsafe.Pointer, n uintptr) []byte { return unsafe.Slice((*byte)(p), n) }

// fillByte sets every byte of b to c, by doubling copies (a byte loop costs
// ten times more on a 16 KiB block).
func fillByte(b []byte, c byte) {
	if len(b) == 0 {
		return
	}
	b[0] = c
	for j := 1; j < len(b); j *= 2 {
		copy(b[j:], b[:j])
	}
}

// patterns holds a page of each pattern byte for firstNot.
var patterns = map[byte]*[4096]byte{tailByte: {}, freeByte: {}}

func init() {
	for c, p := range patterns {
		fillByte(p[:], c)
	}
}

// firstNot returns the index of the first byte of b that is not c (a
// pattern byte), or -1: page by page with bytes.Equal, then byte by byte
// inside the page that differs.
func firstNot(b []byte, c byte) int {
	pat := patterns[c][:]
	for off := 0; off < len(b); off += len(pat) {
		chunk := b[off:min(off+len(pat), len(b))]
		if bytes.Equal(chunk, pat[:len(chunk)]) {
			continue
		}
		for i, x := range chunk {
			if x != c {
				return off + i
			}
		}
	}
	return -1
}

// writeTail writes the canary of block p (usable size u) asked n bytes.
func writeTail(p unsafe.Pointer, n, u uintptr) {
	fillByte(bytesOf(p, u-8)[n:], tailByte)
	*wordAt(p, u-8) = sizeWord(p, n)
}

// checkTail returns the size block p (usable size u) was asked for, or the
// overrun that broke its canary.
func (h *Heap) checkTail(op string, p unsafe.Pointer, u uintptr) (uintptr, error) {
	if u < tailExtra {
		return 0, h.bad(op, p, ErrOverrun, "block of %d bytes has no room for a canary", u)
	}
	n := uintptr(*wordAt(p, u-8) ^ debugKey ^ uint64(uintptr(p))*0x9E3779B97F4A7C15)
	if n > u-tailExtra {
		return 0, h.bad(op, p, ErrOverrun, "the size word at the end of the block (%d usable bytes) was overwritten", u)
	}
	b := bytesOf(p, u-8)[n:]
	if i := firstNot(b, tailByte); i >= 0 {
		return 0, h.bad(op, p, ErrOverrun, "block of %d bytes: byte %d past its end is %#x", n, i, b[i])
	}
	return n, nil
}

// fillFreed writes the free pattern over block p of usable size u, its
// first two words recording the block, its size and the heap's epoch (the
// second is the first inverted: user data that decodes as a record is a
// 2^-64 chance; Reset starts a new epoch, so records it left behind in
// unfilled memory are stale).
func (h *Heap) fillFreed(p unsafe.Pointer, u uintptr) {
	fillByte(bytesOf(p, u), freeByte)
	if u >= 16 {
		w := sizeWord(p, u) ^ h.epoch.Load()
		*wordAt(p, 0) = w
		*wordAt(p, 8) = ^w
	}
}

// checkFreed reports a write into block p (usable size u) since fillFreed
// filled it as a block of the same address and size. Anything else passes:
// fresh memory, a block freed before the mode was on or in an earlier
// epoch, and the same address filled as a block of another size, whose
// bytes other blocks may have used since.
func (h *Heap) checkFreed(op string, p unsafe.Pointer, u uintptr) error {
	w := sizeWord(p, u) ^ h.epoch.Load()
	if u < 16 || *wordAt(p, 0) != w || *wordAt(p, 8) != ^w {
		return nil
	}
	b := bytesOf(p, u)
	if i := firstNot(b[16:], freeByte); i >= 0 {
		return h.bad(op, p, ErrWriteAfterFree, "byte %d of the freed block (%d bytes) is %#x", 16+i, u, b[16+i])
	}
	return nil
}

// quarantine holds freed blocks back from reuse (DebugQuarantine). It is
// on the Go heap: a debugging aid, not the allocator.
type quarantine struct {
	mu     sync.Mutex
	fifo   []quarantined
	head   int
	held   map[uintptr]bool
	bytes  uintptr
	budget uintptr
}

type quarantined struct {
	p unsafe.Pointer
	u uintptr
}

// debugAlloc is Alloc, Calloc and AllocAligned with debug modes on.
// debugEnter counts a call of the debug modes, which read and write block
// memory outside the heap's locks and caches (fills, canaries), so that
// Destroy waits for it before it releases that memory; once the heap is
// destroyed it fails instead. debugLeave ends what it began.
func (h *Heap) debugEnter(op string) error {
	h.debugCalls.Add(1)
	if h.state.Load() == stateDestroyed {
		h.debugCalls.Add(-1)
		return h.stateErr(op)
	}
	return nil
}

func (h *Heap) debugLeave() { h.debugCalls.Add(-1) }

func (h *Heap) debugAlloc(op string, n, align uintptr, zero bool) (unsafe.Pointer, error) {
	if err := h.debugEnter(op); err != nil {
		return nil, err
	}
	defer h.debugLeave()
	want := n
	if h.cfg.debug&DebugTail != 0 {
		want += tailExtra
	}
	p, err := h.allocate(op, want, align, zero)
	if err != nil {
		return nil, err
	}
	u, err := h.size(op, p)
	if err != nil {
		return nil, err
	}
	// Only small blocks are checked at reuse: the pages of a large one
	// may have been merged, split and used by other blocks meanwhile.
	if h.cfg.debug&DebugFree != 0 && !zero && uintptr(u) <= h.smallLimit {
		if err := h.checkFreed(op, p, uintptr(u)); err != nil {
			// Retired: handed out no more, so it is reported once.
			return nil, err
		}
	}
	if h.cfg.debug&DebugTail != 0 {
		writeTail(p, n, uintptr(u))
	}
	if h.cfg.debug&DebugCallers != 0 {
		h.callers.note(p)
	}
	return p, nil
}

// debugCheck checks block p before Free, Realloc or Size: it is not
// quarantined, and its canary holds. It returns the size asked (with
// DebugTail) or the usable size.
func (h *Heap) debugCheck(op string, p unsafe.Pointer) (asked, usable uintptr, err error) {
	if q := h.quar; q != nil {
		q.mu.Lock()
		held := q.held[uintptr(p)]
		q.mu.Unlock()
		if held {
			return 0, 0, h.bad(op, p, ErrDoubleFree, "the block was freed and waits in the quarantine")
		}
	}
	u, err := h.size(op, p)
	if err != nil {
		return 0, 0, err
	}
	if h.cfg.debug&DebugTail == 0 {
		return uintptr(u), uintptr(u), nil
	}
	n, err := h.checkTail(op, p, uintptr(u))
	return n, uintptr(u), err
}

// debugFree is Free with debug modes on.
func (h *Heap) debugFree(p unsafe.Pointer) error {
	if err := h.debugEnter("free"); err != nil {
		return err
	}
	defer h.debugLeave()
	_, u, err := h.debugCheck("free", p)
	if err != nil {
		return err
	}
	if h.tagUse != nil {
		h.untag(p) // now: the block may wait in the quarantine
	}
	if h.cfg.debug&DebugCallers != 0 {
		h.callers.forget(p)
	}
	if h.cfg.debug&DebugFree != 0 {
		h.fillFreed(p, u)
	}
	q := h.quar
	if q == nil {
		return h.freeNow(p)
	}
	q.mu.Lock()
	q.fifo = append(q.fifo, quarantined{p, u})
	q.held[uintptr(p)] = true
	q.bytes += u
	var out []quarantined
	for q.bytes > q.budget && q.head < len(q.fifo) {
		e := q.fifo[q.head]
		q.fifo[q.head] = quarantined{}
		q.head++
		delete(q.held, uintptr(e.p))
		q.bytes -= e.u
		out = append(out, e)
	}
	if q.head > len(q.fifo)/2 {
		q.fifo = append(q.fifo[:0], q.fifo[q.head:]...)
		q.head = 0
	}
	q.mu.Unlock()
	var errs []error
	for _, e := range out {
		if h.cfg.debug&DebugFree != 0 {
			if err := h.checkFreed("free", e.p, e.u); err != nil {
				errs = append(errs, err)
			}
		}
		if err := h.freeNow(e.p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// debugRealloc is Realloc and ReallocInPlace with debug modes on.
func (h *Heap) debugRealloc(p unsafe.Pointer, n int, inPlace bool) (unsafe.Pointer, error) {
	if err := h.debugEnter("realloc"); err != nil {
		return nil, err
	}
	defer h.debugLeave()
	if n < 0 {
		return nil, fmt.Errorf("heap %q: realloc %p to %d bytes: %w: negative", h.cfg.name, p, n, ErrInvalidSize)
	}
	if p == nil {
		return h.debugAlloc("realloc", uintptr(n), minAlign, h.cfg.zero)
	}
	old, _, err := h.debugCheck("realloc", p)
	if err != nil {
		return nil, err
	}
	want := n
	if h.cfg.debug&DebugTail != 0 {
		want = n + min(tailExtra, math.MaxInt-n) // past the limit either way
	}
	// realloc frees a moved block with Free, so it is checked, filled and
	// quarantined like any other.
	q, err := h.realloc(p, want, inPlace)
	if err != nil {
		return nil, err
	}
	u, err := h.size("realloc", q)
	if err != nil {
		return nil, err
	}
	if h.cfg.zero && uintptr(n) > old {
		clear(bytesOf(unsafe.Add(q, old), uintptr(n)-old))
	}
	if h.cfg.debug&DebugTail != 0 {
		writeTail(q, uintptr(n), uintptr(u))
	}
	if h.cfg.debug&DebugCallers != 0 && q != p {
		h.callers.note(q)
	}
	return q, nil
}

// debugValidate checks, after Validate's own checks, the canary of every
// busy block and the fill of every quarantined one.
func (h *Heap) debugValidate() error {
	var errs []error
	if h.cfg.debug&DebugTail != 0 {
		var busy []Entry
		if err := h.Walk(func(e Entry) bool {
			if e.Busy() {
				busy = append(busy, e)
			}
			return true
		}); err != nil {
			return err
		}
		held := map[uintptr]bool{}
		if q := h.quar; q != nil {
			q.mu.Lock()
			for k := range q.held {
				held[k] = true
			}
			q.mu.Unlock()
		}
		for _, e := range busy {
			if held[uintptr(e.Ptr)] {
				continue // freed: its fill is checked below
			}
			if _, err := h.checkTail("validate", e.Ptr, uintptr(e.Size)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if q := h.quar; q != nil && h.cfg.debug&DebugFree != 0 {
		q.mu.Lock()
		waiting := append([]quarantined(nil), q.fifo[q.head:]...)
		q.mu.Unlock()
		for _, e := range waiting {
			if err := h.checkFreed("validate", e.p, e.u); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// count returns the number and usable bytes of the waiting blocks.
func (q *quarantine) count() (int, uintptr) {
	if q == nil {
		return 0, 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.fifo) - q.head, q.bytes
}

// holds reports whether block p waits in the quarantine: freed, though
// its slab still counts it busy.
func (q *quarantine) holds(p unsafe.Pointer) bool {
	if q == nil {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.held[uintptr(p)]
}

// empty forgets every waiting block: Reset and Destroy free them all at
// once.
func (q *quarantine) empty() {
	if q == nil {
		return
	}
	q.mu.Lock()
	q.fifo, q.head, q.bytes = nil, 0, 0
	clear(q.held)
	q.mu.Unlock()
}

// newQuarantine makes the quarantine of a heap with DebugQuarantine.
func newQuarantine(budget uintptr) *quarantine {
	return &quarantine{held: map[uintptr]bool{}, budget: budget}
}
