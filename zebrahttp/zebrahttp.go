// Package zebrahttp serves a live view of the process's zebra heaps and
// address space over HTTP, as net/http/pprof serves profiles. Importing it
// for its side effect registers the pages under /debug/zebra/ on
// http.DefaultServeMux and publishes the heaps' figures as the expvar
// variable "zebra" (heap/heapvar publishes the same figures without the
// pages, the renderer and the sampler):
//
//	import _ "github.com/zebra-heap/zebra/zebrahttp"
//
// A program with its own mux mounts Default (or a Handler of its own) there:
//
//	mux.Handle("/debug/zebra/", zebrahttp.Default)
//
// The pages, relative to the mount point:
//
//	/                 index: every live heap (heap.Heaps) with its Stats,
//	                  metadata included, and links to the rest
//	heaps.json        the same figures as JSON
//	map.png, map.svg  the fragmentation view of the process (vmmap/render)
//	map.html          the self-contained HTML report of the process's map
//	snapshot.json     the map as a vmmap snapshot (vmmap.SchemaV1)
//	timeline.jsonl.gz the last snapshots kept in the ring, as a gzipped
//	                  timeline (vmmap/timeline) for `zebra report`
//
// The ring is filled from the moment the Handler is made (New; for
// Default, when the package is imported), whether or not a page is ever
// requested: a snapshot at once, then one every Options.Every (10 s by
// default) until Handler.Stop, so timeline.jsonl.gz holds the last
// Keep × Every (10 minutes by default) at any time.
//
// It is meant to be safe to leave on in production: every page is
// read-only (GET and HEAD only); the ring keeps at most Options.Keep
// snapshots, so its memory is bounded: a snapshot costs about 250 bytes a
// mapping, so the default 60 of a process of 1,000 mappings hold about
// 15 MB; at most two snapshots of the address space are taken at a time,
// and no lock is held while one is taken (each reads /proc/self/smaps, a
// few milliseconds for a typical process, so the default sampler costs
// well under 0.1% of a core).
//
// As with pprof, do not expose the pages to the internet: they reveal the
// process's memory layout.
package zebrahttp

import (
	"expvar"
	"net/http"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/heap/heapvar"
)

// Default is the handler registered on http.DefaultServeMux: it samples
// every 10 s and keeps 10 minutes.
var Default = New(Options{})

func init() {
	http.Handle("/debug/zebra/", Default)
	expvar.Publish("zebra", expvar.Func(func() any { return heapFigures(heap.Heaps()) }))
}

// Options configure a Handler. The zero value samples every 10 seconds and
// keeps the last 60 snapshots (10 minutes).
type Options struct {
	// Every is the ring's sampling interval; 10 s when 0.
	Every time.Duration
	// Keep is the number of snapshots the ring holds; 60 when 0.
	Keep int
}

func (o Options) withDefaults() Options {
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.Keep <= 0 {
		o.Keep = 60
	}
	return o
}

// heapFigure is one heap in heaps.json and in the expvar variable: the
// figures heapvar publishes, for programs that want them without pages.
type heapFigure = heapvar.Figure

var heapFigures = heapvar.Figures
