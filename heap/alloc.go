package heap

import (
	"fmt"
	"math"
	"math/bits"
	"unsafe"
)

// The public allocation API and the paths it takes: small blocks from
// slabs (slab.go), large blocks as runs of pages (pages.go), huge blocks in
// reservations of their own (huge.go). See heap.go for the overview.

// Alloc returns a block of at least n bytes, aligned to 16 bytes (on every
// platform, so 64-bit atomics work on 32-bit ones too). Alloc(0) returns a
// unique minimum-size block, like HeapAlloc and malloc. Memory is zeroed only
// with Options.Zero; use Calloc otherwise.
func (h *Heap) Alloc(n int) (unsafe.Pointer, error) {
	if h == nil {
		return nil, nilHeap("alloc")
	}
	if h.cfg.noSerialize {
		if err := h.enter("alloc"); err != nil {
			return nil, err
		}
		defer h.leave()
	}
	if h.cfg.debug == 0 && uint(n) <= uint(h.smallLimit) { // the fast path, one call deep
		p, err := h.allocSmall("alloc", uintptr(n), classOf(uintptr(n)), h.cfg.zero)
		if err != nil {
			return h.failed(err, func() (unsafe.Pointer, error) { return h.allocAny(n) })
		}
		return p, nil
	}
	p, err := h.allocAny(n)
	if err != nil {
		return h.failed(err, func() (unsafe.Pointer, error) { return h.allocAny(n) })
	}
	return p, nil
}

// allocAny is Alloc past its checks of the heap.
func (h *Heap) allocAny(n int) (unsafe.Pointer, error) {
	if h.cfg.debug != 0 && n >= 0 {
		return h.debugAlloc("alloc", uintptr(n), minAlign, h.cfg.zero)
	}
	if uint(n) <= uint(h.smallLimit) {
		return h.allocSmall("alloc", uintptr(n), classOf(uintptr(n)), h.cfg.zero)
	}
	if n < 0 {
		return nil, fmt.Errorf("heap %q: alloc %d bytes: %w: negative", h.cfg.name, n, ErrInvalidSize)
	}
	return h.allocate("alloc", uintptr(n), minAlign, h.cfg.zero)
}

// Calloc returns a zeroed block for count elements of size bytes each. A
// product that overflows an int is rejected with ErrInvalidSize; one that
// fits an int but exceeds the heap's limit with ErrTooLarge, as Alloc does.
func (h *Heap) Calloc(count, size int) (unsafe.Pointer, error) {
	if h == nil {
		return nil, nilHeap("calloc")
	}
	if h.cfg.noSerialize {
		if err := h.enter("calloc"); err != nil {
			return nil, err
		}
		defer h.leave()
	}
	if count < 0 || size < 0 {
		return nil, fmt.Errorf("heap %q: calloc %d×%d: %w: negative", h.cfg.name, count, size, ErrInvalidSize)
	}
	lo, ok := mulInt(count, size)
	if !ok {
		return nil, fmt.Errorf("heap %q: calloc %d×%d: %w: the product overflows", h.cfg.name, count, size, ErrInvalidSize)
	}
	again := func() (unsafe.Pointer, error) {
		if h.cfg.debug != 0 {
			return h.debugAlloc("calloc", lo, minAlign, true)
		}
		return h.allocate("calloc", lo, minAlign, true)
	}
	p, err := again()
	if err != nil {
		return h.failed(err, again)
	}
	return p, nil
}

// maxAlign is the largest alignment AllocAligned accepts (vmem's limit).
const maxAlign = 1 << 30

// AllocAligned returns a block of at least n bytes whose address is a
// multiple of align, a power of two up to 1 GiB. Alignments up to the page
// size are served by a size class that is a multiple of align, larger ones
// by an aligned run of pages. Free it with Free. Realloc keeps only the
// default 16-byte alignment when it moves a block.
func (h *Heap) AllocAligned(n, align int) (unsafe.Pointer, error) {
	if h == nil {
		return nil, nilHeap("alloc")
	}
	if h.cfg.noSerialize {
		if err := h.enter("alloc"); err != nil {
			return nil, err
		}
		defer h.leave()
	}
	if n < 0 {
		return nil, fmt.Errorf("heap %q: alloc %d bytes: %w: negative", h.cfg.name, n, ErrInvalidSize)
	}
	if align <= 0 || align&(align-1) != 0 || align > maxAlign {
		return nil, fmt.Errorf("heap %q: alloc %d bytes aligned to %d: %w: alignment must be a power of two up to 1 GiB",
			h.cfg.name, n, align, ErrInvalidSize)
	}
	again := func() (unsafe.Pointer, error) {
		if h.cfg.debug != 0 {
			return h.debugAlloc("alloc", uintptr(n), max(uintptr(align), minAlign), h.cfg.zero)
		}
		return h.allocate("alloc", uintptr(n), max(uintptr(align), minAlign), h.cfg.zero)
	}
	p, err := again()
	if err != nil {
		return h.failed(err, again)
	}
	return p, nil
}

// allocate serves n bytes aligned to align: from a size class when one
// fits, else as pages under the heap's lock. With zero the block reads as
// zero.
func (h *Heap) allocate(op string, n, align uintptr, zero bool) (unsafe.Pointer, error) {
	if n <= h.smallLimit && align <= h.cfg.page {
		c := classOf(n)
		for c < numClasses && h.classes[c].size%align != 0 {
			c++
		}
		if c < numClasses {
			return h.allocSmall(op, n, c, zero)
		}
	}
	if err := h.lock(op); err != nil {
		return nil, err
	}
	defer h.unlockHeap()
	p, err := h.alloc(op, n, align, zero)
	if e := h.checkTables(op); e != nil {
		return nil, e
	}
	return p, err
}

// alloc serves n bytes aligned to align as pages (or a huge block). The
// caller holds the heap's lock. With zero the block reads as zero.
func (h *Heap) alloc(op string, n, align uintptr, zero bool) (unsafe.Pointer, error) {
	if n > h.limit() {
		return nil, fmt.Errorf("heap %q: %s %s: %w: the heap's limit is %s",
			h.cfg.name, op, sizeText(uint64(n)), ErrTooLarge, sizeText(uint64(h.limit())))
	}
	if n > h.cfg.huge {
		return h.allocHuge(op, n, align)
	}
	page := h.cfg.page
	k, err := h.pages(n)
	if err != nil {
		return nil, fmt.Errorf("heap %q: %s %d bytes: %w", h.cfg.name, op, n, err)
	}
	a := uint32(max(align/page, 1)) // align <= maxAlign: at most 2^18 pages
	if a == 1 {
		if p := h.takeCachedRun(k); p != nil {
			if zero {
				clear(unsafe.Slice((*byte)(p), uintptr(k)*page))
			}
			return p, nil
		}
	}
	seg, gp, fresh, err := h.allocPages(k, a)
	if err != nil {
		return nil, h.wrap(op, n, err)
	}
	for g := gp; g < gp+k; g++ {
		h.pt.at(g).flags &^= flagFreed | flagFreedSlab
	}
	d := h.pt.at(gp)
	d.kind, d.n, d.gen = kindLarge, k, h.nextGen()
	h.inUse += uintptr(k) * page
	h.blocks++
	h.big.alloc(uintptr(k) * page)
	p := h.pageAddr(seg, gp)
	if zero && !fresh {
		clear(unsafe.Slice((*byte)(p), uintptr(k)*page))
	}
	return p, nil
}

// limit is the largest request the heap could ever serve.
func (h *Heap) limit() uintptr {
	if h.cfg.fixed {
		return min(h.cfg.reserve, h.cfg.max)
	}
	return h.cfg.max
}

// pages returns the number of pages holding n bytes (at least one). It
// counts in uintptr and fails with ErrTooLarge before narrowing to the page
// table's 32 bits, so that no size is ever cut to a smaller run.
func (h *Heap) pages(n uintptr) (uint32, error) {
	page := h.cfg.page
	k := max(n/page+min(n%page, 1), 1)
	if k > maxPages {
		return 0, fmt.Errorf("%w: %d pages, the page table holds at most %d", ErrTooLarge, k, uint64(maxPages))
	}
	return uint32(k), nil
}

// mulInt returns a×b for non-negative a and b, and whether it fits an int.
func mulInt(a, b int) (uintptr, bool) {
	hi, lo := bits.Mul(uint(a), uint(b))
	return uintptr(lo), hi == 0 && lo <= math.MaxInt
}

// wrap turns a failure to find or make room into the heap's error.
func (h *Heap) wrap(op string, n uintptr, err error) error { return h.noMemory(op, n, err) }

// allocPages hands out k pages whose first page's address is a multiple of
// a pages, growing the heap when no free run fits. fresh reports pages that
// read as zero.
func (h *Heap) allocPages(k, a uint32) (seg *segment, gp uint32, fresh bool, err error) {
	if uint64(k)+uint64(a) > 1<<32-1 {
		return nil, 0, false, fmt.Errorf("%w: %d pages", ErrTooLarge, k)
	}
	need := k + a - 1
	page := h.cfg.page
	for try := 0; ; try++ {
		head, ok := h.findAligned(k, a)
		if !ok {
			head, ok = h.findFree(need)
		}
		if !ok && len(h.runs) > 0 {
			h.flushRuns()
			try--
			continue
		}
		if !ok {
			if try > 0 {
				return nil, 0, false, errNoRun
			}
			if err := h.grow(uintptr(need) * page); err != nil {
				return nil, 0, false, err
			}
			continue
		}
		seg = h.segOfPage(head)
		skip, _ := h.placeIn(seg, head, k, a)
		gp = head + skip
		// The kept pages, the tail of the run left before them and the
		// head of the run left after them get descriptors.
		if err := h.pt.touch(&h.meta, max(gp, head+1)-1, min(gp+k+1, head+h.pt.at(head).n)); err != nil {
			return nil, 0, false, err
		}
		unc := h.takeRun(seg, head, skip, k)
		fresh, err = h.commitRun(seg, gp, k, unc)
		if err != nil {
			h.freeRun(seg, gp, k, true)
			return nil, 0, false, err
		}
		return seg, gp, fresh, nil
	}
}

// placeIn returns where in the free run at head of segment s a block of k
// pages aligned to a pages goes (pages skipped from head), and whether it
// fits the run. In a segment added below its reservation the block goes at
// the top of the run, next to the pages above it, so that the
// reservation's one committed interval grows downward by what is used and
// no more.
func (h *Heap) placeIn(s *segment, head, k, a uint32) (skip uint32, ok bool) {
	page := h.cfg.page
	n := h.pt.at(head).n
	if n < k {
		return 0, false
	}
	al := uintptr(a) * page
	if s.below {
		top := head + n - k
		down := uint32(uintptr(h.pageAddr(s, top)) % al / page)
		return top - head - min(down, top-head), down <= top-head
	}
	skip = uint32((al - uintptr(h.pageAddr(s, head))%al) % al / page)
	return skip, uint64(skip)+uint64(k) <= uint64(n)
}

// findAligned returns a free run of fewer than k+a-1 pages (what findFree
// asks for to be sure) that still holds k pages aligned to a: slabs are
// aligned to their size, and without this a segment's last slab-sized run
// would never be used.
func (h *Heap) findAligned(k, a uint32) (uint32, bool) {
	if a <= 1 {
		return 0, false
	}
	for n := k; n < k+a-1 && n < 64; n++ {
		visited := 0
		for g := h.bins[binOf(n)]; g != 0 && visited < 8; g = h.pt.at(g - 1).a {
			if _, ok := h.placeIn(h.segOfPage(g-1), g-1, k, a); ok {
				return g - 1, true
			}
			visited++
		}
	}
	return 0, false
}

// Free returns a block to the heap. Free(nil) does nothing. A pointer the
// heap did not return, or an interior pointer, is ErrInvalidPointer; a block
// that is not currently allocated is ErrDoubleFree (see ErrDoubleFree for
// the limit of that check). The heap is unchanged by a failed Free.
func (h *Heap) Free(p unsafe.Pointer) error {
	if h == nil {
		return nilHeap("free")
	}
	if p == nil {
		return nil
	}
	if h.cfg.noSerialize {
		if err := h.enter("free"); err != nil {
			return err
		}
		defer h.leave()
	}
	if h.cfg.debug == 0 { // the fast path, one call deep
		if ok, err := h.freeSmall(p); ok {
			return err
		}
		return h.freeSlow(p)
	}
	return h.freeAny(p)
}

// freeAny is Free past its checks of the heap.
func (h *Heap) freeAny(p unsafe.Pointer) error {
	if h.cfg.debug != 0 {
		return h.debugFree(p)
	}
	return h.freeNow(p)
}

// freeNow is Free without the debug modes: a busy small block goes to the
// P's cache (pcache.go); anything else is looked up under the heap's lock,
// which frees a large or huge block or says what is wrong.
func (h *Heap) freeNow(p unsafe.Pointer) error {
	if ok, err := h.freeSmall(p); ok {
		return err
	}
	return h.freeSlow(p)
}

// freeSlow is freeNow's locked path.
func (h *Heap) freeSlow(p unsafe.Pointer) error {
	if err := h.lock("free"); err != nil {
		return err
	}
	b, err := h.find("free", p)
	if err == nil && b.kind == blockSmall {
		// A busy block the page map did not lead to: free it here.
		h.unlockHeap()
		return h.freeLocked(b)
	}
	if err == nil {
		err = h.release(b)
	}
	if e := h.checkTables("free"); e != nil {
		err = e
	}
	h.unlockHeap()
	return err
}

// freeLocked frees small block b into its slab under its class's lock.
func (h *Heap) freeLocked(b block) error {
	c := int(b.slab.class)
	h.lockClass(c)
	defer h.unlockClass(c)
	if h.state.Load() != stateOK { // destroyed while it waited: b is gone
		return h.stateErr("free")
	}
	st := b.slab.stateOf(b.idx)
	if !isBusy(*st) {
		return h.bad("free", b.p, ErrDoubleFree, "%d-byte block is free", b.size)
	}
	if h.tagUse != nil {
		h.untagSmall(b.slab, &h.classes[c], b.idx)
	}
	*st = freed(*st)
	if err := h.putBlocks(c, []unsafe.Pointer{b.p}, 1, false); err != nil {
		return h.stateErr("free")
	}
	return nil
}

// Size returns the usable size of a block: at least what was asked, the
// size class for small blocks and whole pages for large ones.
func (h *Heap) Size(p unsafe.Pointer) (int, error) {
	if h == nil {
		return 0, nilHeap("size")
	}
	if h.cfg.noSerialize {
		if err := h.enter("size"); err != nil {
			return 0, err
		}
		defer h.leave()
	}
	if h.cfg.debug != 0 {
		if err := h.debugEnter("size"); err != nil {
			return 0, err
		}
		defer h.debugLeave()
		n, _, err := h.debugCheck("size", p)
		return int(n), err
	}
	return h.size("size", p)
}

func (h *Heap) size(op string, p unsafe.Pointer) (int, error) {
	if s, ci, idx, ok := h.slabFor(p); ok && isBusy(*s.stateOf(idx)) {
		return int(ci.size), nil
	}
	if err := h.lock(op); err != nil {
		return 0, err
	}
	b, err := h.find(op, p)
	if e := h.checkTables(op); e != nil {
		err = e
	}
	h.unlockHeap()
	if err != nil {
		return 0, err
	}
	return int(b.size), nil
}

// Realloc resizes a block to at least n bytes and returns its address: the
// same when it can resize in place (always when shrinking, and when a large
// block's next pages are free), else a new block holding the old contents,
// the old one freed. Realloc(nil, n) is Alloc(n). With Options.Zero the
// added bytes read as zero. On error the old block is unchanged.
func (h *Heap) Realloc(p unsafe.Pointer, n int) (unsafe.Pointer, error) {
	if h == nil {
		return nil, nilHeap("realloc")
	}
	if h.cfg.noSerialize {
		if err := h.enter("realloc"); err != nil {
			return nil, err
		}
		defer h.leave()
	}
	again := func() (unsafe.Pointer, error) {
		if h.cfg.debug != 0 {
			return h.debugRealloc(p, n, false)
		}
		return h.realloc(p, n, false)
	}
	t := Untagged
	if h.tagUse != nil && p != nil {
		t = h.tagOf(p)
	}
	q, err := again()
	if err != nil {
		q, err = h.failed(err, again)
	}
	if err == nil {
		h.retag(q, t)
	}
	return q, err
}

// ReallocInPlace resizes a block without moving it
// (HEAP_REALLOC_IN_PLACE_ONLY), or fails with ErrInPlace and leaves it as it
// was.
func (h *Heap) ReallocInPlace(p unsafe.Pointer, n int) error {
	if h == nil {
		return nilHeap("realloc in place")
	}
	if h.cfg.noSerialize {
		if err := h.enter("realloc in place"); err != nil {
			return err
		}
		defer h.leave()
	}
	if p == nil {
		return fmt.Errorf("heap %q: realloc in place nil: %w", h.cfg.name, ErrInvalidPointer)
	}
	t := Untagged
	if h.tagUse != nil {
		t = h.tagOf(p)
	}
	var err error
	if h.cfg.debug != 0 {
		_, err = h.debugRealloc(p, n, true)
	} else {
		_, err = h.realloc(p, n, true)
	}
	if err == nil {
		h.retag(p, t)
	}
	return err
}

func (h *Heap) realloc(p unsafe.Pointer, n int, inPlace bool) (unsafe.Pointer, error) {
	if n < 0 {
		return nil, fmt.Errorf("heap %q: realloc %p to %d bytes: %w: negative", h.cfg.name, p, n, ErrInvalidSize)
	}
	if p == nil {
		return h.allocAny(n)
	}
	size, err := h.size("realloc", p)
	if err != nil {
		return nil, err
	}
	if uintptr(n) > h.limit() {
		return nil, fmt.Errorf("heap %q: realloc %p to %s: %w: the heap's limit is %s",
			h.cfg.name, p, sizeText(uint64(n)), ErrTooLarge, sizeText(uint64(h.limit())))
	}
	large := h.isLarge(p)
	if n <= size && !large {
		return p, nil // a small or huge block keeps its size
	}
	if large {
		if ok, err := h.resizeLarge(p, uintptr(n)); err != nil || ok {
			if err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	if inPlace {
		return nil, fmt.Errorf("heap %q: realloc %p from %d to %d bytes: %w", h.cfg.name, p, size, n, ErrInPlace)
	}
	q, err := h.allocate("realloc", uintptr(n), minAlign, h.cfg.zero)
	if err != nil {
		return nil, err
	}
	// The heap reads p and writes into q itself: check q is a block of its
	// own and both lie in committed pages first, so that corrupt metadata
	// yields an error, not a stray copy or a fault.
	if _, err := h.size("realloc", q); err != nil {
		return nil, err
	}
	if err := h.checkCommitted("realloc", p, uintptr(size)); err != nil {
		return nil, err
	}
	if err := h.checkCommitted("realloc", q, uintptr(n)); err != nil {
		return nil, err
	}
	copy(unsafe.Slice((*byte)(q), n), unsafe.Slice((*byte)(p), size))
	if err := h.freeAny(p); err != nil {
		h.freeAny(q)
		return nil, err
	}
	return q, nil
}

// isLarge reports whether p lies in a run of pages (a large block).
func (h *Heap) isLarge(p unsafe.Pointer) bool {
	seg, gp := h.lookup(uintptr(p))
	return seg != nil && h.pt.peek(gp).kind == kindLarge
}

// resizeLarge resizes the large block at p in place, under the heap's
// lock.
func (h *Heap) resizeLarge(p unsafe.Pointer, n uintptr) (bool, error) {
	if err := h.lock("realloc"); err != nil {
		return false, err
	}
	defer h.unlockHeap()
	b, err := h.find("realloc", p)
	if err != nil {
		return false, err
	}
	if b.kind != blockLarge {
		return false, nil
	}
	ok, err := h.resize(&b, n)
	if e := h.checkTables("realloc"); e != nil {
		return false, e
	}
	if err != nil {
		return false, h.wrap("realloc", n, err)
	}
	return ok, nil
}

// resize tries to make large block b hold n bytes without moving it.
func (h *Heap) resize(b *block, n uintptr) (bool, error) {
	if n <= b.size {
		page := h.cfg.page
		k := uint32(max((n+page-1)/page, 1)) // n <= b.size: fits
		if old := b.d.n; k < old {
			b.d.n = k
			h.inUse -= uintptr(old-k) * page
			h.big.freeBytes.Add(uint64(old-k) * uint64(page))
			h.freeRun(b.seg, b.gp+k, old-k, false)
		}
		return true, nil
	}
	if n > h.cfg.huge {
		return false, nil
	}
	page := h.cfg.page
	k, err := h.pages(n)
	if err != nil {
		return false, err
	}
	old := b.d.n
	next := b.gp + old
	if next >= b.seg.gp0+b.seg.npages {
		return false, nil
	}
	d := h.pt.at(next)
	if d.kind != kindFreeHead || d.n < k-old {
		return false, nil
	}
	if err := h.pt.touch(&h.meta, next, min(next+k-old+1, next+d.n)); err != nil {
		return false, err
	}
	unc := h.takeRun(b.seg, next, 0, k-old)
	fresh, err := h.commitRun(b.seg, next, k-old, unc)
	if err != nil {
		h.freeRun(b.seg, next, k-old, true)
		return false, err
	}
	b.d.n = k
	h.inUse += uintptr(k-old) * page
	h.big.allocBytes.Add(uint64(k-old) * uint64(page))
	if h.cfg.zero && !fresh {
		clear(unsafe.Slice((*byte)(h.pageAddr(b.seg, next)), uintptr(k-old)*page))
	}
	return true, nil
}
