package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmem"
	"github.com/zebra-heap/zebra/vmmap"
)

// A scenario is one run of the experiment of github.com/pkjq/PoC.HeapReserve: heaps growing at the
// same time in one address space, then the first one destroyed.
type scenario struct {
	key     string // file names: "nt", "nt-reserve", "zebra"
	title   string
	about   string
	policy  heap.Policy
	reserve bool // the last heap reserves --reserve bytes at creation
}

// demoScenarios are the PoC's two experiments (no reserve, reserve) and ours.
func demoScenarios(c demoConfig) []scenario {
	p, name := heap.NT, "NT"
	if c.policy == "fixed" {
		p, name = heap.Fixed, "fixed"
	}
	return []scenario{
		{key: "windows", title: "Windows, no reserve", policy: p,
			about: fmt.Sprintf("Every heap grows like HeapCreate(0,0,0): %s segments, placed where the address space has room.", name)},
		{key: "windows-reserve", title: "Windows, reserve", policy: p, reserve: true,
			about: fmt.Sprintf("The last heap is RtlCreateHeap with ReserveSize %s; past it, %s segments again.", units.Bytes(c.reserve), name)},
		{key: "zebra", title: "zebra", policy: heap.Default, reserve: true,
			about: "Same reserve; past it every heap first extends its reservation in place, then reserves geometrically larger ranges."},
	}
}

// result is what one scenario measured, from the maps package's snapshots
// (not the heaps' own bookkeeping).
type result struct {
	Scenario string `json:"scenario"`
	// Span is the address range the heaps occupied before the destroy;
	// every figure below is measured inside it.
	Span hexRange `json:"span"`
	// Survivor is the heap whose ranges are counted: the last one.
	Survivor       string `json:"survivor"`
	SurvivorRanges int    `json:"survivor_ranges"`
	// Freed is the address space of the destroyed heap's data ranges in
	// the span; FreedMetadata that of its bookkeeping reservations
	// (heap.MetadataOwner) in the span, released with it and shown apart:
	// they are the heap's own page tables, not space its blocks used.
	Freed         uint64 `json:"freed_bytes"`
	FreedMetadata uint64 `json:"freed_metadata_bytes"`
	// FreeBlocks and LargestFree are the free blocks of the map in the
	// span after the destroy (vmmap.FreeBlocks): what the pictures and
	// the report's tables show (figuresNote).
	FreeBlocks  int    `json:"free_blocks"`
	LargestFree uint64 `json:"largest_free_bytes"`
	// Allocatable is the largest block that could still be reserved in the
	// span: the largest free block trimmed to the allocation granularity.
	Allocatable uint64 `json:"largest_allocatable_bytes"`
	// ZebraScore is vmmap.ZebraScore of the heaps before the destroy.
	ZebraScore int           `json:"zebra_score_before"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	// Failure says which heap ran out of address space and where, when the
	// scenario could not fill its heaps; the figures above then describe
	// the space at that moment and there is no "after".
	Failure string `json:"failure,omitempty"`

	before, after *vmmap.Snapshot // whole space, for the report
}

// hexRange is an address range that JSON shows in hexadecimal, as the maps
// package's schema does: numbers above 2^53 lose precision in JSON readers.
type hexRange vmmap.AddrRange

func (r hexRange) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"start":"%#x","end":"%#x"}`, r.Start, r.End), nil
}

func (r hexRange) String() string { return vmmap.AddrRange(r).String() }

// arena is the address space a scenario runs in and how to look at it.
type arena struct {
	space    vmem.Space
	window   *vmem.Window // nil for the process's own space
	snapshot func() (*vmmap.Snapshot, error)
	close    func() error
}

func newArena(c demoConfig, sc scenario) (arena, error) {
	var wc vmem.WindowConfig
	switch c.space {
	case "process":
		// The demo measures what Destroy gives back: the heap package's
		// address-space quarantine, which would hold a destroyed heap's
		// ranges inaccessible for a while, is off for the scenario.
		old := heap.SetAddressQuarantine(0)
		return arena{space: vmem.OS(), snapshot: vmmap.Self, close: func() error {
			heap.SetAddressQuarantine(old)
			return nil
		}}, nil
	case "win32":
		wc = vmem.Win32()
	case "win32-3gb":
		wc = vmem.Win32LargeAddressAware()
	case "wow64":
		wc = vmem.WOW64()
	}
	wc = wc.WithTypicalProcess()
	wc.Name = fmt.Sprintf("%s: %s", wc.Name, sc.title)
	w, err := vmem.NewWindow(wc)
	if err != nil {
		return arena{}, err
	}
	snap := func() (*vmmap.Snapshot, error) { return vmmap.FromWindow(w), nil }
	return arena{space: w, window: w, snapshot: snap, close: w.Close}, nil
}

func heapName(i int) string {
	if i < 26 {
		return fmt.Sprintf("heap %c", 'A'+i)
	}
	return fmt.Sprintf("heap %d", i+1)
}

// progressFunc is told how many bytes all heaps hold so far.
type progressFunc func(held uint64)

// runScenario creates the heaps, fills them alternately, snapshots, destroys
// the first heap, snapshots again and measures.
func runScenario(c demoConfig, sc scenario, progress progressFunc) (res result, err error) {
	start := time.Now()
	a, err := newArena(c, sc)
	if err != nil {
		return res, err
	}
	heaps := make([]heap.Allocator, c.heaps)
	progress = c.rec.watch(a, sc.title, progress)
	defer func() {
		for _, h := range heaps {
			if h != nil {
				if e := h.Destroy(); e != nil && !errors.Is(e, heap.ErrDestroyed) {
					err = errors.Join(err, e)
				}
			}
		}
		err = errors.Join(err, a.close())
	}()
	names := make([]string, c.heaps)
	for i := range heaps {
		// One goroutine allocates, in a fixed order: without serialization
		// every run places every block the same way (a shared heap's
		// per-P shards would follow the scheduler).
		o := heap.Options{Name: heapName(i), Space: a.space, Policy: sc.policy, NoSerialize: true}
		if a.window != nil && sc.policy != heap.Default {
			// A 32-bit Windows heap sends blocks over 508 KiB to VirtualAlloc.
			o.HugeBlock = 508 << 10
		}
		if sc.reserve && i == c.heaps-1 {
			o.Reserve = int(c.reserve)
		}
		if heaps[i], err = newHeap(c, sc, o); err != nil {
			return res, err
		}
		names[i] = heaps[i].Name()
	}
	res.Scenario = sc.title
	res.Survivor = names[len(names)-1]
	var full *fullError
	if err := fill(c, heaps, progress); errors.As(err, &full) {
		res.Failure = full.Error()
	} else if err != nil {
		return res, err
	}
	if res.before, err = a.snapshot(); err != nil {
		return res, err
	}
	if res.Failure == "" {
		if err := heaps[0].Destroy(); err != nil {
			return res, err
		}
		c.rec.snap(a)
		if res.after, err = a.snapshot(); err != nil {
			return res, err
		}
	}
	if err := measure(&res, names, granularity(a)); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// fullError is a heap that ran out of memory while the demo filled it: a
// result of the scenario, not a failure of the demo.
type fullError struct {
	heap       string
	held, want uint64
	err        error
}

func (e *fullError) Error() string {
	// The last clause names what the address space lacked ("no free block
	// of 64 KiB"); the layers before it repeat the heap and the request.
	msg := e.err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return fmt.Sprintf("%s failed at %s of %s: %s", e.heap, units.Bytes(e.held), units.Bytes(e.want), msg)
}

func (e *fullError) Unwrap() error { return e.err }

func granularity(a arena) uint64 { return uint64(a.space.Caps().Granularity) }

// fill allocates blocks alternately from every heap until each holds
// c.total bytes.
func fill(c demoConfig, heaps []heap.Allocator, progress progressFunc) error {
	rng := rand.New(rand.NewPCG(uint64(c.seed), 0x7a65627261))
	held := make([]uint64, len(heaps))
	var all uint64
	for busy := true; busy; {
		busy = false
		for i, h := range heaps {
			if held[i] >= c.total {
				continue
			}
			busy = true
			n := c.blockMin
			if c.blockMax > c.blockMin {
				n += rng.IntN(c.blockMax - c.blockMin + 1)
			}
			if _, err := h.Alloc(n); errors.Is(err, heap.ErrNoMemory) {
				return &fullError{h.Name(), held[i], c.total, err}
			} else if err != nil {
				return fmt.Errorf("%s holds %s of %s: %w", h.Name(), units.Bytes(held[i]), units.Bytes(c.total), err)
			}
			held[i] += uint64(n)
			all += uint64(n)
			if progress != nil && all&(1<<20-1) < uint64(n) {
				progress(all)
			}
		}
	}
	if progress != nil {
		progress(all)
	}
	return nil
}

// measure fills in the figures of res from its snapshots: the span is where
// the heaps were before the destroy, and every figure of the demo, in the
// terminal, the JSON and the report, is measured within it.
func measure(res *result, names []string, gran uint64) error {
	ours := map[string]bool{}
	for _, n := range names {
		ours[n] = true
	}
	var span vmmap.AddrRange
	for _, r := range res.before.Regions {
		if !ours[r.Owner] || r.Type == vmmap.Free {
			continue
		}
		if span.End == 0 {
			span.Start = r.Start
		}
		span.Start, span.End = min(span.Start, r.Start), max(span.End, r.End)
	}
	if span.End == 0 {
		return fmt.Errorf("the snapshot shows none of the heaps %v", names)
	}
	res.Span = hexRange(span)
	before, err := res.before.WithSpan(span)
	if err != nil {
		return err
	}
	res.before = before
	res.ZebraScore = vmmap.ZebraScore(before)
	if res.after == nil {
		return nil
	}
	after, err := res.after.WithSpan(span)
	if err != nil {
		return err
	}
	res.after = after
	for _, o := range vmmap.Owners(before) {
		switch o.Owner {
		case names[0]:
			res.Freed += o.Bytes
		case heap.MetadataOwner(names[0]):
			res.FreedMetadata += o.Bytes
		}
	}
	for _, o := range vmmap.Owners(after) {
		if o.Owner == res.Survivor {
			res.SurvivorRanges = o.Stripes
		}
	}
	// The free blocks are the map's, as the pictures and every table of
	// the report count them (figuresNote).
	free := vmmap.FreeBlocks(after)
	res.FreeBlocks = len(free)
	for _, f := range free {
		res.LargestFree = max(res.LargestFree, f.Size())
		lo, hi := (f.Start+gran-1)/gran*gran, f.End/gran*gran
		if hi > lo {
			res.Allocatable = max(res.Allocatable, hi-lo)
		}
	}
	return nil
}
