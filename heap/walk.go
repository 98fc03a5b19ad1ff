package heap

import (
	"fmt"
	"slices"
	"unsafe"
)

// EntryKind says what a Walk entry is.
type EntryKind uint8

const (
	// Small is a busy block in a slab.
	Small EntryKind = iota
	// Large is a busy run of pages.
	Large
	// Huge is a busy block with a reservation of its own.
	Huge
	// FreeRun is a free run of pages; its pages may be committed or not.
	FreeRun
	// FreeSlots are consecutive free blocks of one slab.
	FreeSlots
)

func (k EntryKind) String() string {
	switch k {
	case Small:
		return "small"
	case Large:
		return "large"
	case Huge:
		return "huge"
	case FreeRun:
		return "free run"
	case FreeSlots:
		return "free slots"
	}
	return fmt.Sprintf("EntryKind(%d)", uint8(k))
}

// An Entry is one block or free range reported by Walk.
type Entry struct {
	Ptr  unsafe.Pointer
	Size int // usable size of a block; length of a free range
	Kind EntryKind
	// Class is the size of a slab's blocks, for Small and FreeSlots.
	Class int
}

// Busy reports whether the entry is an allocated block.
func (e Entry) Busy() bool { return e.Kind <= Huge }

// Walk calls fn for every block and free range of the heap, like HeapWalk:
// segments in address order, then huge blocks in address order. It stops
// when fn returns false. fn runs with the heap locked and must not call the
// heap's methods.
func (h *Heap) Walk(fn func(Entry) bool) error { return h.walk(fn, nil) }

// walk is Walk; locked, when not nil, runs first with the heap locked and
// its caches drained.
func (h *Heap) walk(fn func(Entry) bool, locked func()) error {
	if h == nil {
		return nilHeap("walk")
	}
	if err := h.lockEvery("walk"); err != nil {
		return err
	}
	defer h.unlockAll()
	defer h.openGate()
	if err := h.closeGate(true); err != nil {
		return err
	}
	if locked != nil {
		locked()
	}
	page := h.cfg.page
	for _, s := range h.segs {
		end := s.gp0 + s.npages
		for gp := s.gp0; gp < end; {
			d := h.pt.at(gp)
			p := h.pageAddr(s, gp)
			if err := h.checkRun(s, gp, d); err != nil {
				return fmt.Errorf("heap %q: walk: %w", h.cfg.name, err)
			}
			switch d.kind {
			case kindFreeHead, kindCached:
				if !fn(Entry{Ptr: p, Size: int(uintptr(d.n) * page), Kind: FreeRun}) {
					return nil
				}
				gp += d.n
			case kindLarge:
				if !fn(Entry{Ptr: p, Size: int(uintptr(d.n) * page), Kind: Large}) {
					return nil
				}
				gp += d.n
			case kindSlab:
				sl := h.st.at(d.a)
				ci := &h.classes[sl.class&(numClasses-1)]
				size, nobj := ci.size, int(ci.nobj)
				for i := 0; i < nobj; {
					busy := isBusy(*sl.stateOf(uintptr(i)))
					j := i + 1
					for !busy && j < nobj && !isBusy(*sl.stateOf(uintptr(j))) {
						j++
					}
					e := Entry{Ptr: unsafe.Add(p, uintptr(i)*size), Size: int(uintptr(j-i) * size), Kind: FreeSlots, Class: int(size)}
					if busy {
						e.Kind = Small
					}
					if !fn(e) {
						return nil
					}
					i = j
				}
				gp += uint32(sl.npages)
			}
		}
	}
	bases := make([]uintptr, 0, len(h.huge))
	for b := range h.huge {
		bases = append(bases, b)
	}
	slices.Sort(bases)
	for _, b := range bases {
		r := h.huge[b].res
		if !fn(Entry{Ptr: r.Pointer(), Size: int(r.Size()), Kind: Huge}) {
			return nil
		}
	}
	return nil
}
