package vmmap

import (
	"cmp"
	"slices"
	"strings"

	"github.com/zebra-heap/zebra/vmem"
)

// Row is one line of VMMap's summary table: the regions of one type.
type Row struct {
	Type      Type
	Size      uint64 // bytes of address space
	Committed uint64 // bytes counting towards the commit charge (Region.Committed)
	Resident  uint64 // resident bytes, the working set (Region.RSS; Linux only)
	Private   uint64 // private bytes (Linux: private clean + private dirty)
	Blocks    int    // allocations: regions grouped by Region.Block
	Largest   uint64 // the largest block; on the Free row, the largest free block
}

// Summary is VMMap's summary table: one row per type in the order of Types
// (types with no regions included, with zeros) and a total over all of them
// except Free, as VMMap's Total row.
type Summary struct {
	Span  AddrRange // the span Free was measured in
	Rows  []Row
	Total Row // Type is meaningless here; Blocks and Largest cover used types
}

// Row returns the row of type t.
func (s Summary) Row(t Type) Row {
	for _, r := range s.Rows {
		if r.Type == t {
			return r
		}
	}
	return Row{Type: t}
}

// Summarize computes the summary table. A block is a run of regions of one
// type with the same Block() (an allocation with its reserved and committed
// parts); Free regions are blocks of their own.
//
// Everything is measured within the snapshot's span: regions outside it
// (such as [vsyscall] above a Linux process's default span) are left out,
// and a region that straddles an end of the span counts only the part
// inside, with its counters scaled as WithSpan does. A snapshot with an
// empty span is summarised whole.
func Summarize(s *Snapshot) Summary {
	sum := Summary{Span: s.Span, Rows: make([]Row, len(Types))}
	at := map[Type]int{}
	for i, t := range Types {
		sum.Rows[i].Type = t
		at[t] = i
	}
	blocks := map[[2]uint64]uint64{}
	for _, r := range s.Regions {
		i, ok := at[r.Type]
		if !ok || !s.inSpan(r) {
			continue
		}
		if s.Span.Start < s.Span.End {
			r = clip(r, max(r.Start, s.Span.Start), min(r.End, s.Span.End))
		}
		row := &sum.Rows[i]
		row.Size += r.Size()
		row.Committed += r.Committed
		row.Resident += r.RSS
		row.Private += r.Private
		k := r.blockKey()
		if _, seen := blocks[k]; !seen {
			row.Blocks++
		}
		blocks[k] += r.Size()
		row.Largest = max(row.Largest, blocks[k])
	}
	for _, row := range sum.Rows {
		if row.Type == Free {
			continue
		}
		sum.Total.Size += row.Size
		sum.Total.Committed += row.Committed
		sum.Total.Resident += row.Resident
		sum.Total.Private += row.Private
		sum.Total.Blocks += row.Blocks
		sum.Total.Largest = max(sum.Total.Largest, row.Largest)
	}
	return sum
}

// FreeBlocks returns the free regions within the snapshot's span, largest
// first (equal sizes in address order). The first one is what VMMap shows
// as "Largest" on its Free row: the biggest allocation that still fits.
func FreeBlocks(s *Snapshot) []Region {
	var out []Region
	for _, r := range s.Regions {
		if r.Type == Free && r.End > s.Span.Start && r.Start < s.Span.End {
			out = append(out, clip(r, max(r.Start, s.Span.Start), min(r.End, s.Span.End)))
		}
	}
	slices.SortStableFunc(out, func(a, b Region) int {
		if c := cmp.Compare(b.Size(), a.Size()); c != 0 {
			return c
		}
		return cmp.Compare(a.Start, b.Start)
	})
	return out
}

// IsSystemOwner reports whether owner is one of the names this package
// gives to memory of the C library or the Go runtime rather than to a zebra
// heap: "[heap]" (the brk heap), [GoHeapOwner], [GlibcArenaOwner],
// [JemallocOwner], [MimallocOwner], [JavaHeapOwner] and [JITCodeOwner]. Those
// owners stand for many allocations of one allocator, not for a heap a
// program created, so [ZebraScore] ignores them, they never make another
// owner's stripes alternate, and renderers give them their type's colour
// rather than a shade of their own. Zebra heaps must not use these names.
func IsSystemOwner(owner string) bool {
	return vmem.IsSystemOwner(owner)
}

// isZebraOwner reports whether a region belongs to a zebra heap: it has an
// owner and the owner is not a system one.
func isZebraOwner(r Region) bool {
	return r.Type != Free && r.Owner != "" && !IsSystemOwner(r.Owner)
}

// OwnerStats describes the regions of one owner (a zebra heap, the Go heap,
// a glibc arena…). See Owners for the definitions.
type OwnerStats struct {
	Owner     string
	System    bool        // IsSystemOwner(Owner)
	Type      Type        // the type holding most of the owner's bytes
	Ranges    []AddrRange // the owner's stripes, in address order
	Bytes     uint64      // address space: reserved and committed
	Committed uint64      // bytes counting towards the commit charge (Region.Committed)
	// Stripes is len(Ranges): the number of separate ranges.
	Stripes int
	// Alternation is the number of gaps between consecutive stripes of
	// this owner that contain a stripe of a zebra heap.
	Alternation int
}

// Owners returns per-owner statistics for every non-empty Region.Owner, in
// the order of each owner's lowest address.
//
// Definitions, walking up the address space:
//
//   - A stripe (one element of Ranges) is a maximal run of regions of the
//     owner in which each region starts where the previous one ends. Free
//     space, a region of no owner or of another owner ends a stripe. For a
//     system owner (IsSystemOwner) a new allocation (Region.Block) also
//     ends a stripe: two glibc arenas that happen to touch are two arenas,
//     not one stripe.
//   - Alternation counts the gaps between two consecutive stripes of the
//     owner that hold at least one region of a zebra heap other than the
//     owner. Memory of system owners never counts: the Go heap or a malloc
//     arena between two pieces of a heap is no other heap's stripe. It
//     lies between 0 (the stripes are separated only by free space,
//     unowned or system memory) and Stripes-1 (every gap holds another
//     heap).
//
// In a layout A B A B … of n stripes alternating between two owners, each
// owner has n/2 stripes (rounded as the layout dictates) and an alternation
// of its stripes minus one; ZebraScore of that layout is n-1.
func Owners(s *Snapshot) []OwnerStats {
	var out []OwnerStats
	index := map[string]int{}
	typeBytes := map[string]map[Type]uint64{}
	// lastEnd[o] and lastBlock[o] are where o's current stripe ends and
	// the allocation it ends with; foreign[o] records whether a zebra
	// heap other than o appeared since.
	lastEnd := map[string]uint64{}
	lastBlock := map[string]uint64{}
	foreign := map[string]bool{}
	for _, r := range s.Regions {
		if r.Type == Free || r.Owner == "" {
			continue
		}
		i, ok := index[r.Owner]
		if !ok {
			i = len(out)
			index[r.Owner] = i
			out = append(out, OwnerStats{Owner: r.Owner, System: IsSystemOwner(r.Owner)})
			typeBytes[r.Owner] = map[Type]uint64{}
		}
		o := &out[i]
		o.Bytes += r.Size()
		o.Committed += r.Committed
		typeBytes[r.Owner][r.Type] += r.Size()
		n := len(o.Ranges)
		joins := n > 0 && lastEnd[r.Owner] == r.Start && o.Ranges[n-1].End == r.Start &&
			(!o.System || lastBlock[r.Owner] == r.Block())
		if joins {
			o.Ranges[n-1].End = r.End
		} else {
			if n > 0 && foreign[r.Owner] {
				o.Alternation++
			}
			o.Ranges = append(o.Ranges, AddrRange{r.Start, r.End})
		}
		lastEnd[r.Owner], lastBlock[r.Owner] = r.End, r.Block()
		foreign[r.Owner] = false
		if o.System {
			continue
		}
		for other := range foreign {
			if HeapOf(other) != HeapOf(r.Owner) {
				foreign[other] = true
			}
		}
	}
	for i := range out {
		o := &out[i]
		o.Stripes = len(o.Ranges)
		var best uint64
		for _, t := range Types {
			if b := typeBytes[o.Owner][t]; b > best {
				best, o.Type = b, t
			}
		}
	}
	return out
}

// ZebraScore is the number of heap changes walking up the address space
// over the regions of zebra heaps, ignoring free, unowned and system-owned
// memory (IsSystemOwner) in between: 0 when every heap's memory is in one
// place or there are no zebra heaps, n-1 for n stripes alternating between
// heaps. A heap's metadata is part of the heap (HeapOf): one heap alone
// scores 0 however its bookkeeping lies.
//
// The score measures how live heaps interleave, so destroying a heap
// always lowers it; whether a destroy left the space fragmented is told by
// the free blocks it leaves (FreeBlocks), not by the score.
func ZebraScore(s *Snapshot) int {
	score, prev := 0, ""
	for _, r := range s.Regions {
		if !isZebraOwner(r) {
			continue
		}
		h := HeapOf(r.Owner)
		if prev != "" && h != prev {
			score++
		}
		prev = h
	}
	return score
}

// metadataSuffix ends the owner name of a heap's bookkeeping reservations:
// heap.MetadataOwner(name) is name + metadataSuffix (a test in cmd/zebra,
// which imports both packages, keeps the two in step).
const metadataSuffix = " (metadata)"

// HeapOf returns the heap an owner belongs to: the owner itself, or for
// the metadata of a heap ("heap A (metadata)") the heap's name.
func HeapOf(owner string) string { return strings.TrimSuffix(owner, metadataSuffix) }

// IsMetadata reports whether owner names a heap's metadata.
func IsMetadata(owner string) bool { return HeapOf(owner) != owner }
