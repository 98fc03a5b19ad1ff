package vmmap

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/zebra-heap/zebra/vmem"
)

// Attribute marks the regions covered by the given reservations as Heap
// memory of their owners (a reservation without an owner is named
// "vmem #ID"), splitting regions at the reservations' edges: the kernel
// merges adjacent mappings with equal protection, so two heaps' stripes can
// share one mapping. A split region's counters are shared in proportion to
// size (the kernel reports them per mapping), so they are estimates.
//
// Pass the entries of vmem.Live whose Space is the snapshot's address space
// (vmem.OS().Name() for the calling process); Self does this itself.
func Attribute(s *Snapshot, infos []vmem.Info) {
	type piece struct {
		AddrRange
		owner string
	}
	var pieces []piece
	for _, in := range infos {
		owner := in.Owner
		if owner == "" {
			owner = fmt.Sprintf("vmem #%d", in.ID)
		}
		for _, p := range in.Pieces {
			if p.Size > 0 {
				pieces = append(pieces, piece{AddrRange{uint64(p.Base), uint64(p.Base) + uint64(p.Size)}, owner})
			}
		}
	}
	if len(pieces) == 0 {
		return
	}
	slices.SortFunc(pieces, func(a, b piece) int { return cmp.Compare(a.Start, b.Start) })
	var out []Region
	for _, r := range s.Regions {
		if r.Type == Free {
			out = append(out, r)
			continue
		}
		at := r.Start
		for _, p := range pieces {
			if p.End <= at || p.Start >= r.End {
				continue
			}
			if p.Start > at {
				out = append(out, clip(r, at, p.Start))
				at = p.Start
			}
			end := min(p.End, r.End)
			c := clip(r, at, end)
			c.Type, c.Owner, c.Base = Heap, p.owner, p.Start
			out = append(out, c)
			at = end
		}
		if at < r.End {
			out = append(out, clip(r, at, r.End))
		}
	}
	s.Regions = out
}

// ownInfos returns the live reservations in the host address space.
func ownInfos() []vmem.Info {
	var own []vmem.Info
	name := vmem.OS().Name()
	for _, in := range vmem.Live() {
		if in.Space == name && len(in.Pieces) > 0 {
			own = append(own, in)
		}
	}
	return own
}
