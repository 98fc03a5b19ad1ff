package heap

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// The stress test: 8 goroutines on one shared heap and 8 with a private
// heap each, mixed sizes, a quarter of the frees done by another goroutine.
// The race detector cannot see off-heap memory, so the test checks for
// itself: every block is filled with its own tag and verified word by word
// when it is freed (two blocks that overlap overwrite each other's tags),
// every live block is kept in an interval index that refuses overlaps, and
// every heap is validated at the end.

type stressBlock struct {
	h   *Heap
	p   unsafe.Pointer
	n   int
	tag uint64
}

func (b stressBlock) words() []uint64 {
	return unsafe.Slice((*uint64)(b.p), b.n/8)
}

func (b stressBlock) fill() {
	for i := range b.words() {
		b.words()[i] = b.tag ^ uint64(i)
	}
}

func (b stressBlock) check() error {
	for i, w := range b.words() {
		if w != b.tag^uint64(i) {
			return fmt.Errorf("block %p+%d: word %d is %#x, want %#x: overwritten", b.p, b.n, i, w, b.tag^uint64(i))
		}
	}
	return nil
}

// liveIndex records the live blocks by address and refuses overlaps.
type liveIndex struct {
	mu     sync.Mutex
	starts map[uintptr]int // start → size
	pages  map[uintptr][]uintptr
}

func (x *liveIndex) add(p unsafe.Pointer, n int) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := uintptr(p)
	for pg := a >> 12; pg <= (a+uintptr(n)-1)>>12; pg++ {
		for _, s := range x.pages[pg] {
			if a < s+uintptr(x.starts[s]) && s < a+uintptr(n) {
				return fmt.Errorf("new block %#x+%d overlaps live block %#x+%d", a, n, s, x.starts[s])
			}
		}
	}
	x.starts[a] = n
	for pg := a >> 12; pg <= (a+uintptr(n)-1)>>12; pg++ {
		x.pages[pg] = append(x.pages[pg], a)
	}
	return nil
}

func (x *liveIndex) remove(p unsafe.Pointer, n int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := uintptr(p)
	delete(x.starts, a)
	for pg := a >> 12; pg <= (a+uintptr(n)-1)>>12; pg++ {
		l := x.pages[pg]
		for i, s := range l {
			if s == a {
				l[i] = l[len(l)-1]
				x.pages[pg] = l[:len(l)-1]
				break
			}
		}
	}
}

func TestStress(t *testing.T) {
	const workers = 8
	ops := 20000
	if testing.Short() {
		ops = 2000
	}
	shared := mustNew(t, Options{Name: "shared"})
	heaps := []*Heap{shared}
	idx := &liveIndex{starts: map[uintptr]int{}, pages: map[uintptr][]uintptr{}}
	handoff := make([]chan stressBlock, 2*workers)
	for i := range handoff {
		handoff[i] = make(chan stressBlock, 64)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range 2 * workers {
		h := shared
		if w >= workers {
			h = mustNew(t, Options{Name: fmt.Sprintf("private-%d", w)})
			heaps = append(heaps, h)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- stressWorker(w, h, ops, idx, handoff[w], handoff[(w+1)%len(handoff)])
		}()
	}
	wg.Wait()
	finishStress(t, errs, handoff)
	for _, h := range heaps {
		mustValidate(t, h)
	}
}

// TestStressPerP drives the per-P caches from 24 goroutines on one heap,
// more than there are Ps, that yield often (and so move between Ps) and
// pass a quarter of their blocks to each other (so blocks are freed into
// other Ps' caches), while another goroutine closes the caches' gate under
// them again and again (Validate, Walk, Stats, Compact) and changes
// GOMAXPROCS (so slots are added while goroutines run). The checks are the
// stress test's own: tags verified word by word, an index that refuses
// overlaps; at the end the heap holds no block and validates.
func TestStressPerP(t *testing.T) {
	const workers = 24
	ops := 8000
	if testing.Short() {
		ops = 1000
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	h := mustNew(t, Options{Name: "per-p"})
	idx := &liveIndex{starts: map[uintptr]int{}, pages: map[uintptr][]uintptr{}}
	handoff := make([]chan stressBlock, workers)
	for i := range handoff {
		handoff[i] = make(chan stressBlock, 64)
	}
	stop := make(chan struct{})
	whole := make(chan error, 1)
	go func() {
		var err error
		for i := 0; err == nil; i++ {
			select {
			case <-stop:
				whole <- nil
				return
			default:
			}
			runtime.GOMAXPROCS(1 + i%4)
			switch i % 4 {
			case 0:
				if h.cfg.debug&DebugTail == 0 { // see Validate
					err = h.Validate()
				}
			case 1:
				err = h.Walk(func(Entry) bool { return true })
			case 2:
				if st := h.Stats(); st.InUse > st.Reserved {
					err = fmt.Errorf("stats under load: %v", st)
				}
			case 3:
				_, err = h.Compact()
			}
			time.Sleep(200 * time.Microsecond)
		}
		whole <- err
	}()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- stressWorker(w, h, ops, idx, handoff[w], handoff[(w+1)%workers])
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-whole; err != nil {
		t.Errorf("whole-heap operation under load: %v", err)
	}
	finishStress(t, errs, handoff)
	mustValidate(t, h)
	if st := h.Stats(); st.Blocks != 0 || st.InUse != 0 {
		t.Errorf("every block freed, but Stats says %d blocks, %d bytes in use", st.Blocks, st.InUse)
	}
}

// finishStress reports the workers' errors and checks and frees the blocks
// still in flight between them.
func finishStress(t *testing.T, errs chan error, handoff []chan stressBlock) {
	t.Helper()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, c := range handoff {
		close(c)
		for b := range c {
			if err := b.check(); err != nil {
				t.Error(err)
			}
			if err := b.h.Free(b.p); err != nil {
				t.Error(err)
			}
		}
	}
}

// stressWorker allocates and frees ops blocks on h: it frees most of its
// own blocks itself and passes some to the next worker through out,
// freeing what it receives from in.
func stressWorker(w int, h *Heap, ops int, idx *liveIndex, in <-chan stressBlock, out chan<- stressBlock) error {
	rng := rand.New(rand.NewPCG(uint64(w), 42))
	var live []stressBlock
	free := func(b stressBlock) error {
		if err := b.check(); err != nil {
			return err
		}
		idx.remove(b.p, b.n)
		return b.h.Free(b.p)
	}
	for i := range ops {
		if rng.IntN(16) == 0 {
			runtime.Gosched() // let the goroutine move to another P
		}
		n := 8 + rng.IntN(1024)
		switch rng.IntN(50) {
		case 0:
			n = 16<<10 + rng.IntN(200<<10)
		case 1:
			n = 2048 + rng.IntN(14<<10)
		}
		n = (n + 7) &^ 7
		p, err := h.Alloc(n)
		if err != nil {
			return err
		}
		if err := idx.add(p, n); err != nil {
			return err
		}
		b := stressBlock{h: h, p: p, n: n, tag: uint64(w)<<56 | uint64(i)<<8}
		b.fill()
		live = append(live, b)
		if len(live) > 256 || rng.IntN(3) == 0 {
			k := rng.IntN(len(live))
			b := live[k]
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
			if rng.IntN(4) == 0 {
				select {
				case out <- b:
					continue
				default:
				}
			}
			if err := free(b); err != nil {
				return err
			}
		}
		select {
		case b := <-in:
			if err := free(b); err != nil {
				return err
			}
		default:
		}
	}
	for _, b := range live {
		if err := free(b); err != nil {
			return err
		}
	}
	return nil
}
