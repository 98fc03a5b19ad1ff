// Package zebrahttp serves a live view of the process's zebra heaps and
// address space over HTTP, as net/http/pprof serves profiles.
//
// Importing this package does nothing by itself: no handler is registered,
// no goroutine started, no expvar variable published. A program mounts a
// Handler where it wants the pages:
//
//	mux.Handle("/debug/zebra/", zebrahttp.New(zebrahttp.Options{}))
//
// or imports the package zebrahttp/register for its side effect, which does
// what importing net/http/pprof does: it registers a Handler under
// /debug/zebra/ on http.DefaultServeMux and publishes the heaps' figures as
// the expvar variable "zebra" (importing expvar also registers expvar's own
// /debug/vars on http.DefaultServeMux):
//
//	import _ "github.com/zebra-heap/zebra/zebrahttp/register"
//
// The pages, relative to Options.Path (the mount point; only these exact
// paths answer, anything else is 404):
//
//	(the index)       every live heap (heap.Heaps) with its Stats,
//	                  metadata included, its live blocks per tag
//	                  (heap.Options.Tags), and links to the rest
//	heaps.json        the same figures as JSON
//	leaks.txt         what each heap still holds (heap.Heap.Leaks), by
//	                  tag and, with heap.DebugCallers, call site; it walks
//	                  every heap, so it waits for a slot like a drawing
//	map.png, map.svg  the fragmentation view of the process (vmmap/render)
//	map.html          the self-contained HTML report of the process's map
//	snapshot.json     the map as a vmmap snapshot (vmmap.SchemaV1)
//	timeline.jsonl.gz the snapshots kept in the ring, as a gzipped
//	                  timeline (vmmap/timeline) for `zebra report`
//
// # The ring
//
// A Handler samples the address space from the moment it is made (New) until
// Handler.Stop, whether or not a page is requested: a snapshot at once,
// then one every Options.Every (10 s by default). The ring keeps the last
// Options.Keep snapshots (60: ten minutes) and at most Options.MaxBytes of
// them (64 MiB by default), dropping the oldest first; it always keeps the
// newest. A snapshot costs about 400 bytes per mapping in the ring (the
// estimate the cap counts, which TestRingBytes checks against the Go heap),
// so the default cap holds 60 snapshots of a process of 2,800 mappings, or
// 2 of one of 60,000.
//
// # Safe to leave on
//
// The map pages and the timeline are drawn from the ring's newest snapshot
// (taken at most Every ago) and kept until the next sample, so each is
// drawn at most once per sample however many clients ask. At most two
// pages are drawn (or snapshots taken, or drawn pages sent) at a time; a
// request that cannot start within Options.Wait (2 s) gets 503 Service
// Unavailable with Retry-After. A drawn page is sent at 32 MiB/s at most,
// so the handler never spends more than a sliver of the program's CPU on
// copying pages to clients. The index and heaps.json are built at most
// once a second from the heaps' figures (heap.Heap.Stats, which locks each
// heap a moment) and the ring's length, and served from memory, never
// waiting for a drawing: the index answers within milliseconds while pages
// are drawn and sent (p99 of 42-49 ms under 200 loopback clients on 2
// busy cores, TestLoad). Every page is read-only (GET and HEAD), sent with
// X-Content-Type-Options: nosniff, and shows names a process chose
// escaped (see internal/visible). The index reads only the heaps' figures
// and answers while pages are drawn. The memory held is the ring (up to
// MaxBytes) plus one copy of each page of the newest sample.
//
// As with pprof, do not expose the pages to the internet: they reveal the
// process's memory layout.
package zebrahttp

import (
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/heap/heapvar"
)

// Options configure a Handler. The zero value mounts at /debug/zebra/,
// samples every 10 seconds, keeps the last 60 snapshots (10 minutes) within
// 64 MiB, and lets a request wait 2 s for a drawing slot.
type Options struct {
	// Path is where the Handler is mounted, ending in "/": the pages
	// answer at Path + name only. "/debug/zebra/" when empty; "/" for a
	// Handler behind http.StripPrefix.
	Path string
	// Every is the ring's sampling interval; 10 s when 0.
	Every time.Duration
	// Keep is the number of snapshots the ring holds; 60 when 0.
	Keep int
	// MaxBytes caps the ring's memory (see the package documentation for
	// what a snapshot costs); 64 MiB when 0. The newest snapshot is kept
	// whatever its size.
	MaxBytes int64
	// Wait is how long a request waits to be drawn before it gets 503
	// with Retry-After; 2 s when 0.
	Wait time.Duration
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = "/debug/zebra/"
	}
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.Keep <= 0 {
		o.Keep = 60
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	if o.Wait <= 0 {
		o.Wait = 2 * time.Second
	}
	return o
}

// HeapFigure is one heap in heaps.json and in Figures: the figures
// heap/heapvar publishes, for programs that want them without pages.
type HeapFigure = heapvar.Figure

// Figures returns every live heap's figures, for heaps.json and for an
// expvar variable (expvar.Func(Figures), as zebrahttp/register publishes).
func Figures() any { return heapFigures(heap.Heaps()) }

var heapFigures = heapvar.Figures
