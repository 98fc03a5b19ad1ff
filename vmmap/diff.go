package vmmap

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/internal/visible"
)

// ChangeKind says how a block differs between two snapshots.
type ChangeKind uint8

const (
	Appeared ChangeKind = iota + 1 // only in the second snapshot
	Vanished                       // only in the first snapshot
	Grew                           // same start, larger
	Shrank                         // same start, smaller
	Changed                        // same range and type; owner differs, or committed bytes moved (see Diff)
)

func (k ChangeKind) String() string {
	switch k {
	case Appeared:
		return "appeared"
	case Vanished:
		return "vanished"
	case Grew:
		return "grew"
	case Shrank:
		return "shrank"
	case Changed:
		return "changed"
	}
	return fmt.Sprintf("ChangeKind(%d)", uint8(k))
}

// Block is an allocation: the regions of one type that share Region.Block,
// merged. Diff compares blocks rather than regions because a committed
// watermark moving inside a reservation splits its regions differently
// without changing the allocation.
type Block struct {
	AddrRange
	Type      Type
	Owner     string
	Path      string
	Committed uint64
	Regions   int
}

// Blocks groups the snapshot's non-free regions into allocations, in
// address order.
func Blocks(s *Snapshot) []Block {
	var out []Block
	at := map[[2]uint64]int{}
	for _, r := range s.Regions {
		if r.Type == Free {
			continue
		}
		k := r.blockKey()
		if i, ok := at[k]; ok {
			b := &out[i]
			b.Start, b.End = min(b.Start, r.Start), max(b.End, r.End)
			b.Committed += r.Committed
			b.Regions++
			continue
		}
		at[k] = len(out)
		out = append(out, Block{AddrRange{r.Start, r.End}, r.Type, r.Owner, r.Path, r.Committed, 1})
	}
	slices.SortStableFunc(out, func(a, b Block) int { return cmp.Compare(a.Start, b.Start) })
	return out
}

// Change is one difference found by Diff. Before is the zero Block for
// Appeared, After for Vanished.
type Change struct {
	Kind          ChangeKind
	Before, After Block
}

func (c Change) String() string {
	b := c.After
	if c.Kind == Vanished {
		b = c.Before
	}
	// Owners and paths are the process's to choose: escaped for the
	// terminal this line is printed on.
	what := b.Type.String()
	if b.Owner != "" {
		what += " " + visible.String(b.Owner)
	} else if b.Path != "" {
		what += " " + visible.String(b.Path)
	}
	switch c.Kind {
	case Grew, Shrank:
		return fmt.Sprintf("%-8s %v %s: %s -> %s", c.Kind, b.AddrRange, what,
			units.Bytes(c.Before.Size()), units.Bytes(c.After.Size()))
	case Changed:
		// Diff keys blocks by type, so only the owner can differ.
		if c.Before.Owner != c.After.Owner {
			bt := c.Before.Type.String()
			if c.Before.Owner != "" {
				bt += " " + visible.String(c.Before.Owner)
			}
			what += " (was " + bt + ")"
		}
		return fmt.Sprintf("%-8s %v %s, committed %s -> %s", c.Kind, b.AddrRange, what,
			units.Bytes(c.Before.Committed), units.Bytes(c.After.Committed))
	}
	return fmt.Sprintf("%-8s %v %s, %s", c.Kind, b.AddrRange, what, units.Bytes(b.Size()))
}

// Diff lists what changed from a to b, like VMMap's "Show Changes": blocks
// that appeared or vanished, grew or shrank (same start address and type),
// or changed owner or committed bytes, in address order.
//
// A block whose committed bytes alone changed is reported only when they
// moved by at least one allocation granule (b's Granularity, 4 KiB when
// unknown) and by at least 10% of the larger of the two figures. On Linux
// Committed is the resident size, which drifts by a few pages between two
// reads of an idle process; a committed watermark that moves, or memory
// that is touched or given back in earnest, passes both thresholds.
func Diff(a, b *Snapshot) []Change {
	gran := b.Granularity
	if gran == 0 {
		gran = a.Granularity
	}
	if gran == 0 {
		gran = 4096
	}
	type key struct {
		start uint64
		t     Type
	}
	before := map[key]Block{}
	for _, x := range Blocks(a) {
		before[key{x.Start, x.Type}] = x
	}
	var out []Change
	seen := map[key]bool{}
	for _, y := range Blocks(b) {
		k := key{y.Start, y.Type}
		x, ok := before[k]
		seen[k] = true
		switch {
		case !ok:
			out = append(out, Change{Kind: Appeared, After: y})
		case y.End > x.End:
			out = append(out, Change{Kind: Grew, Before: x, After: y})
		case y.End < x.End:
			out = append(out, Change{Kind: Shrank, Before: x, After: y})
		case x.Owner != y.Owner || committedMoved(x.Committed, y.Committed, gran):
			out = append(out, Change{Kind: Changed, Before: x, After: y})
		}
	}
	for _, x := range Blocks(a) {
		if !seen[key{x.Start, x.Type}] {
			out = append(out, Change{Kind: Vanished, Before: x})
		}
	}
	slices.SortStableFunc(out, func(p, q Change) int {
		return cmp.Compare(p.start(), q.start())
	})
	return out
}

func (c Change) start() uint64 {
	if c.Kind == Vanished {
		return c.Before.Start
	}
	return c.After.Start
}

// committedMoved reports whether committed bytes went from x to y by at
// least gran bytes and at least 10% of the larger figure (see Diff).
func committedMoved(x, y, gran uint64) bool {
	d := max(x, y) - min(x, y)
	return d >= gran && d >= max(x, y)/10
}
