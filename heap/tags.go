package heap

import (
	"cmp"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Tags say what blocks hold ("index", "values", "request"), so that a heap
// can tell its live bytes per tag and list what is still allocated when a
// program thinks it freed everything (Leaks), as ristretto's z.Calloc(n,
// tag) and Leaks do for jemalloc memory. A tag is a name registered once
// for the process (NewTag) and stored out of band, like the block's state:
// a byte per block in the side area of its slab (the heap keeps that byte
// only with Options.Tags), and a map entry for a large or huge block,
// which is rarer and made under the heap's lock anyway. Untagged blocks
// cost a Tags heap one load and a branch in Free; tagged ones two atomic
// additions to the tag's counters in AllocTag and in Free.

// A Tag names what a block holds. The zero Tag is Untagged.
type Tag uint8

// Untagged is the tag of blocks allocated without one.
const Untagged Tag = 0

// maxTags is the most tags a process registers (a tag is a byte).
const maxTags = 255

var tagNames struct {
	mu     sync.Mutex
	names  []string // names[t-1] is tag t's name
	byName map[string]Tag
	// n is len(names), read without the lock by AllocTag's check.
	n atomic.Int32
}

// NewTag registers a tag name for the process and returns its Tag; the
// same name gives the same Tag. A name follows Options.Name's rules for
// length and printable text. A process has at most 255 tags: past them
// NewTag fails with ErrTooLarge.
func NewTag(name string) (Tag, error) {
	if name == "" {
		return 0, fmt.Errorf("heap: tag %q: %w: empty", name, ErrInvalidName)
	}
	if err := checkPrintable(name); err != nil {
		return 0, fmt.Errorf("heap: tag %q: %w: %w", name, ErrInvalidName, err)
	}
	tagNames.mu.Lock()
	defer tagNames.mu.Unlock()
	if t, ok := tagNames.byName[name]; ok {
		return t, nil
	}
	if len(tagNames.names) == maxTags {
		return 0, fmt.Errorf("heap: tag %q: %w: %d tags are registered already", name, ErrTooLarge, maxTags)
	}
	if tagNames.byName == nil {
		tagNames.byName = make(map[string]Tag)
	}
	tagNames.names = append(tagNames.names, name)
	t := Tag(len(tagNames.names))
	tagNames.byName[name] = t
	tagNames.n.Store(int32(t))
	return t, nil
}

// String returns the tag's name, "untagged" for Untagged, or "tag(N)" for
// a value NewTag never returned.
func (t Tag) String() string {
	if t == Untagged {
		return "untagged"
	}
	tagNames.mu.Lock()
	defer tagNames.mu.Unlock()
	if int(t) <= len(tagNames.names) {
		return tagNames.names[t-1]
	}
	return fmt.Sprintf("tag(%d)", uint8(t))
}

func (t Tag) registered() bool { return int32(t) <= tagNames.n.Load() }

// tagCounts are a Tags heap's live blocks and bytes per tag.
type tagCounts [maxTags + 1]struct{ blocks, bytes atomic.Int64 }

func (tc *tagCounts) add(t Tag, size uintptr) {
	tc[t].blocks.Add(1)
	tc[t].bytes.Add(int64(size))
}

func (tc *tagCounts) sub(t Tag, size uintptr) {
	tc[t].blocks.Add(-1)
	tc[t].bytes.Add(-int64(size))
}

// bigTag is a tagged large or huge block's tag and the size counted.
type bigTag struct {
	tag  Tag
	size uintptr
}

// tagOf returns the tag byte of block idx of slab s (a Tags heap).
func (s *slabRec) tagOf(ci *classInfo, idx uintptr) *Tag {
	return (*Tag)(unsafe.Add(s.state, ci.tagOff+idx))
}

// AllocTag is Alloc for a block tagged t: its bytes count in t's entry of
// Stats.Tags and Leaks until it is freed. The heap must have been made with
// Options.Tags, and t returned by NewTag.
func (h *Heap) AllocTag(n int, t Tag) (unsafe.Pointer, error) {
	if h == nil {
		return nil, nilHeap("alloc")
	}
	if err := h.checkTag("alloc", n, t); err != nil {
		return nil, err
	}
	p, err := h.Alloc(n)
	if err != nil {
		return nil, err
	}
	h.setTag(p, t)
	return p, nil
}

// checkTag says why blocks of this heap cannot be tagged t.
func (h *Heap) checkTag(op string, n int, t Tag) error {
	switch {
	case h.tagUse == nil:
		return fmt.Errorf("heap %q: %s %d bytes tagged %v: %w: the heap was made without Options.Tags", h.cfg.name, op, n, t, ErrInvalidTag)
	case t == Untagged || !t.registered():
		return fmt.Errorf("heap %q: %s %d bytes tagged %v: %w: not a tag NewTag returned", h.cfg.name, op, n, t, ErrInvalidTag)
	}
	return nil
}

// setTag tags block p, just allocated and untagged, with t.
func (h *Heap) setTag(p unsafe.Pointer, t Tag) {
	if s, ci, idx, ok := h.slabFor(p); ok {
		*s.tagOf(ci, idx) = t
		h.tagUse.add(t, ci.size)
		return
	}
	size, err := h.Size(p)
	if err != nil {
		return
	}
	h.lockHeap()
	h.bigTags[uintptr(p)] = bigTag{t, uintptr(size)}
	h.unlockHeap()
	h.tagUse.add(t, uintptr(size))
}

// untagSmall clears the tag of busy block idx of slab s as it is freed.
func (h *Heap) untagSmall(s *slabRec, ci *classInfo, idx uintptr) {
	if tp := s.tagOf(ci, idx); *tp != Untagged {
		h.tagUse.sub(*tp, ci.size)
		*tp = Untagged
	}
}

// untagBig forgets the tag of large or huge block p as it is freed. The
// caller holds the heap's lock.
func (h *Heap) untagBig(p unsafe.Pointer) {
	if bt, ok := h.bigTags[uintptr(p)]; ok {
		delete(h.bigTags, uintptr(p))
		h.tagUse.sub(bt.tag, bt.size)
	}
}

// tagOf returns the tag of busy block p of a Tags heap.
func (h *Heap) tagOf(p unsafe.Pointer) Tag {
	if s, ci, idx, ok := h.slabFor(p); ok {
		return *s.tagOf(ci, idx)
	}
	h.lockHeap()
	defer h.unlockHeap()
	return h.bigTags[uintptr(p)].tag
}

// untag clears the tag of busy block p: as the debug modes free it (it
// may wait in the quarantine), or before retag.
func (h *Heap) untag(p unsafe.Pointer) {
	if s, ci, idx, ok := h.slabFor(p); ok {
		h.untagSmall(s, ci, idx)
		return
	}
	h.lockHeap()
	h.untagBig(p)
	h.unlockHeap()
}

// retag moves tag t to block q, which Realloc made of a block tagged t:
// the same block resized or a new one (the old one was untagged as it was
// freed).
func (h *Heap) retag(q unsafe.Pointer, t Tag) {
	if t == Untagged {
		return
	}
	h.untag(q)
	h.setTag(q, t)
}

// resetTags forgets every tag and call site (Reset). The caller holds
// every lock.
func (h *Heap) resetTags() {
	if h.tagUse != nil {
		*h.tagUse = tagCounts{}
		clear(h.bigTags)
	}
	h.callers.mu.Lock()
	clear(h.callers.pc)
	h.callers.mu.Unlock()
}

// TagStats are the live blocks of one tag.
type TagStats struct {
	Tag    Tag
	Name   string
	Blocks int
	Bytes  uint64 // usable sizes
}

// TagStats returns the live blocks per tag of a heap made with
// Options.Tags, most bytes first; untagged blocks are not listed (Leaks
// lists them). Like Counters it reads counters, in O(tags), without
// stopping the heap: a tag's figures are those of a moment near the call.
// (It is a method of its own, not a field of Stats, so that Stats stays a
// comparable value.)
func (h *Heap) TagStats() []TagStats {
	if h == nil || h.tagUse == nil {
		return nil
	}
	var out []TagStats
	for t := range h.tagUse {
		c := &h.tagUse[t]
		if b := c.blocks.Load(); b > 0 {
			out = append(out, TagStats{Tag: Tag(t), Name: Tag(t).String(), Blocks: int(b), Bytes: uint64(max(c.bytes.Load(), 0))})
		}
	}
	slices.SortFunc(out, func(a, b TagStats) int { return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Tag, b.Tag)) })
	return out
}

// A Leak is what a heap still holds under one tag (and, with DebugCallers,
// from one call site): Leaks' report of blocks a program may have meant
// to free.
type Leak struct {
	Tag     Tag
	Name    string // the tag's name
	Blocks  int
	Bytes   uint64 // usable sizes
	Largest int    // the largest block's usable size
	// Caller is the allocation's call site, "function file:line", with
	// DebugCallers; empty otherwise.
	Caller string
}

func (l Leak) String() string {
	s := fmt.Sprintf("%s: %s in %s (largest %s)", l.Name, sizeText(l.Bytes), plural(l.Blocks, "block"), sizeText(uint64(l.Largest)))
	if l.Caller != "" {
		s += " from " + l.Caller
	}
	return s
}

// Leaks lists the blocks the heap holds, grouped by tag (Untagged blocks
// included, on any heap) and, with DebugCallers, by call site, most bytes
// first. Blocks in the debug quarantine were freed and are left out. It
// walks the heap (Walk): its cost grows with the heap, so call it at the
// end of a test or from a debugging page, not on a hot path.
func (h *Heap) Leaks() ([]Leak, error) {
	type key struct {
		tag Tag
		pc  uintptr
	}
	sum := map[key]*Leak{}
	var tags map[uintptr]bigTag
	var sites map[uintptr]uintptr
	err := h.walk(func(e Entry) bool {
		if !e.Busy() || h.quar.holds(e.Ptr) {
			return true
		}
		k := key{}
		switch {
		case e.Kind == Small && h.tagUse != nil:
			if s, ci, idx, ok := h.slabFor(e.Ptr); ok {
				k.tag = *s.tagOf(ci, idx)
			}
		case e.Kind != Small:
			k.tag = tags[uintptr(e.Ptr)].tag
		}
		k.pc = sites[uintptr(e.Ptr)]
		l := sum[k]
		if l == nil {
			l = &Leak{Tag: k.tag}
			sum[k] = l
		}
		l.Blocks++
		l.Bytes += uint64(e.Size)
		l.Largest = max(l.Largest, e.Size)
		return true
	}, func() {
		// Copied under the heap's lock, before the walk, which reads them.
		tags = maps.Clone(h.bigTags)
		sites = h.callers.snapshot()
	})
	if err != nil {
		return nil, err
	}
	out := make([]Leak, 0, len(sum))
	for k, l := range sum {
		l.Name = k.tag.String()
		if k.pc != 0 {
			l.Caller = callerText(k.pc)
		}
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b Leak) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Tag, b.Tag), strings.Compare(a.Caller, b.Caller))
	})
	return out, nil
}

// callers records each live block's allocation site with DebugCallers: a
// map under a lock, as the mode is for tests and debugging.
type callers struct {
	mu sync.Mutex
	pc map[uintptr]uintptr
}

// note records the caller of the heap's exported method that allocated p.
func (c *callers) note(p unsafe.Pointer) {
	var pcs [16]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var pc uintptr
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, heapPackage) || strings.HasSuffix(f.File, "_test.go") {
			pc = f.PC
			break
		}
		if !more {
			break
		}
	}
	c.mu.Lock()
	if c.pc == nil {
		c.pc = make(map[uintptr]uintptr)
	}
	c.pc[uintptr(p)] = pc
	c.mu.Unlock()
}

func (c *callers) forget(p unsafe.Pointer) {
	c.mu.Lock()
	delete(c.pc, uintptr(p))
	c.mu.Unlock()
}

func (c *callers) snapshot() map[uintptr]uintptr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.pc)
}

// heapPackage prefixes the functions of this package in stack frames.
var heapPackage = func() string {
	pc, _, _, _ := runtime.Caller(0)
	name := runtime.FuncForPC(pc).Name() // ".../heap.init.func1"
	return name[:strings.LastIndex(name, "/")+len("/heap.")]
}()

// callerText renders a call site as "function file:line".
func callerText(pc uintptr) string {
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	file := f.File
	if i := strings.LastIndex(file, "/"); i >= 0 {
		if j := strings.LastIndex(file[:i], "/"); j >= 0 {
			file = file[j+1:]
		}
	}
	return fmt.Sprintf("%s %s:%d", f.Function, file, f.Line)
}
