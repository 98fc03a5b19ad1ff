// Package heapvar publishes zebra heaps' figures as expvar variables, and
// does nothing else: it draws no pictures, reads no memory maps and starts
// no goroutine. Importing it publishes nothing; each variable appears when
// the program calls Publish or PublishAll, and is read (Heap.Stats called)
// only when someone reads it, such as a GET of /debug/vars.
//
// zebrahttp/register publishes the same figures as the variable "zebra"
// when it is imported, along with zebrahttp's pages, map renderer and
// sampler; a program that wants the figures alone imports this package
// instead:
//
//	heapvar.PublishAll("zebra")          // every live heap, as a JSON list
//	heapvar.Publish("cache", cacheHeap)  // one heap, as a JSON object
//
// Like any importer of expvar, it makes expvar register its handler for
// /debug/vars on http.DefaultServeMux. expvar variables cannot be removed, so a variable lives as long as the
// process: publish long-lived heaps by name, and let PublishAll follow
// heaps that come and go.
package heapvar

import (
	"errors"
	"expvar"
	"fmt"
	"sync"

	"github.com/zebra-heap/zebra/heap"
)

// Figure is one heap in a published variable.
type Figure struct {
	Name  string     `json:"name"`
	Owner string     `json:"owner"` // as maps show the heap: heap.Heap.Owner
	Stats heap.Stats `json:"stats"`
	// Tags are the live blocks per tag of a heap made with
	// heap.Options.Tags (heap.Heap.TagStats).
	Tags []heap.TagStats `json:"tags,omitempty"`
}

// Figures returns the figures of hs, in order. Each costs a Heap.Stats
// call, which measures residency with system calls: read them per report,
// not per allocation.
func Figures(hs []*heap.Heap) []Figure {
	out := make([]Figure, 0, len(hs))
	for _, h := range hs {
		out = append(out, figure(h))
	}
	return out
}

func figure(h *heap.Heap) Figure { return Figure{h.Name(), h.Owner(), h.Stats(), h.TagStats()} }

// ErrNameTaken is returned by Publish and PublishAll for a name that an
// expvar variable already has (expvar itself would panic).
var ErrNameTaken = errors.New("heapvar: expvar name already published")

// ErrBadArgument is returned for an empty name or a nil heap.
var ErrBadArgument = errors.New("heapvar: bad argument")

// mu makes the check for a taken name and the publishing one step for
// this package's callers. Code that calls expvar.Publish itself with the
// same name at the same moment can still make expvar panic.
var mu sync.Mutex

// Publish makes the expvar variable name report h's Figure, as a JSON
// object, whenever it is read. Once h is destroyed its Stats are zeros.
func Publish(name string, h *heap.Heap) error {
	if h == nil {
		return fmt.Errorf("heapvar: publish %q: %w: nil heap", name, ErrBadArgument)
	}
	return publish(name, func() any { return figure(h) })
}

// PublishAll makes the expvar variable name report every live heap of the
// process (heap.Heaps) as a JSON list of Figures, whenever it is read.
func PublishAll(name string) error {
	return publish(name, func() any { return Figures(heap.Heaps()) })
}

func publish(name string, f func() any) error {
	if name == "" {
		return fmt.Errorf("heapvar: publish: %w: empty name", ErrBadArgument)
	}
	mu.Lock()
	defer mu.Unlock()
	if expvar.Get(name) != nil {
		return fmt.Errorf("heapvar: publish %q: %w", name, ErrNameTaken)
	}
	expvar.Publish(name, expvar.Func(f))
	return nil
}
