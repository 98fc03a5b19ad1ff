package zebrahttp

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/internal/visible"
	"github.com/zebra-heap/zebra/vmmap"
)

// Handler serves the pages described in the package documentation. See
// ring.go for the samples and pages.go for the drawn pages.
type Handler struct {
	opt  Options
	take func() (*vmmap.Snapshot, error) // vmmap.Self; tests give their own
	// outputs are the drawn pages: pageOutputs; tests give slow ones.
	outputs map[string]pageOutput
	// work bounds what costs CPU at once: snapshots taken and pages drawn.
	work    chan struct{}
	stop    chan struct{} // closed by Stop
	stopped chan struct{} // closed when the sampler returned
	once    sync.Once

	mu    sync.Mutex // guards the fields below, never held across a snapshot or a drawing
	ring  []sample   // oldest first
	bytes int64      // the ring's estimated size (sample.bytes summed)
	gen   uint64     // samples taken so far: the generation of the pages
	pages map[string]*page

	// The index and heaps.json, built at most once per indexTTL: see
	// figures. refresh is held by the one request that rebuilds them.
	front   atomic.Pointer[frontPages]
	refresh sync.Mutex
}

// indexTTL is how long the index and heaps.json are served as built. The
// heaps' Stats take every lock of each heap for a moment and measure its
// resident memory with system calls: built per request, 200 clients
// asking without pause would hold the program's heaps all the time. Built
// once a second, they cost the same whatever the number of clients, and
// no request waits for the building when a copy exists.
const indexTTL = time.Second

// frontPages are the index and heaps.json of one moment.
type frontPages struct {
	built       time.Time
	index, json []byte
}

// New returns a Handler with its own ring and starts its sampler: a
// snapshot at once, then one every Options.Every until Stop, whether or
// not any page is requested, so the timeline always holds the last
// Keep × Every (within MaxBytes).
func New(o Options) *Handler {
	h := newHandler(o, vmmap.Self)
	h.stopped = make(chan struct{})
	go h.sampler()
	return h
}

// newHandler returns a Handler that takes its snapshots with take and does
// not sample until its sampler is started.
func newHandler(o Options, take func() (*vmmap.Snapshot, error)) *Handler {
	h := &Handler{opt: o.withDefaults(), take: take, outputs: pageOutputs, work: make(chan struct{}, 2), stop: make(chan struct{})}
	h.pages = map[string]*page{}
	for name := range pageOutputs {
		h.pages[name] = &page{lock: make(chan struct{}, 1)}
	}
	return h
}

// Stop ends the sampling and returns once the sampler has returned; the
// ring keeps what it holds and the pages still answer. A Handler that is
// dropped without Stop samples for the life of the process.
func (h *Handler) Stop() {
	h.once.Do(func() { close(h.stop) })
	if h.stopped != nil {
		<-h.stopped
	}
}

// ServeHTTP serves the page at the exact path Options.Path + name.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, h.opt.Path)
	switch {
	case !ok:
		http.NotFound(w, r)
	case name == "" || name == "heaps.json":
		f, err := h.figures()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body, ctype := f.index, "text/html; charset=utf-8"
		if name == "heaps.json" {
			body, ctype = f.json, "application/json"
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(body)
	case name == "leaks.txt":
		h.serveLeaks(w, r)
	case h.pages[name] != nil:
		h.servePage(w, r, name)
	default:
		http.NotFound(w, r)
	}
}

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"bytes": units.Bytes, "visible": visible.String,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>/debug/zebra/</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body><h1>zebra heaps</h1>
{{if .Heaps}}<table><tr><th>heap</th><th>reserved</th><th>committed</th><th>resident</th><th>in use</th><th>free</th><th>largest free</th><th>blocks</th><th>huge</th><th>segments</th><th>ranges</th><th>metadata reserved</th><th>metadata committed</th></tr>
{{range .Heaps}}<tr><td>{{visible .Name}}{{if ne .Owner .Name}} ({{visible .Owner}} in the map){{end}}</td><td>{{bytes .Stats.Reserved}}</td><td>{{bytes .Stats.Committed}}</td><td>{{bytes .Stats.Resident}}</td><td>{{bytes .Stats.InUse}}</td><td>{{bytes .Stats.Free}}</td><td>{{bytes .Stats.Largest}}</td><td>{{.Stats.Blocks}}</td><td>{{.Stats.HugeBlocks}}</td><td>{{.Stats.Segments}}</td><td>{{.Stats.Ranges}}</td><td>{{bytes .Stats.MetaReserved}}</td><td>{{bytes .Stats.MetaCommitted}}</td></tr>
{{end}}</table>{{else}}<p>No live zebra heap in this process.</p>{{end}}
{{range .Heaps}}{{if .Tags}}<h2>{{visible .Name}}: live blocks by tag</h2><table><tr><th>tag</th><th>blocks</th><th>bytes</th></tr>
{{range .Tags}}<tr><td>{{visible .Name}}</td><td>{{.Blocks}}</td><td>{{bytes .Bytes}}</td></tr>
{{end}}</table>{{end}}{{end}}
<ul><li><a href="map.html">map.html</a>: the address space, VMMap style</li>
<li><a href="map.png">map.png</a>, <a href="map.svg">map.svg</a>: the fragmentation view</li>
<li><a href="snapshot.json">snapshot.json</a>: the snapshot as JSON</li>
<li><a href="heaps.json">heaps.json</a>: the figures above as JSON</li>
<li><a href="leaks.txt">leaks.txt</a>: what each heap still holds, by tag and (with the callers debug mode) call site; walks every heap</li>
<li><a href="timeline.jsonl.gz">timeline.jsonl.gz</a>: the last {{.Ring}} snapshots (one every {{.Every}}, at most {{.Keep}} and {{bytes .MaxBytes}}; {{bytes .Bytes}} held); read with <code>zebra report</code></li></ul>
<p>Heap figures as of {{.Built}} (this page and heaps.json are rebuilt at most once a second). The map pages show the newest snapshot{{if .Taken}}, taken {{.Taken}}{{end}}.</p>
</body></html>
`))

// figures returns the index and heaps.json, rebuilt when they are older
// than indexTTL. While one request rebuilds them the others get the copy
// there is, so the index never waits on the heaps' locks, the ring's
// bookkeeping (h.mu is held a moment, and never while drawing) or a
// drawing.
func (h *Handler) figures() (*frontPages, error) {
	f := h.front.Load()
	if f != nil && time.Since(f.built) < indexTTL {
		return f, nil
	}
	if f != nil {
		if !h.refresh.TryLock() {
			return f, nil
		}
	} else {
		h.refresh.Lock()
	}
	defer h.refresh.Unlock()
	if g := h.front.Load(); g != nil && time.Since(g.built) < indexTTL {
		return g, nil // rebuilt while this request waited for the lock
	}
	h.mu.Lock()
	v := struct {
		Heaps           []HeapFigure
		Ring, Keep      int
		Every           time.Duration
		Bytes, MaxBytes uint64
		Taken, Built    string
	}{Ring: len(h.ring), Keep: h.opt.Keep, Every: h.opt.Every, Bytes: uint64(h.bytes), MaxBytes: uint64(h.opt.MaxBytes)}
	if len(h.ring) > 0 {
		v.Taken = h.ring[len(h.ring)-1].snap.Taken.Format(time.RFC3339)
	}
	h.mu.Unlock()
	built := time.Now()
	v.Heaps, v.Built = heapFigures(heap.Heaps()), built.Format(time.RFC3339)
	var index, js bytes.Buffer
	if err := indexTemplate.Execute(&index, v); err != nil {
		return nil, err
	}
	if err := json.NewEncoder(&js).Encode(v.Heaps); err != nil {
		return nil, err
	}
	f = &frontPages{built: built, index: index.Bytes(), json: js.Bytes()}
	h.front.Store(f)
	return f, nil
}
