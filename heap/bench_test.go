package heap

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/zebra-heap/zebra/vmem"
)

// Benchmarks come in pairs: this heap, and the Go runtime doing the same
// work (make([]byte, n) kept alive in a slice), so figures read as ratios.
// The window of live blocks keeps both from recycling one block forever.

var benchSizes = []int{16, 300, 4 << 10, 64 << 10, 1 << 20}

const benchLive = 1024

func BenchmarkAllocFree(b *testing.B) {
	for _, ns := range []bool{false, true} {
		for _, n := range benchSizes {
			name := fmt.Sprint(n)
			if ns {
				name += "/noserialize"
			}
			b.Run(name, func(b *testing.B) { benchAllocFree(b, n, Options{Name: "bench", NoSerialize: ns}) })
		}
	}
}

// BenchmarkAllocFreeDebug is the cost of each debug mode on the pair of
// BenchmarkAllocFree (one goroutine, 16 B to 16 KiB); "off" is the plain
// path, which the modes must not slow.
func BenchmarkAllocFreeDebug(b *testing.B) {
	modes := []struct {
		name string
		d    Debug
	}{{"off", 0}, {"tail", DebugTail}, {"free", DebugFree}, {"quarantine", DebugQuarantine}, {"all", DebugAll}}
	for _, m := range modes {
		for _, n := range []int{16, 1 << 10, 16 << 10} {
			b.Run(fmt.Sprintf("%s/%d", m.name, n), func(b *testing.B) {
				benchAllocFree(b, n, Options{Name: "bench-debug", NoSerialize: true, Debug: m.d})
			})
		}
	}
}

func benchAllocFree(b *testing.B, n int, o Options) {
	h, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Destroy()
	var live [benchLive]unsafe.Pointer
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % benchLive
		if live[k] != nil {
			if err := h.Free(live[k]); err != nil {
				b.Fatal(err)
			}
		}
		p, err := h.Alloc(n)
		if err != nil {
			b.Fatal(err)
		}
		*(*byte)(p) = 1
		live[k] = p
	}
}

func BenchmarkGoAllocFree(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var live [benchLive][]byte
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				s := make([]byte, n)
				s[0] = 1
				live[i%benchLive] = s
			}
			runtime.KeepAlive(live)
		})
	}
}

// seedTotal is what each heap holds in the seed workload: 200 MiB of
// 300-byte blocks, allocated alternately from two heaps (the experiment
// of github.com/pkjq/PoC.HeapReserve).
const seedTotal = 200 << 20

// BenchmarkSeed runs PoC.HeapReserve's experiment once per iteration: two NT
// heaps in an emulated 32-bit Windows address space, 300-byte blocks
// alternately until each holds 200 MiB (about 700,000 blocks each), then
// both destroyed.
func BenchmarkSeed(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		w, err := vmem.NewWindow(vmem.Win32())
		if err != nil {
			b.Fatal(err)
		}
		x, err1 := New(Options{Name: "A", Space: w, Policy: NT})
		y, err2 := New(Options{Name: "B", Space: w, Policy: NT, Reserve: 150 << 20})
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		for i := 0; i < seedTotal/300; i++ {
			if _, err := x.Alloc(300); err != nil {
				b.Fatal(err)
			}
			if _, err := y.Alloc(300); err != nil {
				b.Fatal(err)
			}
		}
		x.Destroy()
		y.Destroy()
		w.Close()
	}
	b.ReportMetric(float64(2*seedTotal/300), "blocks/op")
}

func BenchmarkGoSeed(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		x := make([][]byte, 0, seedTotal/300)
		y := make([][]byte, 0, seedTotal/300)
		for i := 0; i < seedTotal/300; i++ {
			x = append(x, make([]byte, 300))
			y = append(y, make([]byte, 300))
		}
		runtime.KeepAlive(x)
		runtime.KeepAlive(y)
	}
	b.ReportMetric(float64(2*seedTotal/300), "blocks/op")
}

// destroySize is the heap released in one piece by BenchmarkDestroy.
const destroySize = 16 << 20

// BenchmarkDestroy times Destroy of a heap holding 16 MiB in 300-byte
// blocks; the Go baseline drops the same blocks and collects them.
func BenchmarkDestroy(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		h, err := New(Options{Name: "destroy"})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < destroySize/300; i++ {
			p, err := h.Alloc(300)
			if err != nil {
				b.Fatal(err)
			}
			*(*byte)(p) = 1
		}
		b.StartTimer()
		if err := h.Destroy(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGoDestroy(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		blocks := make([][]byte, 0, destroySize/300)
		for i := 0; i < destroySize/300; i++ {
			blocks = append(blocks, make([]byte, 300))
		}
		runtime.KeepAlive(blocks)
		blocks = nil
		b.StartTimer()
		runtime.GC()
	}
}

// The churn workload of the benchmark suite (bench/), in small: churnLive
// live blocks, each op frees a random slot and allocates a random size of
// 8..1024 bytes in it, writing its first byte. The trace is made once.
const churnLive = 100_000

type churnOp struct {
	slot uint32
	size uint32
}

var churnTrace = func() []churnOp {
	ops := make([]churnOp, 1<<20)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range ops {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		ops[i] = churnOp{slot: uint32(x % churnLive), size: uint32(8 + (x>>32)%1017)}
	}
	return ops
}()

func benchChurn(b *testing.B, o Options) {
	h, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Destroy()
	live := make([]unsafe.Pointer, churnLive)
	for i := range live {
		if live[i], err = h.Alloc(8 + i%1017); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		op := churnTrace[i&(len(churnTrace)-1)]
		if err := h.Free(live[op.slot]); err != nil {
			b.Fatal(err)
		}
		p, err := h.Alloc(int(op.size))
		if err != nil {
			b.Fatal(err)
		}
		*(*byte)(p) = 1
		live[op.slot] = p
	}
}

func BenchmarkChurn(b *testing.B) { benchChurn(b, Options{Name: "churn"}) }

func BenchmarkGoChurn(b *testing.B) {
	live := make([][]byte, churnLive)
	for i := range live {
		live[i] = make([]byte, 8+i%1017)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		op := churnTrace[i&(len(churnTrace)-1)]
		s := make([]byte, op.size)
		s[0] = 1
		live[op.slot] = s
	}
	runtime.KeepAlive(live)
}

func BenchmarkChurnNoSerialize(b *testing.B) {
	benchChurn(b, Options{Name: "churn", NoSerialize: true})
}
