package heap

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"testing"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// model is the reference a fuzzed heap is checked against: every live
// block, the bytes asked and the pattern written into them.
type model struct {
	h     *Heap
	live  []liveBlock
	freed []unsafe.Pointer // recently freed, for double-free checks
	total int
}

type liveBlock struct {
	p    unsafe.Pointer
	n    int
	seed byte
	tag  Tag // AllocTag's, kept by Realloc
}

// fuzzTags are the tags FuzzHeap gives blocks of its Tags heap.
var fuzzTags = func() (ts [2]Tag) {
	for i, name := range []string{"fuzz-a", "fuzz-b"} {
		t, err := NewTag(name)
		if err != nil {
			panic(err)
		}
		ts[i] = t
	}
	return ts
}()

// The pattern of a block with seed s has byte s+7i at offset i. Since 7
// is odd, it is a window of one table, patternBase[j] = 7j, starting at the
// j with 7j = s (mod 256): fills and checks are copies and comparisons,
// which keeps an input's cost in the heap, not in the model.
var patternBase = func() []byte {
	b := make([]byte, 64<<10+256)
	for j := range b {
		b[j] = byte(j * 7)
	}
	return b
}()

var zeros = make([]byte, 64<<10)

// inv7 is the inverse of 7 modulo 256.
const inv7 = 183

// pattern returns the block's pattern for its bytes [off, off+n), n at most
// 64 KiB.
func (b liveBlock) pattern(off, n int) []byte {
	j := (int(b.seed)*inv7 + off) % 256
	return patternBase[j : j+n]
}

// spans are the byte ranges the model writes and checks: every byte of
// blocks up to 4 KiB; of larger ones the first and last KiB and 16 bytes at
// every 4 KiB between (every 16 KiB past 64 KiB), so that
// a page the heap decommits or overwrites under a live block is still
// seen. Filling every byte of blocks up to 64 KiB was most of an input's
// cost; touching every page of the largest ones would make page faults so.
func (b liveBlock) spans(f func(off, n int)) {
	const edge, page, probe = 1 << 10, 4 << 10, 16
	if b.n <= page {
		f(0, b.n)
		return
	}
	f(0, edge)
	step := page
	if b.n > 64<<10 {
		step = 4 * page
	}
	// Offsets from the block's start, not its address, so that Realloc's
	// copy is checked at the same places; a stride of a page still probes
	// every page the block covers.
	for off := page; off+probe <= b.n-edge; off += step {
		f(off, probe)
	}
	f(b.n-edge, edge)
}

func (b liveBlock) bytes(off, n int) []byte { return unsafe.Slice((*byte)(unsafe.Add(b.p, off)), n) }

func (b liveBlock) fill() {
	b.spans(func(off, n int) { copy(b.bytes(off, n), b.pattern(off, n)) })
}

func (b liveBlock) check(upTo int) error {
	var err error
	b.spans(func(off, n int) {
		n = min(n, upTo-off)
		if err != nil || n <= 0 {
			return
		}
		got, want := b.bytes(off, n), b.pattern(off, n)
		if bytes.Equal(got, want) {
			return
		}
		for i := range got {
			if got[i] != want[i] {
				err = fmt.Errorf("block %p+%d: byte %d is %#x, want %#x", b.p, b.n, off+i, got[i], want[i])
				return
			}
		}
	})
	return err
}

func (b liveBlock) zero() error {
	var err error
	b.spans(func(off, n int) {
		if err != nil || bytes.Equal(b.bytes(off, n), zeros[:n]) {
			return
		}
		for i, c := range b.bytes(off, n) {
			if c != 0 {
				err = fmt.Errorf("block %p+%d: byte %d is %#x, want zero", b.p, b.n, off+i, c)
				return
			}
		}
	})
	return err
}

// fuzzHeaps are the heaps each input drives: growable, NT with tiny
// segments, huge blocks and tags, fixed, eager decommit with zeroing, and a
// growable heap with a commit limit in an emulated bottom-up window, which
// extends above, and
// one in a top-down window, which extends below (segments carved from the
// top).
func fuzzHeaps(t *testing.T) []*model {
	var ws [2]*vmem.Window
	for i, p := range []vmem.Placement{vmem.BottomUp, vmem.TopDown} {
		w, err := vmem.NewWindow(vmem.WindowConfig{Name: "fuzz-window-" + p.String(), Low: 1 << 20, High: 1 << 30, Granularity: 64 << 10, Placement: p})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := w.Close(); err != nil {
				t.Error(err)
			}
		})
		ws[i] = w
	}
	w := ws[0]
	opts := []Options{
		{Name: "fuzz-default"},
		{Name: "fuzz-nt", Policy: NT, SegmentReserve: 64 << 10, SegmentCap: 256 << 10, HugeBlock: 128 << 10, Tags: true},
		{Name: "fuzz-fixed", Maximum: 4 << 20},
		{Name: "fuzz-decommit", Policy: Fixed, SegmentReserve: 256 << 10, DecommitFreeBlock: 1, DecommitTotalFree: 1, Zero: true, Commit: 100 << 10},
		{Name: "fuzz-window", Space: w, SegmentReserve: 64 << 10, SegmentCap: 4 << 20, DecommitFreeBlock: 128 << 10, DecommitTotalFree: 1 << 20, CommitLimit: 3 << 20},
		{Name: "fuzz-top-down", Space: ws[1], SegmentReserve: 64 << 10, SegmentCommit: 128 << 10, DecommitFreeBlock: 64 << 10, DecommitTotalFree: 256 << 10},
	}
	var ms []*model
	for _, o := range opts {
		h, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, &model{h: h})
	}
	return ms
}

// fuzzSize reads a size from two bytes: mostly small, some large, a few
// beyond 1 MiB.
func fuzzSize(a, b byte) int {
	v := int(a)<<8 | int(b)
	switch a >> 5 {
	case 0, 1, 2, 3:
		return v % 600
	case 4, 5:
		return v % (16 << 10)
	case 6:
		return v * 4 % (300 << 10)
	}
	return v * 37 % (1200 << 10)
}

func runOps(t *testing.T, data []byte) {
	ms := fuzzHeaps(t)
	defer func() {
		for _, m := range ms {
			// Every reservation of the heap must be released, or be the
			// address-space quarantine's, after Destroy. (Checked on the
			// heap's own reservations: a scan of vmem's registry, which
			// the quarantine fills with a thousand ranges, was most of a
			// short input's cost.)
			rs := append(append([]*vmem.Reservation(nil), m.h.res...), m.h.meta.res...)
			for _, hb := range m.h.huge {
				rs = append(rs, hb.res)
			}
			if err := m.h.Destroy(); err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if !r.Released() && r.Owner() != vmem.OwnerQuarantine {
					t.Fatalf("%s: reservation %v (%s) still live after Destroy", m.h.Owner(), r.Range(), r.Owner())
				}
			}
		}
	}()
	// A long input explores no more than a short one does (the heaps'
	// memory is bounded), but costs in proportion: 1,024 steps at most
	// (the seeds that found bugs take up to ~830).
	data = data[:min(len(data), 4*maxSteps)]
	for step := 0; len(data) >= 4; step++ {
		op, hi, a, b := data[0], data[1], data[2], data[3]
		data = data[4:]
		m := ms[int(hi)%len(ms)]
		if err := m.step(op%12, hi, a, b); err != nil {
			t.Fatalf("step %d (op %d on %s): %v", step, op%12, m.h.Name(), err)
		}
		if err := m.verify(); err != nil {
			t.Fatalf("step %d (op %d on %s): %v", step, op%12, m.h.Name(), err)
		}
	}
}

// maxSteps bounds the operations of one input.
const maxSteps = 1024

func (m *model) pick(k byte) (int, bool) {
	if len(m.live) == 0 {
		return 0, false
	}
	return int(k) % len(m.live), true
}

// allowed reports whether err is an acceptable failure for the heap: only
// the fixed heap may run out.
func (m *model) allowed(err error) bool {
	return m.h.cfg.fixed && (errors.Is(err, ErrNoMemory) || errors.Is(err, ErrTooLarge)) ||
		m.h.cfg.commitLimit > 0 && errors.Is(err, ErrCommitLimit)
}

func (m *model) add(p unsafe.Pointer, n int, seed byte, zeroed bool) error {
	size, err := m.h.Size(p)
	if err != nil {
		return err
	}
	if size < n {
		return fmt.Errorf("Size(%p) = %d < %d asked", p, size, n)
	}
	if uintptr(p)%minAlign != 0 {
		return fmt.Errorf("block %p is not %d-aligned", p, minAlign)
	}
	lo, hi := uintptr(p), uintptr(p)+uintptr(size)
	for _, o := range m.live {
		osz, _ := m.h.Size(o.p)
		if olo, ohi := uintptr(o.p), uintptr(o.p)+uintptr(osz); lo < ohi && olo < hi {
			return fmt.Errorf("new block %#x+%d overlaps live block %#x+%d", lo, size, olo, osz)
		}
	}
	b := liveBlock{p: p, n: n, seed: seed}
	if zeroed {
		if err := b.zero(); err != nil {
			return err
		}
	}
	b.fill()
	m.live = append(m.live, b)
	m.total += n
	return nil
}

func (m *model) remove(i int) liveBlock {
	b := m.live[i]
	m.live[i] = m.live[len(m.live)-1]
	m.live = m.live[:len(m.live)-1]
	m.total -= b.n
	return b
}

func (m *model) step(op, hi, a, b byte) error {
	h := m.h
	n := fuzzSize(a, b)
	if m.total > 4<<20 && op < 3 {
		op = 3 // keep memory bounded: free instead
	}
	switch op {
	case 0, 1: // Alloc; op 1 tags the block on the Tags heap
		tag := Untagged
		if op == 1 && h.cfg.tags {
			tag = fuzzTags[a%2]
		}
		var p unsafe.Pointer
		var err error
		if tag != Untagged {
			p, err = h.AllocTag(n, tag)
		} else {
			p, err = h.Alloc(n)
		}
		if err != nil {
			if m.allowed(err) {
				return nil
			}
			return err
		}
		if err := m.add(p, n, a^b, h.cfg.zero); err != nil {
			return err
		}
		m.live[len(m.live)-1].tag = tag
		return nil
	case 2: // Calloc
		count := int(a%16) + 1
		p, err := h.Calloc(count, n/count)
		if err != nil {
			if m.allowed(err) {
				return nil
			}
			return err
		}
		return m.add(p, count*(n/count), a+b, true)
	case 3, 4: // Free
		i, ok := m.pick(a)
		if !ok {
			return nil
		}
		blk := m.remove(i)
		if err := blk.check(blk.n); err != nil {
			return err
		}
		if err := h.Free(blk.p); err != nil {
			return err
		}
		m.freed = append(m.freed, blk.p)
		if len(m.freed) > 8 {
			m.freed = m.freed[1:]
		}
		if err := h.Free(blk.p); !errors.Is(err, ErrDoubleFree) {
			return fmt.Errorf("second free of %p: %v, want ErrDoubleFree", blk.p, err)
		}
		return nil
	case 5, 6: // Realloc
		i, ok := m.pick(a)
		if !ok {
			return nil
		}
		blk := m.live[i]
		if err := blk.check(blk.n); err != nil {
			return err
		}
		q, err := h.Realloc(blk.p, n)
		if err != nil {
			if m.allowed(err) {
				return blk.check(blk.n)
			}
			return err
		}
		moved := liveBlock{p: q, n: blk.n, seed: blk.seed}
		if err := moved.check(min(blk.n, n)); err != nil {
			return fmt.Errorf("realloc %p -> %p (%d -> %d): %w", blk.p, q, blk.n, n, err)
		}
		m.remove(i)
		if err := m.add(q, n, blk.seed+1, false); err != nil {
			return err
		}
		m.live[len(m.live)-1].tag = blk.tag
		return nil
	case 7: // Realloc in place
		i, ok := m.pick(a)
		if !ok {
			return nil
		}
		blk := m.live[i]
		err := h.ReallocInPlace(blk.p, n)
		if errors.Is(err, ErrInPlace) || m.allowed(err) {
			return blk.check(blk.n)
		}
		if err != nil {
			return err
		}
		if err := blk.check(min(blk.n, n)); err != nil {
			return err
		}
		m.remove(i)
		if err := m.add(blk.p, n, blk.seed+3, false); err != nil {
			return err
		}
		m.live[len(m.live)-1].tag = blk.tag
		return nil
	case 8: // Aligned
		align := 16 << (a % 10)
		p, err := h.AllocAligned(n, align)
		if err != nil {
			if m.allowed(err) {
				return nil
			}
			return err
		}
		if uintptr(p)%uintptr(align) != 0 {
			return fmt.Errorf("AllocAligned(%d, %d) = %p", n, align, p)
		}
		return m.add(p, n, a, h.cfg.zero)
	case 9: // Bad pointers: interior, freed, foreign.
		if i, ok := m.pick(a); ok {
			if err := h.Free(unsafe.Add(m.live[i].p, 1+int(b)%8)); !errors.Is(err, ErrInvalidPointer) {
				return fmt.Errorf("interior free: %v", err)
			}
		}
		var x [16]byte
		if _, err := h.Size(unsafe.Pointer(&x)); !errors.Is(err, ErrInvalidPointer) {
			return fmt.Errorf("foreign size: %v", err)
		}
		if _, err := h.Alloc(-n - 1); !errors.Is(err, ErrInvalidSize) {
			return fmt.Errorf("negative alloc: %v", err)
		}
		if _, err := h.Calloc(math.MaxInt/2, 3); !errors.Is(err, ErrInvalidSize) {
			return fmt.Errorf("overflowing calloc: %v", err)
		}
		return nil
	case 10: // Compact
		for _, blk := range m.live {
			if err := blk.check(blk.n); err != nil {
				return err
			}
		}
		largest, err := h.Compact()
		if err != nil {
			return err
		}
		if st := h.Stats(); uint64(largest) != st.Largest {
			return fmt.Errorf("Compact returned %d, Stats.Largest %d", largest, st.Largest)
		}
		return nil
	case 11: // Reset, rarely
		if a%4 != 0 {
			return nil
		}
		for _, blk := range m.live {
			if err := blk.check(blk.n); err != nil {
				return err
			}
		}
		if err := h.Reset(); err != nil {
			return err
		}
		m.live, m.freed, m.total = nil, nil, 0
	}
	return nil
}

func (m *model) verify() error {
	if err := m.h.Validate(); err != nil {
		return err
	}
	st := m.h.stats(false)
	var inUse uint64
	for _, b := range m.live {
		size, err := m.h.Size(b.p)
		if err != nil {
			return err
		}
		inUse += uint64(size)
	}
	if m.h.cfg.debug&DebugTail != 0 {
		inUse = st.InUse // Size gives the size asked; InUse counts whole blocks
	}
	if st.Blocks != len(m.live) || st.InUse != inUse {
		return fmt.Errorf("stats: %d blocks, %d in use; model %d blocks, %d in use", st.Blocks, st.InUse, len(m.live), inUse)
	}
	if m.h.cfg.tags {
		if err := m.verifyTags(); err != nil {
			return err
		}
	}
	if st.CommitLimit > 0 && st.Committed > st.CommitLimit {
		return fmt.Errorf("stats: committed %d, past the commit limit %d", st.Committed, st.CommitLimit)
	}
	if st.InUse+st.Free > st.Reserved {
		return fmt.Errorf("stats: in use %d + free %d > reserved %d", st.InUse, st.Free, st.Reserved)
	}
	return nil
}

// verifyTags checks each live block's tag and TagStats' counts against the
// model.
func (m *model) verifyTags() error {
	want := map[Tag]int{}
	for _, b := range m.live {
		if got := m.h.tagOf(b.p); got != b.tag {
			return fmt.Errorf("block %p is tagged %v, want %v", b.p, got, b.tag)
		}
		if b.tag != Untagged {
			want[b.tag]++
		}
	}
	got := map[Tag]int{}
	for _, ts := range m.h.TagStats() {
		got[ts.Tag] = ts.Blocks
	}
	if !maps.Equal(got, want) {
		return fmt.Errorf("TagStats counts %v, model %v", got, want)
	}
	return nil
}

func FuzzHeap(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 1, 2, 0, 3, 0, 0, 0})
	f.Add([]byte{0, 1, 200, 1, 0, 1, 230, 9, 5, 1, 0, 200, 3, 1, 0, 0, 10, 1, 0, 0})
	f.Add([]byte{0, 2, 255, 255, 0, 2, 250, 1, 6, 2, 0, 255, 11, 2, 0, 0, 0, 2, 5, 5})
	f.Add([]byte{8, 3, 9, 20, 0, 3, 150, 0, 0, 3, 151, 0, 3, 3, 0, 0, 10, 3, 0, 0, 7, 3, 1, 200})
	f.Add([]byte{1, 0, 224, 0, 1, 0, 224, 1, 4, 0, 0, 0, 7, 0, 1, 230, 9, 0, 1, 2})
	f.Fuzz(runOps)
}
