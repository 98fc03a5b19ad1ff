package zebrahttp

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/internal/visible"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/render"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// The drawn pages: the map pages, from the ring's newest snapshot, and the
// timeline, from the whole ring. Each is drawn at most once per generation
// (per sample) and kept until the next. At most two drawings, snapshots or
// sendings of a drawn page run at a time (a map page of 2,000 mappings is
// megabytes: 200 clients copying them at once would starve the index),
// and a request that cannot start within Options.Wait gets 503 with
// Retry-After. A sending has sendTimeout, so that a client that stops
// reading does not hold its slot.

// sendTimeout bounds the sending of one drawn page.
const sendTimeout = 10 * time.Second

// page is a drawn page of the current generation. lock lets one request
// draw it while the others for the same page wait for the result; gen and
// body are guarded by Handler.mu.
type page struct {
	lock   chan struct{}
	gen    uint64
	body   []byte
	attach string // Content-Disposition filename, or ""
}

// pageOutput draws a page from the ring (oldest first, never empty) and
// returns the file name it is downloaded as, or "" to show it.
type pageOutput struct {
	ctype string
	write func(w io.Writer, ring []*vmmap.Snapshot, o Options) (attach string, err error)
}

// newest adapts a writer of one snapshot to the ring's newest.
func newest(write func(io.Writer, *vmmap.Snapshot) error) func(io.Writer, []*vmmap.Snapshot, Options) (string, error) {
	return func(w io.Writer, ring []*vmmap.Snapshot, _ Options) (string, error) {
		return "", write(w, ring[len(ring)-1])
	}
}

var pageOutputs = map[string]pageOutput{
	"map.png": {"image/png", newest(func(w io.Writer, s *vmmap.Snapshot) error { return render.PNG(w, s, render.Options{}) })},
	"map.svg": {"image/svg+xml", newest(func(w io.Writer, s *vmmap.Snapshot) error { return render.SVG(w, s, render.Options{}) })},
	"map.html": {"text/html; charset=utf-8", newest(func(w io.Writer, s *vmmap.Snapshot) error {
		return render.HTML(w, render.Report{Title: "zebra: " + s.Source,
			Sections: []render.Section{{Caption: s.Taken.Format(time.RFC3339), Snapshots: []render.Labelled{{Label: "newest", Snapshot: s}}}}})
	})},
	"snapshot.json":     {"application/json", newest(vmmap.WriteJSON)},
	"timeline.jsonl.gz": {"application/gzip", writeTimeline},
}

// writeTimeline writes the ring as a gzipped timeline.
func writeTimeline(w io.Writer, ring []*vmmap.Snapshot, o Options) (string, error) {
	first, last := ring[0], ring[len(ring)-1]
	tw, err := timeline.NewWriter(w, timeline.Header{Source: first.Source, PID: first.PID, Started: first.Taken, Every: o.Every}, true)
	for _, s := range ring {
		if err == nil {
			err = tw.Write(s)
		}
	}
	if err == nil {
		err = tw.Close(timeline.EndDone)
	}
	return fmt.Sprintf("zebra-%d-%s.jsonl.gz", first.PID, last.Taken.UTC().Format("20060102T150405Z")), err
}

// acquire takes a slot of sem, giving up when the deadline passes or the
// client goes away.
func acquire(sem chan struct{}, r *http.Request, deadline <-chan time.Time) bool {
	select {
	case sem <- struct{}{}:
		return true
	case <-deadline:
	case <-r.Context().Done():
	}
	return false
}

// servePage answers with the page name of the current generation, drawing
// it if no request has yet.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request, name string) {
	deadline := time.NewTimer(h.opt.Wait)
	defer deadline.Stop()
	body, attach, status := h.drawn(r, name, deadline.C)
	if status != http.StatusOK {
		if status == http.StatusServiceUnavailable && body == nil {
			h.busy(w)
			return
		}
		http.Error(w, string(body), status)
		return
	}
	if !acquire(h.work, r, deadline.C) {
		h.busy(w)
		return
	}
	defer func() { <-h.work }()
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(sendTimeout))
	w.Header().Set("Content-Type", h.outputs[name].ctype)
	if attach != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", attach))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	paced(w, body, sendRate, time.Now, time.Sleep)
}

// sendRate is the pace, in bytes per second, at which a drawn page is
// sent. A debugging handler lives in the program it observes: copying
// pages of megabytes (map.html of 2,000 mappings is 2.6 MB) to 200
// loopback clients as fast as they read took a whole core, and the index
// waited behind it (p99 160 ms; 42-49 ms paced, TestLoad). Each of the at
// most two sendings gets this much: 64 MiB/s for the handler, a page of
// 2.6 MB in 80 ms.
const sendRate = 32 << 20

// paced writes body to w in chunks, no faster than rate bytes a second:
// after each chunk it sleeps until the time the bytes sent so far are due.
// now and sleep are the clock (time.Now and time.Sleep but in tests).
func paced(w io.Writer, body []byte, rate int, now func() time.Time, sleep func(time.Duration)) error {
	const chunk = 64 << 10
	t0 := now()
	for sent := 0; sent < len(body); {
		n := min(chunk, len(body)-sent)
		if _, err := w.Write(body[sent : sent+n]); err != nil {
			return err
		}
		sent += n
		due := time.Duration(sent) * time.Second / time.Duration(rate)
		if ahead := due - now().Sub(t0); ahead > 0 && sent < len(body) {
			sleep(ahead)
		}
	}
	return nil
}

// drawn returns the page of the current generation, drawing it if no
// request has yet: its body and download name, or an error message and
// status (503 with a nil body: the deadline passed).
func (h *Handler) drawn(r *http.Request, name string, deadline <-chan time.Time) (body []byte, attach string, status int) {
	p, out := h.pages[name], h.outputs[name]
	if !acquire(p.lock, r, deadline) {
		return nil, "", http.StatusServiceUnavailable
	}
	defer func() { <-p.lock }()
	if len(h.Ring()) == 0 {
		// Before the sampler's first snapshot (or after its first ones
		// failed): take one now.
		if err := h.Sample(); err != nil {
			return []byte("the ring holds no snapshot: " + err.Error()), "", http.StatusServiceUnavailable
		}
	}
	h.mu.Lock()
	gen := h.gen
	body, attach = p.body, p.attach
	fresh := p.gen == gen && body != nil
	h.mu.Unlock()
	if fresh {
		return body, attach, http.StatusOK
	}
	ring := h.Ring()
	if !acquire(h.work, r, deadline) {
		return nil, "", http.StatusServiceUnavailable
	}
	var b bytes.Buffer
	attach, err := out.write(&b, ring, h.opt)
	<-h.work
	if err != nil {
		// Drawn into a buffer first, so a failure is an error status,
		// not a truncated picture.
		return []byte(name + ": " + err.Error()), "", http.StatusInternalServerError
	}
	h.mu.Lock()
	if h.gen == gen { // else a sample came meanwhile: serve it, do not keep it
		p.gen, p.body, p.attach = gen, b.Bytes(), attach
	}
	h.mu.Unlock()
	return b.Bytes(), attach, http.StatusOK
}

// serveLeaks answers with every live heap's Leaks as text. It walks each
// heap with its locks held, so it takes a slot of the work that costs CPU
// like a drawing, and waits no longer than a page would.
func (h *Handler) serveLeaks(w http.ResponseWriter, r *http.Request) {
	deadline := time.NewTimer(h.opt.Wait)
	defer deadline.Stop()
	if !acquire(h.work, r, deadline.C) {
		h.busy(w)
		return
	}
	defer func() { <-h.work }()
	var b bytes.Buffer
	writeLeaks(&b, heap.Heaps())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(b.Bytes())
}

// writeLeaks writes the Leaks of hs, a heap a paragraph; the names a
// program chose are escaped for the terminal the text may reach.
func writeLeaks(w io.Writer, hs []*heap.Heap) {
	if len(hs) == 0 {
		fmt.Fprintln(w, "no live zebra heap in this process")
	}
	for _, hp := range hs {
		leaks, err := hp.Leaks()
		fmt.Fprintf(w, "heap %s\n", visible.String(hp.Name()))
		if err != nil {
			fmt.Fprintf(w, "  %s\n", visible.String(err.Error()))
			continue
		}
		if len(leaks) == 0 {
			fmt.Fprintln(w, "  nothing allocated")
		}
		for _, l := range leaks {
			fmt.Fprintf(w, "  %s\n", visible.String(l.String()))
		}
	}
}

// busy answers 503 with Retry-After: the pages are being drawn for other
// clients and this one waited Options.Wait.
func (h *Handler) busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(h.opt.Wait.Seconds())))))
	http.Error(w, "busy drawing pages for other clients; retry", http.StatusServiceUnavailable)
}
