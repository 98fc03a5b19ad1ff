package heap

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"
)

// BenchmarkArenaRequest is the per-request case of issue 19: 1000 objects
// of 16-256 B per request, the first byte of each written, then everything
// freed at once. ns/op is per object. The peers run in the same binary:
// a bump allocator written here (the floor the arena is held to: within
// 2x), Go's make with the GC reclaiming, and a heap freeing each object.
func BenchmarkArenaRequest(b *testing.B) {
	sizes := requestSizes()
	b.Run("arena", func(b *testing.B) {
		h, err := New(Options{Name: "bench-arena", NoSerialize: true})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Destroy()
		a, err := NewArena(h, ArenaOptions{})
		if err != nil {
			b.Fatal(err)
		}
		runRequests(b, sizes, func(n int) unsafe.Pointer {
			p, err := a.Alloc(n)
			if err != nil {
				b.Fatal(err)
			}
			return p
		}, func([]unsafe.Pointer) {
			if err := a.Reset(); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("bump", func(b *testing.B) {
		var bp benchBump
		runRequests(b, sizes, bp.alloc, func([]unsafe.Pointer) { bp.off = 0 })
	})
	b.Run("go-make", func(b *testing.B) {
		runRequests(b, sizes, func(n int) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(make([]byte, n))) },
			func(objs []unsafe.Pointer) { clear(objs) })
	})
	b.Run("free-each", func(b *testing.B) {
		h, err := New(Options{Name: "bench-free-each", NoSerialize: true})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Destroy()
		runRequests(b, sizes, func(n int) unsafe.Pointer {
			p, err := h.Alloc(n)
			if err != nil {
				b.Fatal(err)
			}
			return p
		}, func(objs []unsafe.Pointer) {
			for _, p := range objs {
				if err := h.Free(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

const requestObjects = 1000

// requestSizes are the sizes of one request's objects, the same for every
// peer and every request.
func requestSizes() []int {
	r := rand.New(rand.NewPCG(19, 1000))
	s := make([]int, requestObjects)
	for i := range s {
		s[i] = 16 + r.IntN(241)
	}
	return s
}

// runRequests serves b.N objects in requests of requestObjects, ending
// each request with end, and reports ns per object.
func runRequests(b *testing.B, sizes []int, alloc func(int) unsafe.Pointer, end func([]unsafe.Pointer)) {
	objs := make([]unsafe.Pointer, len(sizes))
	var sum byte
	b.ResetTimer()
	for i := 0; i < b.N; i += len(sizes) {
		for k, n := range sizes {
			p := alloc(n)
			*(*byte)(p) = byte(k)
			objs[k] = p
		}
		for _, p := range objs {
			sum += *(*byte)(p)
		}
		end(objs)
	}
	runtime.KeepAlive(sum)
}

// benchBump is the hand-written bump allocator Go programmers write: one
// Go byte slice, 16-byte aligned objects, a new slice when it is full.
type benchBump struct {
	buf []byte
	off int
}

func (a *benchBump) alloc(n int) unsafe.Pointer {
	n = (n + 15) &^ 15
	if a.off+n > len(a.buf) {
		a.buf, a.off = make([]byte, max(256<<10, n)), 0
	}
	p := unsafe.Pointer(&a.buf[a.off])
	a.off += n
	return p
}
