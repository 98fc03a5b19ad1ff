package heap

import (
	"errors"
	"github.com/zebra-heap/zebra/vmem"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

func TestClasses(t *testing.T) {
	if len(classes) != numClasses {
		t.Fatalf("%d classes, numClasses = %d", len(classes), numClasses)
	}
	prev := uint32(0)
	for c, s := range classes {
		if s <= prev || s%minAlign != 0 {
			t.Errorf("class %d = %d after %d", c, s, prev)
		}
		prev = s
	}
	if classes[numClasses-1] != smallMax {
		t.Errorf("last class %d, want %d", classes[numClasses-1], smallMax)
	}
	for n := uintptr(0); n <= smallMax; n++ {
		c := classOf(n)
		if uintptr(classes[c]) < n || (c > 0 && uintptr(classes[c-1]) >= n) {
			t.Fatalf("classOf(%d) = %d (size %d)", n, c, classes[c])
		}
	}
	for _, page := range []uintptr{4096, 16384, 65536} {
		for c, ci := range makeClasses(page, false) {
			if ci.nobj == 0 || int(ci.nobj) > slabWords*64 || uintptr(ci.nobj)*ci.size > uintptr(ci.pages)*page {
				t.Errorf("page %d class %d: %+v", page, c, ci)
			}
			for off := uintptr(0); off < uintptr(ci.pages)*page; off += 8 {
				if i, ok := ci.index(off); i != off/ci.size || ok != (off%ci.size == 0 && i < uintptr(ci.nobj)) {
					t.Fatalf("class %d: index(%d) = %d, %v", ci.size, off, i, ok)
				}
			}
		}
	}
}

func TestAllocFreeSizes(t *testing.T) {
	skipUnderDebug(t)
	h := mustNew(t, Options{Name: "sizes"})
	tests := []struct {
		name     string
		n        int
		wantSize int
	}{
		{"zero", 0, 16},
		{"one", 1, 16},
		{"16", 16, 16},
		{"17", 17, 32},
		{"300", 300, 320},
		{"small limit", 16 << 10, 16 << 10},
		{"just large", 16<<10 + 1, 20 << 10},
		{"1 MiB", 1 << 20, 1 << 20},
		{"5 MiB past the first segment", 5 << 20, 5 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := h.Alloc(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if uintptr(p)%16 != 0 {
				t.Errorf("%p is not 16-byte aligned", p)
			}
			got, err := h.Size(p)
			if err != nil || got != tt.wantSize {
				t.Errorf("Size = %d, %v; want %d", got, err, tt.wantSize)
			}
			b := unsafe.Slice((*byte)(p), got)
			for i := range b {
				b[i] = byte(i)
			}
			mustValidate(t, h)
			if err := h.Free(p); err != nil {
				t.Fatal(err)
			}
			mustValidate(t, h)
		})
	}
	if st := h.Stats(); st.Blocks != 0 || st.InUse != 0 {
		t.Errorf("after freeing everything: %+v", st)
	}
}

func TestCallocAndZero(t *testing.T) {
	for _, zero := range []bool{false, true} {
		h := mustNew(t, Options{Zero: zero, DecommitFreeBlock: math.MaxInt})
		for _, n := range []int{24, 3000, 40 << 10, 300 << 10} {
			// Dirty a block, free it, and ask again: the memory is reused.
			p, _ := h.Alloc(n)
			b := unsafe.Slice((*byte)(p), n)
			for i := range b {
				b[i] = 0xAB
			}
			h.Free(p)
			var q unsafe.Pointer
			var err error
			if zero {
				q, err = h.Alloc(n)
			} else {
				q, err = h.Calloc(n/4, 4)
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range unsafe.Slice((*byte)(q), n/4*4) {
				if c != 0 {
					t.Fatalf("zero %v, %d bytes: byte %d is %#x", zero, n, i, c)
				}
			}
			h.Free(q)
		}
		mustValidate(t, h)
	}
}

// TestCallocAfterCommitAhead reuses pages the heap committed ahead of use:
// a run that starts in such pages and reaches uncommitted ones beyond them
// dirties them all, and a later Calloc of just those pages must still read
// zero. (The heap once forgot that pages before the first uncommitted one
// had been handed out, and skipped zeroing them.)
func TestCallocAfterCommitAhead(t *testing.T) {
	skipUnderDebug(t)
	h := mustNew(t, Options{Name: "commit-ahead", DecommitFreeBlock: math.MaxInt})
	step := int(h.commitStep())
	a, err := h.Alloc(step / 4) // commits a whole step: 3/4 of it ahead
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Alloc(step) // the pages ahead, and uncommitted ones
	if err != nil {
		t.Fatal(err)
	}
	dirty := unsafe.Slice((*byte)(b), step)
	for i := range dirty {
		dirty[i] = 0xC5
	}
	if err := h.Free(b); err != nil {
		t.Fatal(err)
	}
	c, err := h.Calloc(step/4*3, 1) // exactly the pages committed ahead
	if err != nil {
		t.Fatal(err)
	}
	if c != b {
		t.Fatalf("Calloc got %p, want the freed block %p back", c, b)
	}
	for i, x := range unsafe.Slice((*byte)(c), step/4*3) {
		if x != 0 {
			t.Fatalf("Calloc: byte %d is %#x, want zero", i, x)
		}
	}
	for _, p := range []unsafe.Pointer{a, c} {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	mustValidate(t, h)
}

func TestRealloc(t *testing.T) {
	h := mustNew(t, Options{Name: "realloc", DecommitFreeBlock: math.MaxInt})
	fill := func(p unsafe.Pointer, n int) {
		for i, b := 0, unsafe.Slice((*byte)(p), n); i < n; i++ {
			b[i] = byte(i * 31)
		}
	}
	check := func(p unsafe.Pointer, n int) {
		t.Helper()
		for i, b := 0, unsafe.Slice((*byte)(p), n); i < n; i++ {
			if b[i] != byte(i*31) {
				t.Fatalf("byte %d of %p lost", i, p)
			}
		}
	}
	tests := []struct {
		name      string
		from, to  int
		wantSame  bool
		blockNext bool // allocate right after the block so it cannot grow
	}{
		{"small shrink", 300, 100, true, false},
		{"small within class", 300, 310, true, false},
		{"small to large", 300, 100 << 10, false, false},
		{"large shrink", 200 << 10, 50 << 10, true, false},
		{"large to small stays", 200 << 10, 100, true, false},
		{"large grows into free pages", 64 << 10, 256 << 10, true, false},
		{"large blocked moves", 64 << 10, 256 << 10, false, true},
		{"zero size", 500, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := h.Alloc(tt.from)
			if err != nil {
				t.Fatal(err)
			}
			fill(p, tt.from)
			var blocker unsafe.Pointer
			if tt.blockNext {
				sz, _ := h.Size(p)
				blocker, err = h.Alloc(sz)
				if err != nil || uintptr(blocker) != uintptr(p)+uintptr(sz) {
					t.Skipf("could not place a blocker after the block (%p after %p)", blocker, p)
				}
			}
			q, err := h.Realloc(p, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if (q == p) != tt.wantSame {
				t.Errorf("Realloc moved %v, want moved %v", q != p, !tt.wantSame)
			}
			check(q, min(tt.from, tt.to))
			if sz, _ := h.Size(q); sz < tt.to {
				t.Errorf("Size %d < %d", sz, tt.to)
			}
			mustValidate(t, h)
			inPlace := h.ReallocInPlace(q, tt.to/2)
			if inPlace != nil {
				t.Errorf("shrinking in place: %v", inPlace)
			}
			h.Free(q)
			if blocker != nil {
				h.Free(blocker)
			}
			mustValidate(t, h)
		})
	}
	q, err := h.Realloc(nil, 50)
	if err != nil || q == nil {
		t.Fatalf("Realloc(nil, 50) = %p, %v", q, err)
	}
}

func TestAllocAligned(t *testing.T) {
	h := mustNew(t, Options{Name: "aligned"})
	for _, align := range []int{1, 8, 16, 32, 64, 256, 4096, 8192, 1 << 16, 1 << 20} {
		for _, n := range []int{1, 100, 5000, 70000} {
			p, err := h.AllocAligned(n, align)
			if err != nil {
				t.Fatalf("AllocAligned(%d, %d): %v", n, align, err)
			}
			if uintptr(p)%uintptr(align) != 0 {
				t.Errorf("AllocAligned(%d, %d) = %p", n, align, p)
			}
			if sz, _ := h.Size(p); sz < n {
				t.Errorf("AllocAligned(%d, %d): Size %d", n, align, sz)
			}
			mustValidate(t, h)
			defer h.Free(p)
		}
	}
}

// TestAtomic64 runs 64-bit atomics on heap memory; on linux/386 and other
// 32-bit platforms they need the 8-byte alignment the heap guarantees
// (16 bytes everywhere).
func TestAtomic64(t *testing.T) {
	h := mustNew(t, Options{Name: "atomic"})
	var ctrs []*atomic.Uint64
	for i := 0; i < 64; i++ {
		c, err := NewOf[atomic.Uint64](h)
		if err != nil {
			t.Fatal(err)
		}
		ctrs = append(ctrs, c)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				for _, c := range ctrs {
					c.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range ctrs {
		if c.Load() != 4000 {
			t.Fatalf("counter %d", c.Load())
		}
	}
}

func TestConcurrent(t *testing.T) {
	h := mustNew(t, Options{Name: "concurrent"})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var ps []unsafe.Pointer
			for i := 0; i < 5000; i++ {
				n := 1 + (i*131+g)%20000 // the test writes a byte
				p, err := h.Alloc(n)
				if err != nil {
					errs <- err
					return
				}
				*(*byte)(p) = byte(g)
				ps = append(ps, p)
				if i%3 == 0 {
					j := i % len(ps)
					if *(*byte)(ps[j]) != byte(g) {
						errs <- errors.New("a block changed under us")
						return
					}
					if err := h.Free(ps[j]); err != nil {
						errs <- err
						return
					}
					ps[j] = ps[len(ps)-1]
					ps = ps[:len(ps)-1]
				}
			}
			for _, p := range ps {
				if err := h.Free(p); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustValidate(t, h)
	if st := h.Stats(); st.Blocks != 0 {
		t.Errorf("%d blocks left", st.Blocks)
	}
}

func TestWalk(t *testing.T) {
	skipUnderDebug(t)
	h := mustNew(t, Options{Name: "walk", Policy: NT, HugeBlock: 512 << 10})
	a, _ := h.Alloc(100)
	b, _ := h.Alloc(100)
	c, _ := h.Alloc(64 << 10)
	d, _ := h.Alloc(600 << 10)
	h.Free(b)
	busy := map[unsafe.Pointer]EntryKind{}
	var free, total int
	if err := h.Walk(func(e Entry) bool {
		total += e.Size
		if e.Busy() {
			busy[e.Ptr] = e.Kind
		} else {
			free += e.Size
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	want := map[unsafe.Pointer]EntryKind{a: Small, c: Large, d: Huge}
	if len(busy) != len(want) {
		t.Errorf("Walk found %d busy blocks, want %d", len(busy), len(want))
	}
	for p, k := range want {
		if busy[p] != k {
			t.Errorf("block %p: kind %v, want %v", p, busy[p], k)
		}
	}
	st := h.Stats()
	if uint64(free) != st.Free {
		t.Errorf("Walk free %d, Stats.Free %d", free, st.Free)
	}
	n := 0
	h.Walk(func(Entry) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("Walk did not stop: %d calls", n)
	}
}

func TestReset(t *testing.T) {
	h := mustNew(t, Options{Name: "reset", Reserve: 4 << 20, Policy: NT, HugeBlock: 1 << 20})
	for round := 0; round < 3; round++ {
		for i := 0; i < 1000; i++ {
			if _, err := h.Alloc(i * 3); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.Alloc(2 << 20); err != nil { // huge
			t.Fatal(err)
		}
		if err := h.Reset(); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, h)
		st := h.Stats()
		if st.Blocks != 0 || st.InUse != 0 || st.HugeBlocks != 0 || st.Segments != 1 || st.Largest != 4<<20 {
			t.Fatalf("round %d after Reset: %+v", round, st)
		}
	}
}

func TestCompact(t *testing.T) {
	skipUnderDebug(t)
	h := mustNew(t, Options{Name: "compact", DecommitFreeBlock: math.MaxInt})
	var ps []unsafe.Pointer
	for i := 0; i < 100; i++ {
		p, _ := h.Alloc(40 << 10)
		clear(unsafe.Slice((*byte)(p), 40<<10))
		ps = append(ps, p)
	}
	for _, p := range ps {
		h.Free(p)
	}
	largest, err := h.Compact()
	if err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if uint64(largest) != st.Largest || st.Largest < 2<<20 {
		t.Errorf("Compact = %d, Stats %+v", largest, st)
	}
	if st.Committed != 0 {
		t.Errorf("after Compact of an empty heap %d bytes stay committed", st.Committed)
	}
	mustValidate(t, h)
}

func TestCreateOptions(t *testing.T) {
	tests := []struct {
		name          string
		o             Options
		wantReserved  uint64
		wantCommitted uint64 // at least
	}{
		{"defaults", Options{}, 1 << 20, 0},
		{"reserve", Options{Reserve: 10 << 20}, 10 << 20, 0},
		{"reserve and commit", Options{Reserve: 10 << 20, Commit: 3 << 20}, 10 << 20, 3 << 20},
		{"commit above segment", Options{Commit: 3 << 20}, 3 << 20, 3 << 20},
		{"maximum", Options{Maximum: 5 << 20}, 5 << 20, 0},
		{"segment reserve", Options{SegmentReserve: 4 << 20}, 4 << 20, 0},
		{"rounded up", Options{Reserve: 5000}, 8192, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, tt.o)
			st := h.Stats()
			want := tt.wantReserved
			if g := uint64(h.cfg.caps.Granularity); want%g != 0 {
				want = (want + g - 1) &^ (g - 1)
			}
			if st.Reserved != want || st.Committed < tt.wantCommitted || st.Ranges != 1 {
				t.Errorf("%+v: reserved %d, committed %d, %d ranges; want %d, ≥ %d, 1",
					tt.o, st.Reserved, st.Committed, st.Ranges, want, tt.wantCommitted)
			}
			mustValidate(t, h)
		})
	}
}

func TestOwnerNames(t *testing.T) {
	h := mustNew(t, Options{Name: "named"})
	anon := mustNew(t, Options{})
	owners := map[string]int{}
	for _, info := range vmem.Live() {
		owners[info.Owner]++
	}
	// In the host's space a heap's metadata is in the process's pool.
	if owners["named"] != 1 || owners["named (metadata)"] != 0 || owners[metaPoolOwner] == 0 {
		t.Errorf("registry owners %v: want one heap reservation named after the heap, its metadata in %q", owners, metaPoolOwner)
	}
	if !strings.HasPrefix(anon.Name(), "heap-") || owners[anon.Name()] != 1 {
		t.Errorf("unnamed heap %q not in the registry", anon.Name())
	}
	_ = h
}

func TestHugePages(t *testing.T) {
	skipUnderDebug(t)
	if vmem.OS().Caps().HugePageSize == 0 {
		t.Skip("no huge pages here")
	}
	h := mustNew(t, Options{Name: "thp", Reserve: 16 << 20, HugePages: true, DecommitFreeBlock: 2 << 20, DecommitTotalFree: 1})
	var ps []unsafe.Pointer
	for _, n := range []int{100, 5000, 1 << 20, 3 << 20, 64 << 10} {
		p, err := h.Alloc(n)
		if err != nil {
			t.Fatal(err)
		}
		clear(unsafe.Slice((*byte)(p), n))
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, h)
	}
	if _, err := h.Compact(); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, h)
	if st := h.Stats(); st.Committed != 0 || st.Reserved != 16<<20 {
		t.Errorf("after freeing all and Compact: %+v", st)
	}
}

func TestResident(t *testing.T) {
	skipUnderDebug(t)
	h := mustNew(t, Options{Name: "resident", DecommitFreeBlock: math.MaxInt})
	p, err := h.Alloc(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	clear(unsafe.Slice((*byte)(p), 4<<20))
	if st := h.Stats(); st.Resident < 4<<20 || st.Resident > st.Committed {
		t.Errorf("after touching 4 MiB: resident %d, committed %d", st.Resident, st.Committed)
	}
	h.Free(p)
	h.Compact()
	if st := h.Stats(); st.Resident >= 1<<20 {
		t.Errorf("after Compact: resident %d, committed %d", st.Resident, st.Committed)
	}
}

// skipUnderDebug skips a test whose figures depend on the exact layout of
// blocks when the suite runs with debug modes from the environment (CI
// runs it so once): canaries make blocks larger and the quarantine keeps
// freed ones busy.
func skipUnderDebug(t *testing.T) {
	t.Helper()
	if os.Getenv(DebugEnv) != "" {
		t.Skipf("%s=%s changes block sizes and what is busy", DebugEnv, os.Getenv(DebugEnv))
	}
}
