package vmem

// # Emulated windows
//
// A Window is a bounded address space — the 2 GiB of a 32-bit Windows
// process, say — carved out of ONE real reservation of the host. It lets a
// 64-bit machine show what github.com/pkjq/PoC.HeapReserve showed on
// 32-bit Windows: a process whose address space is small enough that a zebra
// of heap segments leaves no free block for a large allocation.
//
// The window keeps two views of the same bytes. Emulated addresses are the
// ones the emulated process would see (0x00010000–0x7FFF0000 for Win32);
// real addresses are where those bytes live in the host's reservation. The
// two differ by a constant, and the host base is aligned to Caps.MaxAlign
// congruently with the emulated addresses, so an emulated address aligned to
// anything up to MaxAlign is a real address aligned the same way.
// Reservations made in a window are ordinary *Reservation values whose Base
// and Pointer are real; Window.Emulated translates back, and Regions and
// the window's error messages speak in emulated addresses.
//
// Placement is bookkeeping only: the whole window is reserved (PROT_NONE,
// MEM_RESERVE) when it is created, and the window's free list — a rangeSet
// of emulated addresses — decides where each reservation goes, by the rule
// of its Placement (window_place.go). Commit, decommit and release are real:
// they call the host's primitives on the reservation's sub-range, so touching
// a page that is not committed faults as it would on the emulated OS.
//
// Each reservation gets its own prims value (windowAlloc, window_prims.go)
// that records its pieces and its committed and decommitted pages under the
// window's mutex, so Regions can draw the window while owners work. The mutex
// is taken by Reserve, Extend and Release, and briefly after each Commit or
// Decommit has made its system call (or, for a Commit that only fills
// decommitted holes on hosts that need no system call for that, when it
// forgets them).
//
// Limits. On Linux each committed reservation splits the host mapping, so a
// window costs about two VMAs per reservation (vm.max_map_count is 65530 by
// default). Pre-occupied ranges hold no image or file: they only take address
// space and, when marked committed, real readable zero pages. A window on a
// 32-bit host can rarely find 2 GiB of contiguous host address space; use a
// smaller window there.

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"unsafe"

	"github.com/zebra-heap/zebra/internal/units"
)

// Kind says what occupies a pre-occupied range of a window. Maps classify
// each kind as the VMMap type of the same name.
type Kind uint8

const (
	KindPrivate   Kind = iota // private memory: PEB, TEB, shared user data, other private data
	KindImage                 // an executable or DLL image
	KindMapped                // a mapped data file (code page and locale .nls files)
	KindStack                 // a thread's stack
	KindShareable             // shared memory not backed by a file
	KindHeap                  // a native heap (the default process heap)
)

var kindNames = [...]string{
	KindPrivate: "private", KindImage: "image", KindMapped: "mapped file",
	KindStack: "stack", KindShareable: "shareable", KindHeap: "heap",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Occupied is a range of a window that is in use before any reservation is
// made: an image, a DLL, a stack, the PEB, a mapped file. Its addresses are
// emulated. Base and Size must be multiples of the host's page size.
type Occupied struct {
	Range     Range
	Kind      Kind
	Name      string
	Committed bool // readable and writable (real zero pages); else only reserved
}

// WindowConfig describes a window. The presets in window_presets.go fill it
// for the usual 32-bit Windows address spaces.
type WindowConfig struct {
	// Name names the window: the Space name of its reservations, in the
	// registry and in errors. Empty means "window LOW-HIGH".
	Name string
	// Low and High bound the emulated user range [Low, High). Both are
	// multiples of Granularity, and Low is not zero: no OS hands out the
	// page at address zero.
	Low, High uintptr
	// Granularity is the unit and alignment of reservations: 64 KiB for
	// Windows. Zero means the host's page size. It must be a power of two
	// no smaller than the host's page size.
	Granularity uintptr
	// Placement is the rule that chooses where reservations go.
	Placement Placement
	// Occupied lists ranges in use from the start; they must lie inside
	// [Low, High) and not overlap.
	Occupied []Occupied
}

// WindowRegion is a run of a window's address space, in emulated addresses,
// as Window.Regions reports it.
type WindowRegion struct {
	Range Range
	// State is Free, Reserved, Committed or Decommitted (committed and
	// then decommitted inside a reservation's committed interval).
	State State
	// Kind is what occupies the run: the Occupied range's kind, or
	// KindPrivate for reservations made in the window. Zero for free runs.
	Kind Kind
	// Owner is the Occupied range's name or the reservation's owner.
	Owner string
	// Occupied is true for pre-occupied ranges.
	Occupied bool
}

// A Window is an emulated, bounded address space backed by one real host
// reservation. It implements Space. See the overview at the top of
// window.go.
//
// A Window is safe for concurrent use; its reservations, like all
// reservations, belong to one owner each. Close must not run while owners
// still use the window's reservations.
type Window struct {
	cfg  WindowConfig
	caps Caps

	// life is held shared by Reserve and exclusively by Close, so that
	// Close sees every reservation fully made.
	life sync.RWMutex

	mu       sync.Mutex
	host     *Reservation // the real range; emulated emuBase is its base
	hostBase uintptr
	emuBase  uintptr
	free     rangeSet // emulated
	occupied []Occupied
	allocs   map[*windowAlloc]struct{}
	closed   bool // no more reservations
	gone     bool // the host range is released
}

// windowMaxAlign is the largest alignment a window offers (Caps.MaxAlign):
// enough for 2 MiB and 4 MiB aligned segments, and cheap to honour because
// the host base is aligned to it once, at the cost of at most that much
// unused host address space below Low.
const windowMaxAlign = 4 << 20

// NewWindow reserves the host address space for a window described by c,
// marks its occupied ranges and commits those marked committed.
//
// Impossible layouts return an error wrapping ErrInvalidWindow; a host that
// cannot reserve the range returns one wrapping ErrNoMemory.
func NewWindow(c WindowConfig) (*Window, error) {
	hc := hostPrims{}.caps()
	c.Occupied = slices.Clone(c.Occupied)
	if c.Granularity == 0 {
		c.Granularity = hc.PageSize
	}
	if c.Name == "" {
		c.Name = fmt.Sprintf("window %#x-%#x", c.Low, c.High)
	}
	if err := c.validate(hc); err != nil {
		return nil, err
	}
	align := max(min(windowMaxAlign, hc.MaxAlign), c.Granularity)
	emuBase := c.Low &^ (align - 1)
	span := c.High - emuBase
	host, err := OS().Reserve(span, Options{Align: align, Owner: "window: " + c.Name})
	if err != nil {
		hint := ""
		if bits.UintSize == 32 {
			hint = " (a 32-bit host rarely has that much contiguous free address space: use a smaller window)"
		}
		return nil, fmt.Errorf("vmem: window %q: reserve %s of host address space%s: %w", c.Name, units.Size(span), hint, err)
	}
	w := &Window{
		cfg: c,
		caps: Caps{
			PageSize:              hc.PageSize,
			Granularity:           c.Granularity,
			MaxAlign:              align,
			PartialRelease:        false,
			RecommitAfterDecommit: hc.RecommitAfterDecommit,
			ExactPlacement:        true,
			TopDown:               c.Placement == TopDown,
			MaxAddress:            c.High,
		},
		host:     host,
		hostBase: host.Base(),
		emuBase:  emuBase,
		occupied: slices.Clone(c.Occupied),
		allocs:   make(map[*windowAlloc]struct{}),
	}
	slices.SortFunc(w.occupied, func(a, b Occupied) int { return cmp.Compare(a.Range.Base, b.Range.Base) })
	w.free.add(Range{c.Low, c.High - c.Low})
	for _, o := range w.occupied {
		w.free.remove(o.Range)
		if !o.Committed {
			continue
		}
		if err := (hostPrims{}).commit(w.pointer(o.Range.Base), o.Range.Size); err != nil {
			host.Release()
			return nil, fmt.Errorf("vmem: window %q: commit occupied %s %q: %w", c.Name, o.Range, o.Name, err)
		}
	}
	return w, nil
}

// validate checks the layout against itself and the host's page size.
func (c *WindowConfig) validate(hc Caps) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: "+format, append([]any{ErrInvalidWindow, c.Name}, args...)...)
	}
	g := c.Granularity
	switch {
	case bits.OnesCount64(uint64(g)) != 1:
		return bad("granularity %#x is not a power of two", g)
	case g < hc.PageSize:
		return bad("granularity %s is smaller than the host's page size %s", units.Size(g), units.Size(hc.PageSize))
	case c.Placement > TopDown:
		return bad("unknown placement %v", c.Placement)
	case c.Low >= c.High:
		return bad("low bound %#x is not below the high bound %#x", c.Low, c.High)
	case c.High-c.Low < g:
		return bad("%s is smaller than its granularity %s", units.Size(c.High-c.Low), units.Size(g))
	case c.Low == 0:
		return bad("low bound is zero: the page at address zero is never usable")
	case c.Low%g != 0 || c.High%g != 0:
		return bad("bounds %#x-%#x are not multiples of the granularity %s", c.Low, c.High, units.Size(g))
	}
	sorted := slices.Clone(c.Occupied)
	slices.SortFunc(sorted, func(a, b Occupied) int { return cmp.Compare(a.Range.Base, b.Range.Base) })
	for i, o := range sorted {
		r := o.Range
		switch {
		case r.Size == 0:
			return bad("occupied %q at %#x is empty", o.Name, r.Base)
		case r.Base%hc.PageSize != 0 || r.Size%hc.PageSize != 0:
			return bad("occupied %q %#x+%#x is not a multiple of the host's page size %s", o.Name, r.Base, r.Size, units.Size(hc.PageSize))
		case r.Base < c.Low || r.Base >= c.High || r.Size > c.High-r.Base:
			return bad("occupied %q %#x+%#x lies outside %#x-%#x", o.Name, r.Base, r.Size, c.Low, c.High)
		case o.Kind > KindHeap:
			return bad("occupied %q has unknown kind %v", o.Name, o.Kind)
		case i > 0 && sorted[i-1].Range.End() > r.Base:
			return bad("occupied %q %s overlaps %q %s", sorted[i-1].Name, sorted[i-1].Range, o.Name, r)
		}
	}
	return nil
}

// pointer returns the real pointer for emulated address e, which must lie
// in the host range.
func (w *Window) pointer(e uintptr) unsafe.Pointer {
	return unsafe.Add(w.host.Pointer(), e-w.emuBase)
}

// emulated translates a real address into the window, reporting whether it
// lies in the host range at all.
func (w *Window) emulated(real uintptr) (uintptr, bool) {
	if real < w.hostBase || real-w.hostBase >= w.cfg.High-w.emuBase {
		return 0, false
	}
	return real - w.hostBase + w.emuBase, true
}

// Name returns the window's name, which is also the Space name of its
// reservations.
func (w *Window) Name() string { return w.cfg.Name }

// Caps reports the window's capabilities: its granularity, the host's page
// size and decommit behaviour, exact placement (so Extend works), no partial
// release and no huge pages.
func (w *Window) Caps() Caps { return w.caps }

// Config returns the configuration the window was made with, with defaults
// filled in.
func (w *Window) Config() WindowConfig {
	c := w.cfg
	c.Occupied = slices.Clone(c.Occupied)
	return c
}

// Emulated translates a real (host) address inside the window into the
// emulated address the window shows for it. It returns 0 for addresses
// outside the window and after Close; 0 is never inside a window.
func (w *Window) Emulated(real uintptr) uintptr {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gone {
		return 0
	}
	e, ok := w.emulated(real)
	if !ok || e < w.cfg.Low {
		return 0
	}
	return e
}

// Reserve places a new reservation of size bytes (rounded up to the
// granularity) by the window's placement rule. When no free block can hold
// it, the error is a *NoFitError, which wraps ErrNoMemory; after Close it
// wraps ErrReleased. Options.HugePages is ignored: windows have no huge
// pages.
func (w *Window) Reserve(size uintptr, o Options) (*Reservation, error) {
	w.life.RLock()
	defer w.life.RUnlock()
	a := &windowAlloc{w: w}
	r, err := reserve(a, w.cfg.Name, size, o)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	a.res = r
	w.mu.Unlock()
	return r, nil
}

// Largest returns the size of the largest free block, as VMMap's "Largest"
// on the Free row. When occupied ranges are multiples of the granularity, as
// in the presets, it is the largest request that can still succeed.
func (w *Window) Largest() uintptr {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.free.largest()
}

// FreeBytes returns the total free address space of the window.
func (w *Window) FreeBytes() uintptr {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.free.total()
}

// Close releases every reservation still in the window, then the host range.
// Afterwards Reserve, and every operation on the window's reservations,
// returns an error wrapping ErrReleased, and a second Close does too. If the
// host refuses to release its range the error says so and Close may be called
// again to retry.
func (w *Window) Close() error {
	w.life.Lock()
	defer w.life.Unlock()
	w.mu.Lock()
	if w.gone {
		w.mu.Unlock()
		return fmt.Errorf("vmem: window %q: close: %w", w.cfg.Name, ErrReleased)
	}
	w.closed = true
	list := make([]*windowAlloc, 0, len(w.allocs))
	for a := range w.allocs {
		list = append(list, a)
	}
	w.mu.Unlock()
	slices.SortFunc(list, func(a, b *windowAlloc) int { return cmp.Compare(a.rng.Base, b.rng.Base) })
	var errs []error
	for _, a := range list {
		if err := a.res.Release(); err != nil {
			// The host range goes away below it anyway: the
			// reservation must not stay usable.
			errs = append(errs, err)
			a.res.released = true
			unregister(a.res)
			w.mu.Lock()
			a.live = false
			delete(w.allocs, a)
			w.mu.Unlock()
		}
	}
	if err := w.host.Release(); err != nil {
		errs = append(errs, fmt.Errorf("vmem: window %q: release the host range: %w", w.cfg.Name, err))
		return errors.Join(errs...)
	}
	w.mu.Lock()
	w.gone = true
	w.free = rangeSet{}
	w.mu.Unlock()
	return errors.Join(errs...)
}
