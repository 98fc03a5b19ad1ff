package heap

import (
	"slices"
	"testing"
	"unsafe"
)

// FuzzArena drives an arena with a byte program and checks it against a
// reference model: the list of live objects with the byte each was filled
// with. After every step no two live objects overlap, each is aligned as
// asked, and its bytes are intact; a Reset empties the model and leaves
// the heap the one chunk it keeps; the arena's counters match the model's at the end,
// and the heap validates.
//
// Each step reads an opcode byte and a size byte: 0-4 Alloc of 0..1023
// bytes, 5 Alloc of a large object (size byte × 1 KiB), 6 AllocAligned
// (alignment 2^(size byte % 13)), 7 ArenaMakeSlice[uint64] (checked
// zeroed), 8 Reset, 9 the heap's Reset under the arena.
func FuzzArena(f *testing.F) {
	f.Add([]byte{0, 10, 0, 200, 5, 40, 6, 12, 8, 0, 0, 1})
	f.Add([]byte{5, 255, 5, 255, 7, 100, 9, 0, 0, 16, 8, 0, 6, 200})
	f.Add(slices.Repeat([]byte{1, 250, 2, 17, 6, 7}, 200))
	f.Fuzz(func(t *testing.T, prog []byte) {
		h, err := New(Options{Name: "fuzz-arena", Reserve: 64 << 20})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Destroy()
		a, err := NewArena(h, ArenaOptions{Chunk: 4 << 10, MaxChunk: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		type obj struct {
			p    uintptr
			n    int
			fill byte
		}
		var live []obj // sorted by address
		var allocs uint64
		check := func(o obj) {
			b := unsafe.Slice((*byte)(unsafe.Add(nil, o.p)), o.n)
			if i := firstOther(b, o.fill); i >= 0 {
				t.Fatalf("object %#x of %d bytes: byte %d is %#x, want %#x", o.p, o.n, i, b[i], o.fill)
			}
		}
		add := func(p unsafe.Pointer, n, align int, fill byte) {
			if p == nil || uintptr(p)%uintptr(align) != 0 {
				t.Fatalf("object of %d bytes at %p, want aligned to %d", n, p, align)
			}
			o := obj{uintptr(p), max(n, 1), fill}
			i, _ := slices.BinarySearchFunc(live, o.p, func(x obj, p uintptr) int {
				switch {
				case x.p < p:
					return -1
				case x.p > p:
					return 1
				}
				return 0
			})
			if i > 0 && live[i-1].p+uintptr(live[i-1].n) > o.p || i < len(live) && o.p+uintptr(o.n) > live[i].p {
				t.Fatalf("object %#x of %d bytes overlaps a live one", o.p, o.n)
			}
			fillByte(unsafe.Slice((*byte)(p), o.n), fill)
			live = slices.Insert(live, i, o)
			allocs++
		}
		for k := 0; k+1 < len(prog) && k < 4000; k += 2 {
			op, arg := prog[k]%10, int(prog[k+1])
			fill := byte(k/2 + 1)
			switch op {
			case 0, 1, 2, 3, 4:
				n := arg<<2 | int(op)
				p, err := a.Alloc(n)
				if err != nil {
					t.Fatal(err)
				}
				add(p, n, 16, fill)
			case 5:
				p, err := a.Alloc(arg << 10)
				if err != nil {
					t.Fatal(err)
				}
				add(p, arg<<10, 16, fill)
			case 6:
				align := 1 << (arg % 13)
				p, err := a.AllocAligned(arg, align)
				if err != nil {
					t.Fatal(err)
				}
				add(p, arg, align, fill)
			case 7:
				s, err := ArenaMakeSlice[uint64](a, arg, arg)
				if err != nil {
					t.Fatal(err)
				}
				if arg == 0 {
					break
				}
				for i, v := range s {
					if v != 0 {
						t.Fatalf("ArenaMakeSlice element %d is %#x", i, v)
					}
				}
				add(unsafe.Pointer(unsafe.SliceData(s)), 8*arg, 8, fill)
			case 8:
				if err := a.Reset(); err != nil {
					t.Fatal(err)
				}
				live = live[:0]
				// One chunk kept, or none when the heap's Reset took them.
				if st, hs := a.Stats(), h.stats(false); st.Used != 0 || st.Chunks > 1 || st.Big != 0 || hs.Blocks != st.Chunks {
					t.Fatalf("after Reset: arena %+v, heap %d blocks", st, hs.Blocks)
				}
			case 9:
				if err := h.Reset(); err != nil {
					t.Fatal(err)
				}
				live = live[:0]
			}
			if len(live) > 0 {
				check(live[len(live)-1])
			}
		}
		for _, o := range live {
			check(o)
		}
		if st := a.Stats(); st.Allocs != allocs {
			t.Errorf("arena counted %d objects, the model %d", st.Allocs, allocs)
		}
		if err := h.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := a.Free(); err != nil {
			t.Fatal(err)
		}
		if hs := h.stats(false); hs.Blocks != 0 {
			t.Errorf("after the arena's Free the heap holds %d blocks", hs.Blocks)
		}
	})
}
