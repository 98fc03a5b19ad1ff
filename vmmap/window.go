package vmmap

import (
	"time"

	"github.com/zebra-heap/zebra/vmem"
)

// FromWindow returns a snapshot of an emulated address space, in its
// emulated addresses, over the whole window [Low, High) as its span.
//
// Pre-occupied ranges keep the VMMap type of their kind (image, mapped file,
// stack, shareable, heap, private) with their name as Path, or as Owner for
// heaps. Reservations made in the window are Heap regions of their owner;
// a reservation without an owner is Private Data. Decommitted pages are
// Reserved, as on Windows (MEM_DECOMMIT returns pages to MEM_RESERVE).
// Committed counts committed bytes; windows have no RSS figures. A closed
// window has given all its memory back: its snapshot is one free block.
// Allocations (Region.Base) are the reservations' pieces, found through the
// registry, and runs of one pre-occupied name.
func FromWindow(w *vmem.Window) *Snapshot {
	cfg := w.Config()
	s := &Snapshot{
		Source:      "window " + w.Name(),
		Taken:       time.Now(),
		Span:        AddrRange{uint64(cfg.Low), uint64(cfg.High)},
		Granularity: uint64(w.Caps().Granularity),
	}
	// Allocation bases of the window's reservations, in emulated addresses.
	var bases []AddrRange
	for _, in := range vmem.Live() {
		if in.Space != w.Name() {
			continue
		}
		for _, p := range in.Pieces {
			if e := w.Emulated(p.Base); e != 0 {
				bases = append(bases, AddrRange{uint64(e), uint64(e) + uint64(p.Size)})
			}
		}
	}
	for _, wr := range w.Regions() {
		r := Region{
			Start: uint64(wr.Range.Base), End: uint64(wr.Range.End()),
			State: StateCommitted,
		}
		switch wr.State {
		case vmem.Free, vmem.Released:
			continue // fillFree adds the gaps
		case vmem.Reserved, vmem.Decommitted:
			r.State = StateReserved
		default:
			r.Committed = r.End - r.Start
		}
		if wr.Occupied {
			r.Type = kindType(wr.Kind)
			if r.Type == Heap {
				r.Owner = wr.Owner
			} else {
				r.Path = wr.Owner
			}
			if n := len(s.Regions); n > 0 {
				p := s.Regions[n-1]
				if p.End == r.Start && p.Type == r.Type && p.Path == r.Path && p.Owner == r.Owner {
					r.Base = p.Block()
				}
			}
		} else {
			r.Type, r.Owner = Heap, wr.Owner
			if wr.Owner == "" {
				r.Type = PrivateData
			}
			for _, b := range bases {
				if b.Contains(r.Start) {
					r.Base = b.Start
				}
			}
		}
		if r.Type != Image && r.Type != MappedFile && r.Type != Shareable {
			r.Private = r.Committed
		}
		s.Regions = append(s.Regions, r)
	}
	s.Regions = fillFree(s.Regions, s.Span)
	return s
}

// kindType maps a window's kinds of pre-occupied ranges to VMMap types.
func kindType(k vmem.Kind) Type {
	switch k {
	case vmem.KindImage:
		return Image
	case vmem.KindMapped:
		return MappedFile
	case vmem.KindStack:
		return Stack
	case vmem.KindShareable:
		return Shareable
	case vmem.KindHeap:
		return Heap
	}
	return PrivateData
}
