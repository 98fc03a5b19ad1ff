package heap

import "math/bits"

// Small blocks (up to smallMax bytes, the LFH's limit) come from size
// classes: multiples of 16 up to 256, then eight classes per doubling
// (12.5 % apart at most), so a block wastes at most about 11 % of its size.
// Every class is a multiple of 16, so every block is 16-byte aligned.

const (
	smallMax = 16 << 10
	minAlign = 16
)

// classes[c] is the size of class c; classes[0] serves zero-byte requests
// with 16 bytes, as every other request of up to 16.
var classes = func() []uint32 {
	var cs []uint32
	for s := uint32(16); s <= 256; s += 16 {
		cs = append(cs, s)
	}
	for base := uint32(256); base < smallMax; base *= 2 {
		for i := uint32(1); i <= 8; i++ {
			cs = append(cs, base+i*base/8)
		}
	}
	return cs
}()

// classOf returns the class serving n bytes (n <= smallMax).
func classOf(n uintptr) int {
	if n <= 256 {
		if n == 0 {
			return 0
		}
		return int((n+15)/16) - 1
	}
	// n in (base, 2*base]: 16 classes below 256, then 8 per doubling.
	k := bits.Len(uint(n-1)) - 1 // base = 1<<k, 256 <= base < n <= 2*base
	step := uintptr(1) << (k - 3)
	i := (n - 1<<k + step - 1) / step // 1..8
	return 16 + (k-8)*8 + int(i) - 1
}

// slabPages returns the pages of a slab for class size s: enough for 64
// blocks or 64 KiB, whichever is smaller, rounded to whole pages, and grown
// while the tail that fits no block wastes more than an eighth of it.
func slabPages(s, page uintptr) uintptr {
	want := min(64*s, 64<<10)
	p := max((want+page-1)/page, 1)
	for p < 255 && (p*page)%s > p*page/8 {
		p++
	}
	for p > 1 && (p*page)/s > slabWords*64 && ((p-1)*page)/s >= 1 {
		p--
	}
	return p
}

// SlotSize returns the bytes of address space a block of n bytes takes in
// a heap whose pages are page bytes, as Heap.Size reports it: the size
// class serving it for blocks up to 16 KiB (16 bytes at the least, so a
// 1-byte block takes 16), whole pages for larger ones. Debug modes add
// their canary on top, and the heap's bookkeeping, kept apart, adds about
// 40 bytes per page in use. It returns 0 for a negative n or a page that
// is not a power of two.
func SlotSize(n, page int) int {
	if n < 0 || page <= 0 || page&(page-1) != 0 {
		return 0
	}
	if n <= smallMax {
		return int(classes[classOf(uintptr(n))])
	}
	return (n + page - 1) &^ (page - 1)
}
