package heap

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// limitSizes are the sizes the limit tests allocate: small blocks of
// several classes, large runs and, past 1 MiB, blocks that extend the
// heap's reservation.
func limitSize(rng *rand.Rand) int {
	switch rng.IntN(8) {
	case 0:
		return 64<<10 + rng.IntN(960<<10)
	case 1:
		return 16<<10 + rng.IntN(48<<10)
	default:
		return 16 + rng.IntN(4096)
	}
}

// fill allocates and writes blocks until the limit refuses one, checking
// that Committed never passes the limit, and returns the blocks.
func fillToLimit(t *testing.T, h *Heap, limit uint64, rng *rand.Rand) []unsafe.Pointer {
	t.Helper()
	var live []unsafe.Pointer
	for i := 0; ; i++ {
		n := limitSize(rng)
		p, err := h.Alloc(n)
		if st := h.stats(false); st.Committed > limit {
			t.Fatalf("after %d allocations: committed %d > limit %d", i, st.Committed, limit)
		}
		if err != nil {
			var nm *NoMemoryError
			if !errors.Is(err, ErrCommitLimit) || !errors.Is(err, ErrNoMemory) || !errors.As(err, &nm) || nm.Asked < n {
				t.Fatalf("Alloc(%d) past the limit: %v, want a *NoMemoryError for %d bytes wrapping ErrCommitLimit", n, err, n)
			}
			return live
		}
		clear(unsafe.Slice((*byte)(p), n)) // commit it for real: RSS must stay under too
		live = append(live, p)
		if i > 1<<20 {
			t.Fatal("the limit never refused an allocation")
		}
	}
}

// TestCommitLimit fills growable heaps (the three policies, one NoSerialize)
// with a 64 MiB commit limit past it: Committed and Resident stay within the
// limit, the refusal is a *NoMemoryError wrapping ErrCommitLimit, and after
// freeing half the heap serves again, still within it.
func TestCommitLimit(t *testing.T) {
	const limit = 64 << 20
	tests := []struct {
		name string
		opts Options
	}{
		{"default", Options{}},
		{"default with a reserve", Options{Reserve: 256 << 20}},
		{"NT", Options{Policy: NT}},
		{"NoSerialize", Options{NoSerialize: true}},
		{"huge blocks", Options{HugeBlock: 256 << 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Name, o.CommitLimit = "limit-"+tt.name, limit
			h, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Destroy()
			rng := rand.New(rand.NewPCG(7, 9))
			live := fillToLimit(t, h, limit, rng)
			st := h.Stats()
			if st.CommitLimit != limit || st.Resident > limit {
				t.Fatalf("stats at the limit: %v (limit %d)", st, st.CommitLimit)
			}
			if st.InUse < limit/2 {
				t.Errorf("refused at %d bytes in use, under half the limit", st.InUse)
			}
			for i, p := range live {
				if i%2 == 0 {
					if err := h.Free(p); err != nil {
						t.Fatal(err)
					}
				}
			}
			more := fillToLimit(t, h, limit, rng)
			if len(more) == 0 {
				t.Fatal("nothing served after freeing half the heap")
			}
			if err := h.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCommitLimitReclaim writes four times the limit through a heap whose
// Reclaim frees the oldest blocks, as a cache evicts: every allocation
// succeeds, Committed never passes the limit, and NoSerialize heaps accept
// the Frees Reclaim makes from inside Alloc.
func TestCommitLimitReclaim(t *testing.T) {
	const limit = 32 << 20
	for _, noSer := range []bool{false, true} {
		t.Run(fmt.Sprint("NoSerialize=", noSer), func(t *testing.T) {
			var fifo []unsafe.Pointer
			calls := 0
			reclaim := func(h *Heap, need int) bool {
				calls++
				freed := 0
				for len(fifo) > 0 && freed < 2*need+(1<<20) {
					n, err := h.Size(fifo[0])
					if err == nil {
						err = h.Free(fifo[0])
					}
					if err != nil {
						t.Errorf("Reclaim: %v", err)
						return false
					}
					freed += n
					fifo = fifo[1:]
				}
				return freed > 0
			}
			h, err := New(Options{Name: "reclaim", CommitLimit: limit, Reclaim: reclaim, NoSerialize: noSer})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Destroy()
			rng := rand.New(rand.NewPCG(3, 4))
			for written := 0; written < 4*limit; {
				n := limitSize(rng)
				p, err := h.Alloc(n)
				if err != nil {
					t.Fatalf("after %d bytes written: %v", written, err)
				}
				clear(unsafe.Slice((*byte)(p), n))
				fifo = append(fifo, p)
				written += n
				if c := h.stats(false).Committed; c > limit {
					t.Fatalf("committed %d > limit %d", c, limit)
				}
			}
			if calls == 0 {
				t.Fatal("Reclaim was never called")
			}
			if err := h.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSetCommitLimit lowers the limit of a heap that holds free memory
// (the heap decommits it and gets under) and of one whose blocks need more
// (the limit is set, the error says by how much).
func TestSetCommitLimit(t *testing.T) {
	h, err := New(Options{Name: "set-limit"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	var ps []unsafe.Pointer
	for range 64 {
		p, err := h.Alloc(512 << 10)
		if err != nil {
			t.Fatal(err)
		}
		clear(unsafe.Slice((*byte)(p), 512<<10))
		ps = append(ps, p)
	}
	for _, p := range ps[8:] {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	// 24 MiB: 4 MiB in use, and up to 16 MiB in the quarantine when
	// ZEBRA_DEBUG asks for one.
	if err := h.SetCommitLimit(24 << 20); err != nil {
		t.Fatalf("lowering to 24 MiB with 4 MiB in use: %v", err)
	}
	if st := h.Stats(); st.Committed > 24<<20 || st.CommitLimit != 24<<20 {
		t.Fatalf("after SetCommitLimit(24 MiB): %v, limit %d", st, st.CommitLimit)
	}
	if err := h.SetCommitLimit(1 << 20); !errors.Is(err, ErrCommitLimit) {
		t.Fatalf("lowering under what is in use: %v, want ErrCommitLimit", err)
	}
	if _, err := h.Alloc(1 << 20); !errors.Is(err, ErrCommitLimit) {
		t.Fatalf("Alloc over a limit already passed: %v, want ErrCommitLimit", err)
	}
	if err := h.SetCommitLimit(0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Alloc(1 << 20); err != nil {
		t.Fatalf("Alloc with the limit removed: %v", err)
	}
	for _, n := range []int{-1, math.MinInt} {
		if err := h.SetCommitLimit(n); !errors.Is(err, ErrInvalidSize) {
			t.Errorf("SetCommitLimit(%d) = %v, want ErrInvalidSize", n, err)
		}
	}
	var nilHeap *Heap
	if err := nilHeap.SetCommitLimit(1); !errors.Is(err, ErrNilHeap) {
		t.Errorf("nil heap: %v", err)
	}
	h.Destroy()
	if err := h.SetCommitLimit(1 << 20); !errors.Is(err, ErrDestroyed) {
		t.Errorf("after Destroy: %v, want ErrDestroyed", err)
	}
}

func TestCommitLimitOptions(t *testing.T) {
	reclaim := func(*Heap, int) bool { return false }
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"negative", Options{CommitLimit: -1}, ErrInvalidSize},
		{"below Commit", Options{CommitLimit: 1 << 20, Commit: 2 << 20}, ErrInvalidSize},
		{"Reclaim without a limit", Options{Reclaim: reclaim}, ErrInvalidSize},
		{"with Maximum", Options{CommitLimit: 1 << 20, Maximum: 4 << 20}, nil},
		{"Reclaim that frees nothing", Options{CommitLimit: 1 << 20, Reclaim: reclaim}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New: %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			defer h.Destroy()
			if _, err := h.Alloc(2 << 20); !errors.Is(err, ErrCommitLimit) {
				t.Fatalf("Alloc(2 MiB) under a 1 MiB limit: %v, want ErrCommitLimit", err)
			}
		})
	}
}

// TestCommitted: Committed gives what Stats gives for blocks and metadata,
// and zeros for a nil or destroyed heap.
func TestCommitted(t *testing.T) {
	h, err := New(Options{Name: "committed"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{100, 5000, 300 << 10, 3 << 20} {
		if _, err := h.Alloc(n); err != nil {
			t.Fatal(err)
		}
		blocks, meta := h.Committed()
		if st := h.Stats(); blocks != st.Committed || meta != st.MetaCommitted || blocks == 0 {
			t.Fatalf("Committed() = %d, %d; Stats %d, %d", blocks, meta, st.Committed, st.MetaCommitted)
		}
	}
	h.Destroy()
	var nilHeap *Heap
	for _, hh := range []*Heap{h, nilHeap} {
		if b, m := hh.Committed(); b != 0 || m != 0 {
			t.Errorf("Committed of a destroyed or nil heap: %d, %d", b, m)
		}
	}
}
