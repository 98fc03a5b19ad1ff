package heap

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// The page map: one for the process, shared by every heap, taking the
// address of any small block to its slab's record in two dependent loads
// (Go's arena index, mimalloc v3's page map). Slabs are slabBytes long and
// aligned to slabBytes, so a block's slab is its address with the low bits
// cleared, and the map has one entry per slabBytes of address space: a
// root array indexed by the high bits, whose entries point to leaves of
// 2^16 entries (4 GiB of address space each), made on first use and never
// freed, like the runtime's. A heap sets an entry when it makes a slab and
// clears it when the slab goes back to its pages, both under its lock;
// Free and Size read entries without any lock. The map is out of band:
// leaves live in reservations of their own ("zebra page map"), never in
// the blocks a heap hands out, nor in the Go heap. Addresses above
// pageMapBits (none on today's 64-bit systems unless a program asks for
// them) are simply not in the map: the heap then finds their slab through
// its page table, the slower path every pointer had before the map.

const (
	slabShift = 16
	slabBytes = 1 << slabShift // 64 KiB: one Windows allocation granule

	// pageMapBits is the width of the addresses the map covers: 48 bits
	// on 64-bit systems (4-level page tables), all 32 on 32-bit ones.
	pageMapBits = 32 + 16*(bits.UintSize/64)
	leafBits    = 16
	rootBits    = pageMapBits - slabShift - leafBits
)

type pageMapLeaf [1 << leafBits]atomic.Pointer[slabRec]

var pageMap struct {
	root [1 << rootBits]atomic.Pointer[pageMapLeaf]
	mu   sync.Mutex // guards making leaves
}

// pageMapOwner is the owner name of the page map's reservations in maps.
const pageMapOwner = "zebra page map"

// slabOf returns the record of the slab holding addr, or nil when no heap
// has a slab there (or addr is past the map).
func slabOf(addr uintptr) *slabRec {
	i := addr >> slabShift
	if i>>(rootBits+leafBits) != 0 {
		return nil
	}
	leaf := pageMap.root[i>>leafBits].Load()
	if leaf == nil {
		return nil
	}
	return leaf[i&(1<<leafBits-1)].Load()
}

// mapSlab points the map's entry for the slab at base to s, making its
// leaf if needed. It reports false, leaving the map unchanged, when base
// is past the map or a leaf cannot be made: the heap then finds the slab
// through its page table.
func mapSlab(base uintptr, s *slabRec) bool {
	i := base >> slabShift
	if i>>(rootBits+leafBits) != 0 {
		return false
	}
	r := &pageMap.root[i>>leafBits]
	leaf := r.Load()
	if leaf == nil {
		if leaf = makeLeaf(r); leaf == nil {
			return false
		}
	}
	leaf[i&(1<<leafBits-1)].Store(s)
	return true
}

// unmapSlab clears the map's entry for the slab at base if it is s: a
// record whose base was overwritten cannot clear another heap's entry.
func unmapSlab(base uintptr, s *slabRec) {
	i := base >> slabShift
	if i>>(rootBits+leafBits) != 0 {
		return
	}
	if leaf := pageMap.root[i>>leafBits].Load(); leaf != nil {
		leaf[i&(1<<leafBits-1)].CompareAndSwap(s, nil)
	}
}

// makeLeaf makes the leaf of root entry r, committed whole (its pages
// become resident only as entries are written: one 4 KiB page of entries
// covers 32 MiB of slabs).
func makeLeaf(r *atomic.Pointer[pageMapLeaf]) *pageMapLeaf {
	pageMap.mu.Lock()
	defer pageMap.mu.Unlock()
	if leaf := r.Load(); leaf != nil {
		return leaf
	}
	size := unsafe.Sizeof(pageMapLeaf{})
	res, err := vmem.OS().Reserve(size, vmem.Options{Owner: pageMapOwner})
	if err != nil {
		return nil
	}
	if err := res.Commit(res.Base(), res.Size()); err != nil {
		res.Release()
		return nil
	}
	leaf := (*pageMapLeaf)(res.Pointer())
	r.Store(leaf)
	return leaf
}
