package main

import (
	"fmt"
	"math/rand/v2"
	"runtime/metrics"
	"time"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
)

// The arena workload (issue 19's per-request case): requests of
// arenaObjects objects of 16..256 B, the first byte of each written and
// read back, then the whole request freed at once. Rows: zebra's
// heap.Arena with Reset on each zebra configuration (and, in the same
// process, the same requests with Free of each object: "free-each"); Go's
// make with the GC reclaiming; go-bump, the bump allocator a Go programmer
// writes by hand, which the arena is held to (within 2x); and, when the
// runner can build it, go-arena: Go's experimental arenas, one per request.
// Every row calls its allocator through a func value, so the harness's
// call is in every figure alike.

// arenaObjects is the number of objects per request.
const arenaObjects = 1000

// arenaSizes are the sizes of one request's objects: the same for every
// request and every peer, so the checksums agree.
func arenaSizes() []int {
	r := rand.New(rand.NewPCG(19, arenaObjects))
	s := make([]int, arenaObjects)
	for i := range s {
		s[i] = 16 + r.IntN(241)
	}
	return s
}

// bumpAlloc is the hand-written bump allocator: one Go byte slice,
// 16-byte aligned objects, a fresh slice when it is full; a request's end
// sets the offset back to 0.
type bumpAlloc struct {
	buf []byte
	off int
}

func (b *bumpAlloc) alloc(n int) (unsafe.Pointer, error) {
	n = (n + 15) &^ 15
	if b.off+n > len(b.buf) {
		b.buf, b.off = make([]byte, max(256<<10, n)), 0
	}
	p := unsafe.Pointer(&b.buf[b.off])
	b.off += n
	return p, nil
}

// serveRequests runs the requests: alloc each object, write its first
// byte, read every first byte back, then end the request. It returns the
// time per object and the checksum.
func serveRequests(requests int, alloc func(int) (unsafe.Pointer, error), end func([]unsafe.Pointer) error) (float64, uint64, error) {
	sizes := arenaSizes()
	objs := make([]unsafe.Pointer, len(sizes))
	var sum uint64
	t0 := time.Now()
	for range requests {
		for k, n := range sizes {
			p, err := alloc(n)
			if err != nil {
				return 0, 0, err
			}
			*(*byte)(p) = byte(k)
			objs[k] = p
		}
		for _, p := range objs {
			sum += uint64(*(*byte)(p))
		}
		if err := end(objs); err != nil {
			return 0, 0, err
		}
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(requests*len(sizes)), sum, nil
}

// requestPeers serve the arena workload for the rows that are not zebra's,
// by name; arena_peer.go adds go-arena when built with GOEXPERIMENT=arenas.
var requestPeers = map[string]func(requests int) (float64, uint64, error){
	"go-bump": func(requests int) (float64, uint64, error) {
		var b bumpAlloc
		return serveRequests(requests, b.alloc, func([]unsafe.Pointer) error { b.off = 0; return nil })
	},
	"go": func(requests int) (float64, uint64, error) {
		return serveRequests(requests, runtimeHeap{}.Alloc, func(objs []unsafe.Pointer) error { clear(objs); return nil })
	},
}

// arenaGo runs the arena workload for the peer called name.
func arenaGo(name string, requests int) error {
	if requests < 1 {
		return fmt.Errorf("arena: %d requests", requests)
	}
	gcCPU := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(gcCPU)
	gc0 := gcCPU[0].Value.Float64()
	values := map[string]float64{}
	var ns float64
	var sum uint64
	var err error
	if serve, ok := requestPeers[name]; ok {
		ns, sum, err = serve(requests)
	} else {
		z, ok := zebraPeerNamed(name)
		if !ok {
			return fmt.Errorf("arena: %q is not a zebra peer, go, go-bump or go-arena", name)
		}
		if ns, sum, err = zebraRequests(z, requests, true); err != nil {
			return err
		}
		values["free-each ns/object"], _, err = zebraRequests(z, requests, false)
	}
	if err != nil {
		return err
	}
	metrics.Read(gcCPU)
	values["ns/object"] = ns
	values["GC CPU s"] = gcCPU[0].Value.Float64() - gc0
	values["peak RSS MiB"] = procKiB("/proc/self/status", "VmHWM") / 1024
	emit(result{Case: "arena", Checksum: sum, Values: values})
	return nil
}

func zebraPeerNamed(name string) (zebraPeer, bool) {
	for _, z := range zebraPeers {
		if z.Name == name {
			return z, true
		}
	}
	return zebraPeer{}, false
}

// zebraRequests serves the requests from a heap of z's configuration:
// from a heap.Arena, Reset after each, or with Free of every object.
func zebraRequests(z zebraPeer, requests int, arena bool) (float64, uint64, error) {
	o := z.Options
	o.Name = "requests"
	h, err := heap.New(o)
	if err != nil {
		return 0, 0, err
	}
	defer h.Destroy()
	if !arena {
		return serveRequests(requests, h.Alloc, func(objs []unsafe.Pointer) error {
			for _, p := range objs {
				if err := h.Free(p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	a, err := heap.NewArena(h, heap.ArenaOptions{})
	if err != nil {
		return 0, 0, err
	}
	return serveRequests(requests, a.Alloc, func([]unsafe.Pointer) error { return a.Reset() })
}
