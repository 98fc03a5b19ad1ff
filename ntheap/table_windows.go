//go:build windows

package ntheap

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zebra-heap/zebra/internal/winapi"
)

// table is the heap's out-of-band record of its blocks: an open-addressing
// hash table (linear probing) from a block's address to its requested size,
// in memory of its own from VirtualAlloc, outside the Go heap and outside
// the NT heap. Every Free, Realloc and Size looks the pointer up here
// before ntdll sees it, so a bad pointer never reaches RtlFreeHeap, where
// it could terminate the process.
//
// A freed block stays in the table, marked free, until the table is
// rebuilt: a second free of it is then a double free, not a foreign
// pointer (the NT heap may have released the memory of a large block, so
// a walk alone could not tell). Slots are never emptied except by a
// rebuild, so probing needs no tombstones.
type table struct {
	slots []slot // len is a power of two; nil when the table is released
	live  int    // slots holding a live block
	used  int    // slots holding a live or a freed block
}

// slot is one entry: addr 0 is empty; size has freedBit set when the block
// was freed.
type slot struct {
	addr uintptr
	size uintptr
}

const (
	freedBit     = 1 << (unsafe.Sizeof(uintptr(0))*8 - 1)
	minSlots     = 1 << 12 // 64 KiB on 64-bit: one allocation granule
	maxLoadNum   = 7       // rebuild above 7/10 full
	maxLoadDenom = 10
)

func newTable() (*table, error) {
	t := &table{}
	s, err := allocSlots(minSlots)
	if err != nil {
		return nil, err
	}
	t.slots = s
	return t, nil
}

func allocSlots(n int) ([]slot, error) {
	size := uintptr(n) * unsafe.Sizeof(slot{})
	addr, err := windows.VirtualAlloc(0, size, windows.MEM_RESERVE|windows.MEM_COMMIT, windows.PAGE_READWRITE)
	if err != nil {
		return nil, fmt.Errorf("block table of %d slots: VirtualAlloc: %w", n, err)
	}
	return unsafe.Slice((*slot)(winapi.PointerAt(addr)), n), nil
}

func freeSlots(s []slot) {
	if len(s) > 0 {
		windows.VirtualFree(uintptr(unsafe.Pointer(&s[0])), 0, windows.MEM_RELEASE)
	}
}

// release gives the table's memory back.
func (t *table) release() {
	freeSlots(t.slots)
	t.slots, t.live, t.used = nil, 0, 0
}

func (t *table) home(addr uintptr) int {
	// Fibonacci hashing of the address without its 16-byte alignment.
	h := uint64(addr>>4) * 0x9E3779B97F4A7C15
	return int(h>>32) & (len(t.slots) - 1)
}

// find returns the slot index of addr, or -1.
func (t *table) find(addr uintptr) int {
	mask := len(t.slots) - 1
	for i := t.home(addr); ; i = (i + 1) & mask {
		switch t.slots[i].addr {
		case addr:
			return i
		case 0:
			return -1
		}
	}
}

// lookup returns the requested size of the live block at addr, and whether
// addr is a live block, a freed one (known), or unknown.
func (t *table) lookup(addr uintptr) (size uintptr, live, known bool) {
	i := t.find(addr)
	if i < 0 {
		return 0, false, false
	}
	s := t.slots[i].size
	return s &^ freedBit, s&freedBit == 0, true
}

// insert records a live block. After ensure it cannot run out of room; it
// fails when addr is already live, which means ntdll handed out a busy
// block.
func (t *table) insert(addr, size uintptr) error {
	if i := t.find(addr); i >= 0 {
		if t.slots[i].size&freedBit == 0 {
			return fmt.Errorf("block table: %#x is already live (ntdll returned a busy block)", addr)
		}
		t.slots[i].size = size
		t.live++
		return nil
	}
	if err := t.ensure(); err != nil {
		return err
	}
	mask := len(t.slots) - 1
	i := t.home(addr)
	for t.slots[i].addr != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = slot{addr, size}
	t.live++
	t.used++
	return nil
}

// ensure makes room for one more block, so that a block ntdll has just
// handed out can always be recorded.
func (t *table) ensure() error {
	if (t.used+1)*maxLoadDenom > len(t.slots)*maxLoadNum {
		return t.rebuild()
	}
	return nil
}

// markFreed marks the live block at addr freed.
func (t *table) markFreed(addr uintptr) {
	if i := t.find(addr); i >= 0 && t.slots[i].size&freedBit == 0 {
		t.slots[i].size |= freedBit
		t.live--
	}
}

// setSize changes the recorded size of the live block at addr.
func (t *table) setSize(addr, size uintptr) {
	if i := t.find(addr); i >= 0 {
		t.slots[i].size = size
	}
}

// rebuild copies the table into one with room for twice its blocks. The
// freed marks come along while they are no more than the live blocks;
// beyond that they are dropped, so a heap that churns through many
// addresses does not grow its table without bound.
func (t *table) rebuild() error {
	keepFreed := t.used-t.live <= t.live
	want := t.live
	if keepFreed {
		want = t.used
	}
	n := minSlots
	for (want*2+1)*maxLoadDenom > n*maxLoadNum {
		n *= 2
	}
	s, err := allocSlots(n)
	if err != nil {
		return err
	}
	old := t.slots
	t.slots, t.used = s, 0
	mask := n - 1
	for _, e := range old {
		if e.addr == 0 || (e.size&freedBit != 0 && !keepFreed) {
			continue
		}
		i := t.home(e.addr)
		for t.slots[i].addr != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = e
		t.used++
	}
	freeSlots(old)
	return nil
}

// each calls fn for every live block.
func (t *table) each(fn func(addr, size uintptr)) {
	for _, e := range t.slots {
		if e.addr != 0 && e.size&freedBit == 0 {
			fn(e.addr, e.size)
		}
	}
}

// bytes returns the table's own memory, for Stats.
func (t *table) bytes() uint64 { return uint64(len(t.slots)) * uint64(unsafe.Sizeof(slot{})) }
