package heap

import (
	"errors"
	"fmt"
	"runtime/debug"
	"testing"
	"time"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// Overruns at a segment's edge: a write that runs off the end of the last
// block of a segment must fault (the metadata arena keeps a guard at both
// ends of its reservations) or, where it lands in memory of the heap,
// leave the heap either intact or reporting ErrCorrupt: never a hang, a
// panic inside the heap, or two live blocks overlapping.

// fillSegment fills the heap's first segment with 32 KiB blocks and
// returns them and the segment's end.
func fillSegment(t *testing.T, h *Heap) ([]unsafe.Pointer, uintptr) {
	t.Helper()
	seg := h.Segments()[0]
	var blocks []unsafe.Pointer
	for range seg.Size / (32 << 10) {
		p, err := h.Alloc(32 << 10)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, p)
	}
	return blocks, seg.End()
}

// writeFaults writes b to [p, p+n) and reports whether the write faulted.
func writeFaults(p unsafe.Pointer, n int, b func(i int) byte) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			faulted = true
		}
	}()
	s := unsafe.Slice((*byte)(p), n)
	for i := range s {
		s[i] = b(i)
	}
	return false
}

func TestOverrunPastSegmentFaults(t *testing.T) {
	crafted := pageDesc{kind: kindFreeHead, n: 1 << 20, a: 7, b: 9}
	patterns := []struct {
		name string
		b    func(i int) byte
	}{
		{"zeros", func(int) byte { return 0 }},
		{"ones", func(int) byte { return 0xff }},
		{"descriptor", func(i int) byte { return (*[descSize]byte)(unsafe.Pointer(&crafted))[i%int(descSize)] }},
	}
	spaces := []struct {
		name  string
		space func(t *testing.T) vmem.Space
	}{
		{"host", func(*testing.T) vmem.Space { return vmem.OS() }},
		{"win32", func(t *testing.T) vmem.Space { return win32(t) }},
	}
	for _, sp := range spaces {
		for _, pol := range []Policy{Default, NT, Fixed} {
			for _, n := range []int{1, 16, 64, 256} {
				for _, pat := range patterns {
					name := fmt.Sprintf("%s/%v/%d/%s", sp.name, pol, n, pat.name)
					t.Run(name, func(t *testing.T) {
						h := mustNew(t, Options{Name: "edge", Space: sp.space(t), Policy: pol, Reserve: 1 << 20})
						blocks, end := fillSegment(t, h)
						inMeta := false
						for _, r := range h.meta.res {
							inMeta = inMeta || r.Range().Contains(end)
						}
						if !writeFaults(unsafe.Pointer(end), n, pat.b) {
							if inMeta {
								t.Fatalf("a write at %#x, in the heap's metadata reservation, did not fault", end)
							}
							// The byte after the segment is someone's
							// memory, not the heap's bookkeeping: the
							// heap must still be consistent.
							checkAfterOverrun(t, h, blocks)
						}
					})
				}
			}
		}
	}
}

// checkAfterOverrun calls every API with a deadline and checks that the
// heap is intact or reports ErrCorrupt, and that no live blocks overlap.
func checkAfterOverrun(t *testing.T, h *Heap, blocks []unsafe.Pointer) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		var errs []error
		errs = append(errs, h.Validate())
		errs = append(errs, h.Walk(func(Entry) bool { return true }))
		_, err := h.Compact()
		errs = append(errs, err)
		live := map[uintptr]uintptr{}
		for _, p := range blocks {
			n, err := h.Size(p)
			errs = append(errs, err)
			live[uintptr(p)] = uintptr(n)
		}
		for range 64 {
			p, err := h.Alloc(4096)
			errs = append(errs, err)
			if err == nil {
				live[uintptr(p)] = 4096
			}
		}
		done <- checkNoOverlap(live, errors.Join(errs...))
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the heap hangs after an overrun")
	}
}

// checkNoOverlap returns an error if two of the live blocks overlap, else
// err.
func checkNoOverlap(live map[uintptr]uintptr, err error) error {
	type blk struct{ p, n uintptr }
	var bs []blk
	for p, n := range live {
		bs = append(bs, blk{p, n})
	}
	for i := range bs {
		for j := range bs {
			if i != j && bs[i].p < bs[j].p+bs[j].n && bs[j].p < bs[i].p+bs[i].n {
				return fmt.Errorf("blocks %#x+%d and %#x+%d overlap", bs[i].p, bs[i].n, bs[j].p, bs[j].n)
			}
		}
	}
	return err
}
