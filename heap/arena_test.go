package heap

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

func newTestArena(t testing.TB, ho Options, ao ArenaOptions) (*Heap, *Arena) {
	t.Helper()
	h, err := New(ho)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Destroy() })
	a, err := NewArena(h, ao)
	if err != nil {
		t.Fatal(err)
	}
	return h, a
}

// TestArenaObjects fills an arena with objects of random sizes and
// alignments, each filled with its own byte, and checks that none overlaps
// another (every byte still holds its object's value), that each is
// aligned, and that the arena's and the heap's figures agree with what
// was asked, across Resets.
func TestArenaObjects(t *testing.T) {
	for _, ho := range []Options{{Name: "arena"}, {Name: "arena-noser", NoSerialize: true}, {Name: "arena-debug", Debug: DebugAll}} {
		t.Run(ho.Name, func(t *testing.T) {
			h, a := newTestArena(t, ho, ArenaOptions{Chunk: 4 << 10, MaxChunk: 64 << 10})
			r := rand.New(rand.NewPCG(1, 2))
			for round := range 3 {
				type obj struct {
					p     unsafe.Pointer
					n     int
					v     byte
					align int
				}
				var objs []obj
				var used uint64
				for i := range 2000 {
					n := r.IntN(300)
					if i%100 == 0 {
						n = 40 << 10 // a block of its own
					}
					align := 16
					var p unsafe.Pointer
					var err error
					if i%7 == 0 {
						align = 1 << (4 + r.IntN(6))
						p, err = a.AllocAligned(n, align)
					} else {
						p, err = a.Alloc(n)
					}
					if err != nil {
						t.Fatalf("round %d object %d (%d bytes aligned to %d): %v", round, i, n, align, err)
					}
					if uintptr(p)%uintptr(align) != 0 {
						t.Fatalf("object of %d bytes at %p, want aligned to %d", n, p, align)
					}
					v := byte(i*7 + round)
					fillByte(bytesOf(p, uintptr(n)), v)
					objs = append(objs, obj{p, n, v, align})
					used += uint64(max((n+15)&^15, 16))
				}
				for _, o := range objs {
					if i := firstOther(bytesOf(o.p, uintptr(o.n)), o.v); i >= 0 {
						t.Fatalf("round %d: object %p of %d bytes overwritten at byte %d", round, o.p, o.n, i)
					}
				}
				st := a.Stats()
				if st.Used < used || st.Used > used+uint64(len(objs))*512 || st.Allocs != uint64(2000*(round+1)) {
					t.Errorf("round %d: stats %+v, want Used from %d (the objects, rounded to 16) plus alignment gaps, Allocs %d", round, st, used, 2000*(round+1))
				}
				// The 40 KiB objects that did not fit the current chunk
				// got blocks of their own.
				if st.Big < 1 || st.Big > 20 || st.Reserved < st.Used {
					t.Errorf("round %d: stats %+v, want 1 to 20 blocks of their own and Reserved >= Used", round, st)
				}
				hs := h.stats(false)
				if hs.Blocks != st.Chunks+st.Big || hs.InUse < st.Reserved {
					t.Errorf("round %d: heap %v holds %d blocks, %d bytes; the arena says %d chunks + %d big, %d bytes",
						round, hs, hs.Blocks, hs.InUse, st.Chunks, st.Big, st.Reserved)
				}
				if err := h.Validate(); err != nil {
					t.Fatal(err)
				}
				if err := a.Reset(); err != nil {
					t.Fatal(err)
				}
				st = a.Stats()
				if st.Chunks != 1 || st.Big != 0 || st.Used != 0 || st.Resets != uint64(round+1) || st.Reserved != 64<<10 {
					t.Errorf("after Reset %d: %+v, want the largest chunk (64 KiB) kept and nothing used", round, st)
				}
				if hs := h.stats(false); hs.Blocks != 1 {
					t.Errorf("after Reset the heap holds %d blocks, want the kept chunk", hs.Blocks)
				}
			}
			if err := a.Free(); err != nil {
				t.Fatal(err)
			}
			if hs := h.stats(false); hs.Blocks != 0 || hs.InUse != 0 {
				t.Errorf("after the arena's Free the heap holds %v", hs)
			}
		})
	}
}

// TestArenaChunksGrow checks the doubling and its cap, and that a request
// larger than a chunk's quarter takes a block of its own.
func TestArenaChunksGrow(t *testing.T) {
	_, a := newTestArena(t, Options{Name: "grow"}, ArenaOptions{Chunk: 1 << 10, MaxChunk: 8 << 10})
	for range 39 << 10 / 64 { // 1+2+4+8+8+8+8 KiB: seven chunks, full
		if _, err := a.Alloc(64); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []uintptr
	for _, c := range a.chunks {
		sizes = append(sizes, c.size)
	}
	want := []uintptr{1 << 10, 2 << 10, 4 << 10, 8 << 10, 8 << 10, 8 << 10, 8 << 10}
	if len(sizes) != len(want) {
		t.Fatalf("chunks %v, want %v", sizes, want)
	}
	for i := range want {
		if sizes[i] != want[i] {
			t.Fatalf("chunks %v, want %v", sizes, want)
		}
	}
	before := len(a.chunks)
	if _, err := a.Alloc(3 << 10); err != nil { // over 8 KiB / 4
		t.Fatal(err)
	}
	if len(a.chunks) != before || len(a.big) != 1 {
		t.Errorf("a 3 KiB object: %d chunks (was %d), %d blocks of their own; want a block of its own", len(a.chunks), before, len(a.big))
	}
}

// TestArenaTyped checks that the typed helpers zero what a previous round
// left, refuse types with Go pointers and bad lengths.
func TestArenaTyped(t *testing.T) {
	_, a := newTestArena(t, Options{Name: "typed"}, ArenaOptions{})
	b, err := a.Alloc(4096)
	if err != nil {
		t.Fatal(err)
	}
	fillByte(bytesOf(b, 4096), 0xAB)
	if err := a.Reset(); err != nil {
		t.Fatal(err)
	}
	type rec struct {
		ID   uint64
		Vals [5]float64
	}
	r, err := ArenaNew[rec](a)
	if err != nil || *r != (rec{}) {
		t.Fatalf("ArenaNew after a dirty round: %+v, %v; want a zeroed value", r, err)
	}
	s, err := ArenaMakeSlice[uint32](a, 10, 100)
	if err != nil || len(s) != 10 || cap(s) != 100 {
		t.Fatalf("ArenaMakeSlice: len %d cap %d, %v", len(s), cap(s), err)
	}
	for i, v := range s[:100] {
		if v != 0 {
			t.Fatalf("element %d is %#x, want 0", i, v)
		}
	}
	type wide struct {
		X uint64
		F func()
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"string", func() error { _, err := ArenaNew[string](a); return err }(), ErrNotPointerFree},
		{"func field", func() error { _, err := ArenaNew[wide](a); return err }(), ErrNotPointerFree},
		{"slice of pointers", func() error { _, err := ArenaMakeSlice[*int](a, 1, 1); return err }(), ErrNotPointerFree},
		{"negative length", func() error { _, err := ArenaMakeSlice[int](a, -1, 1); return err }(), ErrInvalidSize},
		{"cap below len", func() error { _, err := ArenaMakeSlice[int](a, 2, 1); return err }(), ErrInvalidSize},
		{"overflowing cap", func() error { _, err := ArenaMakeSlice[[1 << 20]byte](a, 0, math.MaxInt/1000); return err }(), ErrInvalidSize},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if s, err := ArenaMakeSlice[int](a, 0, 0); s != nil || err != nil {
		t.Errorf("ArenaMakeSlice(0, 0) = %v, %v; want nil, nil", s, err)
	}
	if p, q := mustAlloc(t, a, 0), mustAlloc(t, a, 0); p == q || p == nil {
		t.Errorf("Alloc(0) twice: %p, %p; want two distinct pointers", p, q)
	}
}

func mustAlloc(t *testing.T, a *Arena, n int) unsafe.Pointer {
	t.Helper()
	p, err := a.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestArenaBadInput: every misuse is an error naming it, never a panic.
func TestArenaBadInput(t *testing.T) {
	var nilArena *Arena
	fixed, err := New(Options{Name: "fixed-arena", Maximum: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer fixed.Destroy()
	fa, err := NewArena(fixed, ArenaOptions{Chunk: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, a := newTestArena(t, Options{Name: "bad"}, ArenaOptions{})
	calls := []struct {
		name string
		call func() error
		want error
	}{
		{"NewArena nil heap", func() error { _, err := NewArena(nil, ArenaOptions{}); return err }, ErrNilHeap},
		{"NewArena negative chunk", func() error { _, err := NewArena(fixed, ArenaOptions{Chunk: -1}); return err }, ErrInvalidSize},
		{"NewArena max below chunk", func() error { _, err := NewArena(fixed, ArenaOptions{Chunk: 8 << 10, MaxChunk: 4 << 10}); return err }, ErrInvalidSize},
		{"NewArena chunk over a fixed heap", func() error { _, err := NewArena(fixed, ArenaOptions{Chunk: 2 << 20}); return err }, ErrTooLarge},
		{"NewArena huge chunk", func() error { _, err := NewArena(fixed, ArenaOptions{Chunk: math.MaxInt}); return err }, ErrTooLarge},
		{"nil Alloc", func() error { _, err := nilArena.Alloc(8); return err }, ErrNilArena},
		{"nil AllocAligned", func() error { _, err := nilArena.AllocAligned(8, 64); return err }, ErrNilArena},
		{"nil AllocAligned bad align", func() error { _, err := nilArena.AllocAligned(8, 3); return err }, ErrNilArena},
		{"nil Reset", nilArena.Reset, ErrNilArena},
		{"nil Free", nilArena.Free, ErrNilArena},
		{"nil ArenaNew", func() error { _, err := ArenaNew[int](nilArena); return err }, ErrNilArena},
		{"nil ArenaMakeSlice", func() error { _, err := ArenaMakeSlice[int](nilArena, 1, 1); return err }, ErrNilArena},
		{"negative", func() error { _, err := a.Alloc(-1); return err }, ErrInvalidSize},
		{"MinInt", func() error { _, err := a.Alloc(math.MinInt); return err }, ErrInvalidSize},
		{"MaxInt", func() error { _, err := a.Alloc(math.MaxInt); return err }, ErrTooLarge},
		{"aligned negative", func() error { _, err := a.AllocAligned(-5, 64); return err }, ErrInvalidSize},
		{"align 0", func() error { _, err := a.AllocAligned(8, 0); return err }, ErrInvalidSize},
		{"align 3", func() error { _, err := a.AllocAligned(8, 3); return err }, ErrInvalidSize},
		{"align 2 GiB", func() error { align := maxAlign; _, err := a.AllocAligned(8, 2*align); return err }, ErrInvalidSize},
		{"fixed heap full", func() error { _, err := fa.Alloc(900 << 10); return err }, ErrNoMemory},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if nilArena.Stats() != (ArenaStats{}) {
		t.Errorf("nil arena stats %+v", nilArena.Stats())
	}
	// The arena still works after every refusal.
	if _, err := a.Alloc(100); err != nil {
		t.Fatal(err)
	}
}

// TestArenaAfterFree: a freed arena refuses everything with ErrArenaFreed.
func TestArenaAfterFree(t *testing.T) {
	h, a := newTestArena(t, Options{Name: "freed"}, ArenaOptions{})
	mustAlloc(t, a, 64)
	if err := a.Free(); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Alloc":          func() error { _, err := a.Alloc(8); return err },
		"Alloc(0)":       func() error { _, err := a.Alloc(0); return err },
		"AllocAligned":   func() error { _, err := a.AllocAligned(8, 64); return err },
		"ArenaNew":       func() error { _, err := ArenaNew[int](a); return err },
		"ArenaMakeSlice": func() error { _, err := ArenaMakeSlice[byte](a, 1, 1); return err },
		"Reset":          a.Reset,
		"Free":           a.Free,
	} {
		if err := call(); !errors.Is(err, ErrArenaFreed) {
			t.Errorf("%s after Free: %v, want ErrArenaFreed", name, err)
		}
	}
	if st := h.stats(false); st.Blocks != 0 {
		t.Errorf("heap after the arena's Free: %v", st)
	}
	if st := a.Stats(); st.Chunks != 0 || st.Reserved != 0 || st.Allocs != 1 {
		t.Errorf("freed arena's stats %+v, want no chunks and its counters", st)
	}
}

// TestArenaHeapResetAndDestroy: the heap's Reset frees the chunks, and the
// arena starts again empty instead of handing out freed memory; after the
// heap's Destroy every call is ErrDestroyed.
func TestArenaHeapResetAndDestroy(t *testing.T) {
	h, a := newTestArena(t, Options{Name: "under"}, ArenaOptions{})
	mustAlloc(t, a, 64)
	if err := h.Reset(); err != nil {
		t.Fatal(err)
	}
	// The heap's next block may take the chunk's old place; the arena's
	// next object must not land inside it.
	other, err := h.Alloc(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	p := mustAlloc(t, a, 64)
	if uintptr(p) >= uintptr(other) && uintptr(p) < uintptr(other)+64<<10 {
		t.Fatalf("after the heap's Reset the arena handed out %p inside the heap's new block %p", p, other)
	}
	if st := a.Stats(); st.Chunks != 1 || st.Used != 64 {
		t.Errorf("after the heap's Reset: %+v, want one new chunk with 64 bytes used", st)
	}
	if err := h.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(); err != nil {
		t.Errorf("Free after the heap's Reset: %v (nothing to give back)", err)
	}
	if st := h.stats(false); st.Blocks != 0 {
		t.Errorf("the arena's Free after the heap's Reset freed someone else's block: %v", st)
	}

	b, err := NewArena(h, ArenaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Alloc":        func() error { _, err := b.Alloc(8); return err },
		"AllocAligned": func() error { _, err := b.AllocAligned(8, 64); return err },
		"Reset":        b.Reset,
		"Free":         b.Free,
	} {
		if err := call(); !errors.Is(err, ErrDestroyed) && !errors.Is(err, ErrArenaFreed) {
			t.Errorf("%s after the heap's Destroy: %v, want ErrDestroyed", name, err)
		}
	}
	if _, err := NewArena(h, ArenaOptions{}); !errors.Is(err, ErrDestroyed) {
		t.Errorf("NewArena on a destroyed heap: %v", err)
	}
}

// TestArenaZeroHeap: with Options.Zero every object reads as zero, also
// from a chunk reused after Reset.
func TestArenaZeroHeap(t *testing.T) {
	_, a := newTestArena(t, Options{Name: "zero", Zero: true}, ArenaOptions{})
	for round := range 2 {
		for i := range 500 {
			n := 1 + i%200
			p := mustAlloc(t, a, n)
			if j := firstOther(bytesOf(p, uintptr(n)), 0); j >= 0 {
				t.Fatalf("round %d: object of %d bytes has a non-zero byte at %d", round, n, j)
			}
			fillByte(bytesOf(p, uintptr(n)), 0xCD)
		}
		if err := a.Reset(); err != nil {
			t.Fatal(err)
		}
	}
}

// firstOther returns the index of the first byte of b that is not v, or -1.
func firstOther(b []byte, v byte) int {
	for i, x := range b {
		if x != v {
			return i
		}
	}
	return -1
}
