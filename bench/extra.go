package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"syscall"
	"time"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/vmem"
)

// The Go-only workloads: the floors, the bubbles in an emulated 32-bit
// space and the GC relief.

// floorGo writes every byte of one fresh mapping of n bytes, with 4 KiB
// pages or, with huge set, 2 MiB aligned and MADV_HUGEPAGE, then unmaps
// it: the least any allocator's fill and destroy can cost. A huge-page run
// reports the share of huge pages it got; the runner rejects it below 90%.
func floorGo(n int, huge bool) error {
	if n < 1 {
		return errors.New("floor: bad size")
	}
	const hp = 2 << 20
	m, err := syscall.Mmap(-1, 0, n+hp, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	off := 0
	if huge {
		base := uintptr(unsafe.Pointer(&m[0]))
		off = int((base+hp-1)&^(hp-1) - base)
		if err := syscall.Madvise(m[off:off+n], syscall.MADV_HUGEPAGE); err != nil {
			return err
		}
	}
	b := m[off : off+n]
	pat := make([]byte, 64<<10)
	for i := range pat {
		pat[i] = byte(i>>12 + 1)
	}
	t0 := time.Now()
	for i := 0; i < n; i += len(pat) {
		copy(b[i:], pat)
	}
	write := time.Since(t0)
	var sum uint64
	for i := 0; i < n; i += 4096 {
		sum += uint64(b[i])
	}
	anon := procKiB("/proc/self/smaps_rollup", "AnonHugePages")
	rss := procKiB("/proc/self/status", "VmRSS")
	t0 = time.Now()
	if err := syscall.Munmap(m); err != nil {
		return err
	}
	unmap := time.Since(t0)
	emit(result{Case: "floor", Checksum: sum, Values: map[string]float64{
		"alloc ms": ms(write), "destroy ms": ms(unmap), "peak RSS MiB": procKiB("/proc/self/status", "VmHWM") / 1024,
		"RSS before MiB": rss / 1024, "AnonHugePages MiB": anon / 1024, "huge page %": 100 * anon * 1024 / float64(n),
	}})
	return nil
}

// bubblesGo appends 100 B blocks to a heap in an emulated window while an
// array of their addresses (4-byte entries, in the same heap) grows by
// doubling with Realloc, until an allocation fails: how many fit.
func bubblesGo(p zebraPeer, quick bool) error {
	cfg := vmem.Win32()
	if quick {
		cfg = vmem.WindowConfig{Name: "quick-64MiB", Low: 0x10000, High: 0x10000 + 64<<20, Granularity: 64 << 10, Placement: vmem.BottomUp}
	}
	w, err := vmem.NewWindow(cfg)
	if err != nil {
		return err
	}
	defer w.Close()
	o := p.Options
	o.Space, o.Name = w, "bubbles"
	h, err := heap.New(o)
	if err != nil {
		return err
	}
	capacity := 16
	arr, err := h.Alloc(4 * capacity)
	if err != nil {
		return err
	}
	var n int
	var sum uint64
	t0 := time.Now()
	for {
		q, err := h.Alloc(100)
		if err != nil {
			break
		}
		*(*byte)(q) = byte(n)
		if n == capacity {
			grown, err := h.Realloc(arr, 8*capacity)
			if err != nil {
				break
			}
			arr, capacity = grown, 2*capacity
		}
		e := w.Emulated(uintptr(q))
		if e > math.MaxUint32 {
			return fmt.Errorf("bubbles: emulated address %#x does not fit 4 bytes", e)
		}
		*(*uint32)(unsafe.Add(arr, 4*n)) = uint32(e)
		sum += uint64(*(*byte)(q))
		n++
	}
	el := time.Since(t0)
	st, largest := h.Stats(), w.Largest()
	if err := h.Destroy(); err != nil {
		return err
	}
	emit(result{Case: "bubbles", Checksum: sum, Values: map[string]float64{
		"blocks": float64(n), "ms": ms(el), "array entries": float64(capacity),
		"largest free MiB": float64(st.Largest) / (1 << 20), "window largest free MiB": float64(largest) / (1 << 20),
	}})
	return nil
}

// gcReliefGo keeps records of 64..512 B (total bytes) behind one index and
// then does ops units of work: replace a random record and allocate
// 512..3583 B of ordinary Go garbage. It reports the GC's CPU seconds and
// p99 pause over the work (runtime/metrics), the work's throughput and the
// peak RSS. The index is a slice of addresses for every peer: of
// unsafe.Pointer for Go's heap, whose records the GC must see, and of
// uintptr for heaps outside the GC, whose records it need not scan: that is
// the relief.
func gcReliefGo(p goPeer, total, ops int) error {
	h, err := p.newHeap("records", 0)
	if err != nil {
		return err
	}
	if p.offHeap {
		return gcRelief(h, total, ops, func(q unsafe.Pointer) uintptr { return uintptr(q) },
			func(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) })
	}
	return gcRelief(h, total, ops, func(q unsafe.Pointer) unsafe.Pointer { return q },
		func(q unsafe.Pointer) unsafe.Pointer { return q })
}

func gcRelief[T any](h goHeap, total, ops int, to func(unsafe.Pointer) T, from func(T) unsafe.Pointer) error {
	r := rand.New(rand.NewPCG(1, 2))
	var index []T
	for have := 0; have < total; {
		n := 64 + r.IntN(449)
		q, err := h.Alloc(n)
		if err != nil {
			return err
		}
		*(*byte)(q) = byte(n)
		index = append(index, to(q))
		have += n
	}
	samples := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/sched/pauses/total/gc:seconds"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(samples)
	gc0, cyc0 := samples[0].Value.Float64(), samples[2].Value.Uint64()
	counts0 := slices.Clone(samples[1].Value.Float64Histogram().Counts)
	var sum uint64
	var keep [64][]byte // the garbage's short-lived survivors
	t0 := time.Now()
	for k := range ops {
		i := r.IntN(len(index))
		old := from(index[i])
		sum += uint64(*(*byte)(old))
		if err := h.Free(old); err != nil {
			return err
		}
		n := 64 + r.IntN(449)
		q, err := h.Alloc(n)
		if err != nil {
			return err
		}
		*(*byte)(q) = byte(n)
		index[i] = to(q)
		g := make([]byte, 512+k%3072)
		g[0] = byte(k)
		keep[k%len(keep)] = g
	}
	el := time.Since(t0)
	metrics.Read(samples)
	pause := samples[1].Value.Float64Histogram()
	counts := make([]uint64, len(pause.Counts))
	for i := range counts {
		counts[i] = pause.Counts[i] - counts0[i]
	}
	for _, g := range keep {
		sum += uint64(len(g))
	}
	runtime.KeepAlive(index)
	emit(result{Case: "gc", Checksum: sum, Values: map[string]float64{
		"GC CPU s": samples[0].Value.Float64() - gc0, "GC cycles": float64(samples[2].Value.Uint64() - cyc0),
		"p99 pause ms": 1e3 * quantile(pause.Buckets, counts, 0.99), "ns/op": float64(el.Nanoseconds()) / float64(ops),
		"peak RSS MiB": procKiB("/proc/self/status", "VmHWM") / 1024, "records": float64(len(index)),
	}})
	return nil
}

// quantile is the upper bound of the bucket holding the q-th quantile of a
// runtime/metrics histogram (Buckets has one more entry than counts).
func quantile(buckets []float64, counts []uint64, q float64) float64 {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= want {
			if math.IsInf(buckets[i+1], 1) {
				return buckets[i]
			}
			return buckets[i+1]
		}
	}
	return buckets[len(buckets)-1]
}
