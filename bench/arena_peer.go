//go:build goexperiment.arenas

package main

import (
	"arena"
	"unsafe"
)

// Go's experimental arenas, built only with GOEXPERIMENT=arenas (the runner
// builds a second worker for them). An arena frees only all at once, so
// this peer runs only the workloads without individual frees.
func init() {
	goPeers["go-arena"] = goPeer{newHeap: func(string, int) (goHeap, error) { return &arenaHeap{a: arena.NewArena()}, nil }}
}

// In the arena case a request is one arena: NewArena, MakeSlice per
// object, Free at the request's end.
func init() {
	requestPeers["go-arena"] = func(requests int) (float64, uint64, error) {
		a := arena.NewArena()
		return serveRequests(requests, func(n int) (unsafe.Pointer, error) {
			return unsafe.Pointer(unsafe.SliceData(arena.MakeSlice[byte](a, n, n))), nil
		}, func(objs []unsafe.Pointer) error {
			clear(objs)
			a.Free()
			a = arena.NewArena()
			return nil
		})
	}
}

type arenaHeap struct{ a *arena.Arena }

func (h *arenaHeap) Alloc(n int) (unsafe.Pointer, error) {
	return unsafe.Pointer(unsafe.SliceData(arena.MakeSlice[byte](h.a, n, n))), nil
}

// Free does nothing: an arena has no individual frees.
func (h *arenaHeap) Free(unsafe.Pointer) error { return nil }

func (h *arenaHeap) Destroy() error {
	h.a.Free()
	return nil
}
