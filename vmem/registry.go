package vmem

import (
	"cmp"
	"slices"
	"sync"
)

// The registry lists every live reservation of the process, so that a map
// of the process can say which heap owns a region even where the kernel
// cannot name mappings. Only Reserve, Extend and Release take its lock; the
// committed counter it reads is atomic, so allocation paths never touch it.
var registry struct {
	mu   sync.Mutex
	next uint64
	live map[uint64]*Reservation
}

// Info describes one live reservation.
type Info struct {
	ID        uint64
	Owner     string  // as given to Reserve; may be empty
	Space     string  // the space's name, e.g. "linux" or a window's
	Pieces    []Range // allocation bases in address order
	Committed uintptr // bytes committed, as Reservation.Committed
	HugePages bool
}

// Range returns the whole range of the reservation.
func (i Info) Range() Range {
	first, last := i.Pieces[0], i.Pieces[len(i.Pieces)-1]
	return Range{first.Base, last.End() - first.Base}
}

func register(r *Reservation) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.live == nil {
		registry.live = make(map[uint64]*Reservation)
	}
	registry.next++
	r.id = registry.next
	registry.live[r.id] = r
}

// reregister puts back a reservation whose release failed, under its ID.
func reregister(r *Reservation) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.live[r.id] = r
}

func unregister(r *Reservation) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	delete(registry.live, r.id)
}

// Live returns the live reservations of the process made through this
// package, in every space, sorted by base address.
func Live() []Info { return Select(nil) }

// Select returns the live reservations for which keep (nil keeps all)
// returns true, sorted by base address. keep sees each reservation's owner,
// space and whole range, and runs under the registry's lock, so it must not
// call into this package; only the reservations it keeps are copied, which
// makes a narrow Select cheap where Live would copy and sort every
// reservation of the process.
func Select(keep func(owner, space string, r Range) bool) []Info {
	registry.mu.Lock()
	var out []Info
	for _, r := range registry.live {
		if keep != nil && !keep(r.owner, r.space, Range{r.pieces[0].Base, r.pieces[len(r.pieces)-1].End() - r.pieces[0].Base}) {
			continue
		}
		out = append(out, Info{
			ID:        r.id,
			Owner:     r.owner,
			Space:     r.space,
			Pieces:    append([]Range(nil), r.pieces...),
			Committed: r.committed.Load(),
			HugePages: r.huge,
		})
	}
	registry.mu.Unlock()
	slices.SortFunc(out, func(a, b Info) int { return cmp.Compare(a.Pieces[0].Base, b.Pieces[0].Base) })
	return out
}
