package heap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
	"github.com/zebra-heap/zebra/vmmap"
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
						if os.Getenv(overrunEnv) != name {
							runOverrunChild(t, name)
							return
						}
						h := mustNew(t, Options{Name: "edge", Space: sp.space(t), Policy: pol, Reserve: 1 << 20})
						blocks, end := fillSegment(t, h)
						for _, r := range h.meta.res {
							if r.Range().Contains(end) {
								fmt.Println(overrunInMeta)
							}
						}
						if sp.name == "host" {
							if who := foreignAfter(t, h, end); who != "" {
								// Another owner's memory (the Go runtime's
								// arena index, say): writing there tests
								// nothing of the heap and corrupts the
								// process at random.
								fmt.Println(overrunForeign, who)
								return
							}
						}
						s := unsafe.Slice((*byte)(unsafe.Add(blocks[0], end-uintptr(blocks[0]))), n)
						for i := range s {
							s[i] = pat.b(i)
						}
						// Still here: the bytes after the segment are
						// someone's memory, not the heap's bookkeeping, and
						// the heap must be consistent.
						checkAfterOverrun(t, h, blocks)
						fmt.Println(overrunSurvived)
					})
				}
			}
		}
	}
}

const (
	overrunEnv      = "ZEBRA_HEAP_OVERRUN_CHILD"
	overrunInMeta   = "overrun: in metadata"
	overrunSurvived = "overrun: survived"
	overrunForeign  = "overrun: not written, the segment ends at memory of"
)

// foreignAfter returns the owner (or type) of the accessible memory that
// follows the segment ending at end when it is not the heap's own, else "".
// The heap cannot guard what the OS placed after its segment; its promise
// is about its bookkeeping, which is the heap's own.
func foreignAfter(t *testing.T, h *Heap, end uintptr) string {
	t.Helper()
	s, err := vmmap.Self()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Regions {
		if uint64(end) < r.Start || uint64(end) >= r.End {
			continue
		}
		if r.Type == vmmap.Free || r.State != vmmap.StateCommitted || r.Owner == h.Owner() || r.Owner == MetadataOwner(h.Owner()) {
			return ""
		}
		if r.Owner != "" {
			return r.Owner
		}
		return r.Type.String()
	}
	return ""
}

// runOverrunChild runs test case name in a child process: the write must
// kill it with a fault, or leave a consistent heap when it did not land
// in the heap's metadata.
func runOverrunChild(t *testing.T, name string) {
	t.Helper()
	// -test.run matches each level of a subtest's name by itself: anchor
	// every level, or "1" would run "16" too, in the same child.
	levels := strings.Split(name, "/")
	for i, l := range levels {
		levels[i] = "^" + regexp.QuoteMeta(l) + "$"
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOverrunPastSegmentFaults$/"+strings.Join(levels, "/"), "-test.v")
	cmd.Env = append(os.Environ(), overrunEnv+"="+name)
	out, err := cmd.CombinedOutput()
	inMeta := strings.Contains(string(out), overrunInMeta)
	survived := strings.Contains(string(out), overrunSurvived)
	faulted := strings.Contains(string(out), "SIGSEGV") || strings.Contains(string(out), "unexpected fault address")
	if strings.Count(string(out), "=== RUN   TestOverrunPastSegmentFaults/") != 1 {
		t.Fatalf("the child ran other cases than %s:\n%s", name, out)
	}
	switch {
	case strings.Contains(string(out), overrunForeign) && err == nil:
		t.Logf("%s", out[strings.Index(string(out), overrunForeign):])
	case faulted:
	case inMeta:
		t.Fatalf("a write into the heap's metadata did not fault:\n%s", out)
	case !survived || err != nil:
		t.Fatalf("child failed (%v):\n%s", err, out)
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
