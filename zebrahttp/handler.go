package zebrahttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// Handler serves the pages described in the package documentation.
type Handler struct {
	opt  Options
	take func() (*vmmap.Snapshot, error) // vmmap.Self; tests give their own
	// sem bounds the snapshots taken at once.
	sem     chan struct{}
	stop    chan struct{} // closed by Stop
	stopped chan struct{} // closed when the sampler returned
	once    sync.Once

	mu   sync.Mutex // guards the fields below, never held across a snapshot
	ring []*vmmap.Snapshot
	next int // where the next snapshot goes once the ring is full
}

// New returns a Handler with its own ring and starts its sampler: a
// snapshot at once, then one every Options.Every until Stop, whether or
// not any page is requested, so the timeline always holds the last
// Keep × Every.
func New(o Options) *Handler {
	h := newHandler(o, vmmap.Self)
	h.stopped = make(chan struct{})
	go h.sampler()
	return h
}

// newHandler returns a Handler that takes its snapshots with take and does
// not sample until its sampler is started.
func newHandler(o Options, take func() (*vmmap.Snapshot, error)) *Handler {
	return &Handler{opt: o.withDefaults(), take: take, sem: make(chan struct{}, 2), stop: make(chan struct{})}
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

// snapshot takes a snapshot of the process, waiting for a slot.
func (h *Handler) snapshot(r *http.Request) (*vmmap.Snapshot, error) {
	select {
	case h.sem <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	defer func() { <-h.sem }()
	return h.take()
}

// Sample takes one snapshot into the ring, replacing the oldest when the
// ring is full. The sampler calls it every Options.Every.
func (h *Handler) Sample() error {
	h.sem <- struct{}{}
	s, err := h.take()
	<-h.sem
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ring) < h.opt.Keep {
		h.ring = append(h.ring, s)
		return nil
	}
	h.ring[h.next] = s
	h.next = (h.next + 1) % h.opt.Keep
	return nil
}

// Ring returns the snapshots in the ring, oldest first.
func (h *Handler) Ring() []*vmmap.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*vmmap.Snapshot, 0, len(h.ring))
	out = append(out, h.ring[h.next:]...)
	return append(out, h.ring[:h.next]...)
}

// sampler fills the ring until Stop. A failed snapshot is skipped (the
// next tick tries again).
func (h *Handler) sampler() {
	defer close(h.stopped)
	t := time.NewTicker(h.opt.Every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		default:
		}
		h.Sample()
		select {
		case <-t.C:
		case <-h.stop:
			return
		}
	}
}

// ServeHTTP serves the page named by the last element of the path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	switch name {
	case "":
		h.index(w)
	case "heaps.json":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(heapFigures(heap.Heaps()))
	case "map.png", "map.svg", "map.html", "snapshot.json":
		h.serveMap(w, r, name)
	case "timeline.jsonl.gz":
		h.serveTimeline(w)
	default:
		http.NotFound(w, r)
	}
}

// mapOutputs are the pages drawn from a fresh snapshot.
var mapOutputs = map[string]struct {
	ctype string
	write func(io.Writer, *vmmap.Snapshot) error
}{
	"map.png":       {"image/png", func(w io.Writer, s *vmmap.Snapshot) error { return render.PNG(w, s, render.Options{}) }},
	"map.svg":       {"image/svg+xml", func(w io.Writer, s *vmmap.Snapshot) error { return render.SVG(w, s, render.Options{}) }},
	"snapshot.json": {"application/json", vmmap.WriteJSON},
	"map.html": {"text/html; charset=utf-8", func(w io.Writer, s *vmmap.Snapshot) error {
		return render.HTML(w, render.Report{Title: "zebra: " + s.Source,
			Sections: []render.Section{{Caption: s.Taken.Format(time.RFC3339), Snapshots: []render.Labelled{{Label: "now", Snapshot: s}}}}})
	}},
}

func (h *Handler) serveMap(w http.ResponseWriter, r *http.Request, name string) {
	s, err := h.snapshot(r)
	if err != nil {
		http.Error(w, "snapshot: "+err.Error(), http.StatusInternalServerError)
		return
	}
	out := mapOutputs[name]
	// Render into a buffer first, so a failure is an error status, not a
	// truncated picture.
	var b bytes.Buffer
	if err := out.write(&b, s); err != nil {
		http.Error(w, name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", out.ctype)
	w.Write(b.Bytes())
}

func (h *Handler) serveTimeline(w http.ResponseWriter) {
	ring := h.Ring()
	if len(ring) == 0 {
		// Before the sampler's first snapshot (or after its first ones
		// failed): take one now.
		if err := h.Sample(); err != nil {
			http.Error(w, "the ring holds no snapshot: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		ring = h.Ring()
	}
	var b bytes.Buffer
	tw, err := timeline.NewWriter(&b, timeline.Header{Source: ring[0].Source, PID: ring[0].PID, Started: ring[0].Taken, Every: h.opt.Every}, true)
	for _, s := range ring {
		if err == nil {
			err = tw.Write(s)
		}
	}
	if err == nil {
		err = tw.Close(timeline.EndDone)
	}
	if err != nil {
		http.Error(w, "timeline: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="zebra-%d-%s.jsonl.gz"`,
		ring[0].PID, ring[len(ring)-1].Taken.UTC().Format("20060102T150405Z")))
	w.Write(b.Bytes())
}

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{"bytes": units.Bytes}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>/debug/zebra/</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body><h1>zebra heaps</h1>
{{if .Heaps}}<table><tr><th>heap</th><th>reserved</th><th>committed</th><th>resident</th><th>in use</th><th>free</th><th>largest free</th><th>blocks</th><th>huge</th><th>segments</th><th>ranges</th><th>metadata reserved</th><th>metadata committed</th></tr>
{{range .Heaps}}<tr><td>{{.Name}}{{if ne .Owner .Name}} ({{.Owner}} in the map){{end}}</td><td>{{bytes .Stats.Reserved}}</td><td>{{bytes .Stats.Committed}}</td><td>{{bytes .Stats.Resident}}</td><td>{{bytes .Stats.InUse}}</td><td>{{bytes .Stats.Free}}</td><td>{{bytes .Stats.Largest}}</td><td>{{.Stats.Blocks}}</td><td>{{.Stats.HugeBlocks}}</td><td>{{.Stats.Segments}}</td><td>{{.Stats.Ranges}}</td><td>{{bytes .Stats.MetaReserved}}</td><td>{{bytes .Stats.MetaCommitted}}</td></tr>
{{end}}</table>{{else}}<p>No live zebra heap in this process.</p>{{end}}
<ul><li><a href="map.html">map.html</a>: the address space, VMMap style</li>
<li><a href="map.png">map.png</a>, <a href="map.svg">map.svg</a>: the fragmentation view</li>
<li><a href="snapshot.json">snapshot.json</a>: the snapshot as JSON</li>
<li><a href="heaps.json">heaps.json</a>: the figures above as JSON</li>
<li><a href="timeline.jsonl.gz">timeline.jsonl.gz</a>: the last {{.Ring}} snapshots (one every {{.Every}}, at most {{.Keep}}); read with <code>zebra report</code></li></ul>
</body></html>
`))

func (h *Handler) index(w http.ResponseWriter) {
	h.mu.Lock()
	n := len(h.ring)
	h.mu.Unlock()
	var b bytes.Buffer
	err := indexTemplate.Execute(&b, struct {
		Heaps      []heapFigure
		Ring, Keep int
		Every      time.Duration
	}{heapFigures(heap.Heaps()), n, h.opt.Keep, h.opt.Every})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}
