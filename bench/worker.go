package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/zebra-heap/zebra/heap"
)

// The worker is the Go side of every workload: the runner starts this same
// program as "bench worker WORKLOAD -peer NAME ..." in a fresh process per
// measurement, so that one peer's heap, RSS and mappings never leak into
// the next one's. It prints one "RESULT\t{json}" line per case, as the C
// peers (cpeer/peer.c) do.

// goHeap is what a Go-side peer provides; *heap.Heap is one as it stands.
type goHeap interface {
	Alloc(n int) (unsafe.Pointer, error)
	Free(p unsafe.Pointer) error
	Destroy() error
}

// goPeer makes the heaps of one Go-side peer.
type goPeer struct {
	newHeap func(name string, reserve int) (goHeap, error)
	// shared says one heap may serve several goroutines at once.
	shared bool
	// offHeap says the heap's memory is outside the Go GC.
	offHeap bool
}

// goPeers are the Go-side peers by name: zebra's rows, Go's own allocator,
// the no-op floor and, when built with GOEXPERIMENT=arenas, Go's arenas.
var goPeers = map[string]goPeer{
	"go":      {newHeap: func(string, int) (goHeap, error) { return runtimeHeap{}, nil }, shared: true},
	"go-noop": {newHeap: func(string, int) (goHeap, error) { return noopHeap{}, nil }, shared: true},
}

func init() {
	for _, z := range zebraPeers {
		o := z.Options
		goPeers[z.Name] = goPeer{shared: !o.NoSerialize, offHeap: true, newHeap: func(name string, reserve int) (goHeap, error) {
			o := o
			o.Name, o.Reserve = name, reserve
			return heap.New(o)
		}}
	}
}

// runtimeHeap is Go's own allocator: Free drops nothing (the caller drops
// its reference), and Destroy is what a Go program does to give a heap's
// worth of memory back once it dropped every reference.
type runtimeHeap struct{}

func (runtimeHeap) Alloc(n int) (unsafe.Pointer, error) {
	return unsafe.Pointer(unsafe.SliceData(make([]byte, n))), nil
}
func (runtimeHeap) Free(unsafe.Pointer) error { return nil }
func (runtimeHeap) Destroy() error {
	runtime.GC()
	debug.FreeOSMemory()
	return nil
}

// noopHeap hands out one scratch block and frees nothing: what is left is
// the harness's own cost.
type noopHeap struct{}

var scratch = make([]byte, 4<<20+64)

func (noopHeap) Alloc(int) (unsafe.Pointer, error) { return unsafe.Pointer(&scratch[0]), nil }
func (noopHeap) Free(unsafe.Pointer) error         { return nil }
func (noopHeap) Destroy() error                    { return nil }

// result is one measured case, as the workers print it.
type result struct {
	Case     string             `json:"case"`
	Values   map[string]float64 `json:"values"`
	Checksum uint64             `json:"checksum"`
}

func emit(r result) {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // a map of float64s always marshals
	}
	fmt.Printf("RESULT\t%s\n", b)
}

// worker runs one workload for one Go-side peer.
func worker(args []string) error {
	if len(args) == 0 {
		return errors.New("worker: no workload")
	}
	fs := flag.NewFlagSet("worker "+args[0], flag.ContinueOnError)
	name := fs.String("peer", "", "peer name")
	tracePath := fs.String("trace", "", "churn: trace file")
	threads := fs.Int("threads", 1, "churn: goroutines")
	shared := fs.Bool("shared", false, "churn: one heap for all goroutines")
	heaps := fs.Int("heaps", 2, "fill: heaps")
	per := fs.Int("per", 0, "fill: bytes per heap")
	size := fs.Int("size", 300, "fill: block size")
	reserve := fs.Int("reserve", 0, "fill: reserve of the last heap")
	touch := fs.String("touch", "all", "fill: all or first")
	destroy := fs.Bool("destroy", true, "fill: destroy the first heap")
	prefix := fs.String("prefix", "", "fill: prefix of the dump files")
	huge := fs.Bool("huge", false, "floor: 2 MiB aligned, MADV_HUGEPAGE")
	quickMode := fs.Bool("quick", false, "bubbles: a 64 MiB window instead of 2 GiB")
	ops := fs.Int("ops", 0, "gc: units of work; arena: requests")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the workload here")
	cacheCase := fs.String("case", "", "cache: the case")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	// The workloads measure what Destroy and Free give back: zebra's
	// address-space quarantine, which holds destroyed ranges inaccessible
	// for a while (see heap.SetAddressQuarantine), is off for every zebra
	// row, as their configurations say.
	heap.SetAddressQuarantine(0)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	switch args[0] {
	case "cache":
		return cacheWorker(*name, *cacheCase, *quickMode)
	case "floor":
		return floorGo(*per, *huge)
	case "bubbles":
		for _, z := range zebraPeers {
			if z.Name == *name {
				return bubblesGo(z, *quickMode)
			}
		}
		return fmt.Errorf("worker: bubbles: %q is not a zebra peer", *name)
	case "arena":
		return arenaGo(*name, *ops)
	}
	p, ok := goPeers[*name]
	if !ok {
		return fmt.Errorf("worker: unknown peer %q", *name)
	}
	switch args[0] {
	case "gc":
		return gcReliefGo(p, *per, *ops)
	case "churn":
		return churnGo(p, *tracePath, *threads, *shared)
	case "sizes":
		return sizesGo(p, fs.Args())
	case "fill":
		return fillGo(p, *heaps, *per, *size, *reserve, *touch == "all", *destroy, *prefix)
	}
	return fmt.Errorf("worker: unknown workload %q", args[0])
}

func churnGo(p goPeer, path string, threads int, shared bool) error {
	tr, err := readTrace(path)
	if err != nil {
		return err
	}
	if threads < 1 || threads > 64 {
		return fmt.Errorf("churn: %d threads", threads)
	}
	// Each thread replays the trace's first 1/threads: the same total work
	// as one thread, and ns/op per thread shows perfect scaling as the
	// 1-thread figure.
	run := tr.ops[:len(tr.ops)/threads]
	if shared && !p.shared {
		return errors.New("churn: this peer cannot share a heap")
	}
	hs := make([]goHeap, threads)
	for i := range hs {
		if shared && i > 0 {
			hs[i] = hs[0]
			continue
		}
		if hs[i], err = p.newHeap(fmt.Sprintf("churn-%d", i), 0); err != nil {
			return err
		}
	}
	var ready, fin sync.WaitGroup
	gate := make(chan struct{})
	// Each goroutine times its own replay; the case's time is from the
	// first start to the last end.
	t0s, t1s := make([]time.Time, threads), make([]time.Time, threads)
	sums := make([]uint64, threads)
	errs := make([]error, threads)
	for t := range threads {
		ready.Add(1)
		fin.Add(1)
		go func() {
			defer fin.Done()
			h := hs[t]
			slots := make([]unsafe.Pointer, tr.slots)
			var sum uint64
			ready.Done()
			<-gate
			t0s[t] = time.Now()
			for k, o := range run {
				if q := slots[o.slot]; q != nil {
					sum += uint64(*(*byte)(q))
					if err := h.Free(q); err != nil {
						errs[t] = err
						break
					}
				}
				q, err := h.Alloc(int(o.size))
				if err != nil {
					errs[t] = err
					break
				}
				*(*byte)(q) = byte(uint32(k)*31 + o.size)
				slots[o.slot] = q
			}
			t1s[t] = time.Now()
			for _, q := range slots {
				if q != nil {
					sum += uint64(*(*byte)(q))
					if err := h.Free(q); err != nil && errs[t] == nil {
						errs[t] = err
					}
				}
			}
			sums[t] = sum
		}()
	}
	ready.Wait()
	close(gate)
	fin.Wait()
	var sum uint64
	start, end := t0s[0], t1s[0]
	for t := range threads {
		if errs[t] != nil {
			return errs[t]
		}
		sum += sums[t]
		if t0s[t].Before(start) {
			start = t0s[t]
		}
		if t1s[t].After(end) {
			end = t1s[t]
		}
	}
	el := end.Sub(start)
	emit(result{Case: "churn", Values: map[string]float64{"ns/op": float64(el.Nanoseconds()) / float64(len(run))}, Checksum: sum})
	return nil
}

// parseSizes reads the runner's "size:iterations" arguments.
func parseSizes(args []string) ([][2]int, error) {
	var out [][2]int
	for _, a := range args {
		s, it, ok := strings.Cut(a, ":")
		n, err1 := strconv.Atoi(s)
		k, err2 := strconv.Atoi(it)
		if !ok || err1 != nil || err2 != nil || n <= 0 || k <= 0 {
			return nil, fmt.Errorf("sizes: bad argument %q (want SIZE:ITERATIONS)", a)
		}
		out = append(out, [2]int{n, k})
	}
	return out, nil
}

func sizesGo(p goPeer, args []string) error {
	list, err := parseSizes(args)
	if err != nil {
		return err
	}
	h, err := p.newHeap("sizes", 0)
	if err != nil {
		return err
	}
	for _, c := range list {
		n, iters := c[0], c[1]
		var sum uint64
		t0 := time.Now()
		for k := range iters {
			q, err := h.Alloc(n)
			if err != nil {
				return err
			}
			b := unsafe.Slice((*byte)(q), n)
			b[0] = byte(k)
			b[n-1] = byte(k >> 3)
			sum += uint64(b[0]) + uint64(b[n-1])
			if err := h.Free(q); err != nil {
				return err
			}
		}
		el := time.Since(t0)
		emit(result{Case: fmt.Sprintf("sizes/%d", n), Values: map[string]float64{"ns/op": float64(el.Nanoseconds()) / float64(iters)}, Checksum: sum})
	}
	return h.Destroy()
}

// fillGo is cpeer/peer.c's fill: heaps filled round-robin with blocks of
// size bytes until each holds per bytes, then the first destroyed.
func fillGo(p goPeer, nheaps, per, size, reserve int, all, destroy bool, prefix string) error {
	if nheaps < 1 || size < 1 || per < size || prefix == "" {
		return errors.New("fill: bad parameters")
	}
	hs := make([]goHeap, nheaps)
	for i := range hs {
		r := 0
		if i == nheaps-1 {
			r = reserve
		}
		var err error
		if hs[i], err = p.newHeap(fmt.Sprintf("fill-%d", i), r); err != nil {
			return err
		}
	}
	blocks := per / size
	// Blocks are filled by copying from a pattern (a memmove, as the C
	// side's memset), not by a byte loop that would charge Go peers more.
	pat := make([]byte, 256*size)
	for i := range pat {
		pat[i] = byte(i / size)
	}
	ls := make([][]unsafe.Pointer, nheaps)
	for i := range ls {
		ls[i] = make([]unsafe.Pointer, 0, blocks)
	}
	t0 := time.Now()
	for k := range blocks {
		for i, h := range hs {
			q, err := h.Alloc(size)
			if err != nil {
				return err
			}
			b := unsafe.Slice((*byte)(q), size)
			v := byte(k + i)
			if all {
				copy(b, pat[int(v)*size:])
			} else {
				b[0] = v
			}
			ls[i] = append(ls[i], q)
		}
	}
	allocDur := time.Since(t0)
	var sum uint64
	for _, l := range ls {
		for _, q := range l {
			sum += uint64(*(*byte)(q))
		}
	}
	peak, rssBefore := procKiB("/proc/self/status", "VmHWM"), procKiB("/proc/self/status", "VmRSS")
	huge := procKiB("/proc/self/smaps_rollup", "AnonHugePages")
	for i, l := range ls {
		buf := make([]byte, 0, 8*len(l))
		for _, q := range l {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(uintptr(q)))
		}
		if err := os.WriteFile(fmt.Sprintf("%s.addrs.%d", prefix, i), buf, 0o644); err != nil {
			return err
		}
	}
	if err := copyMaps(prefix + ".before"); err != nil {
		return err
	}
	var destroyDur time.Duration
	if destroy {
		ls[0] = nil
		t0 = time.Now()
		if err := hs[0].Destroy(); err != nil {
			return err
		}
		destroyDur = time.Since(t0)
		if err := copyMaps(prefix + ".after"); err != nil {
			return err
		}
		for _, l := range ls[1:] {
			for _, q := range l {
				sum += uint64(*(*byte)(unsafe.Add(q, size-1)))
			}
		}
	}
	rssAfter := procKiB("/proc/self/status", "VmRSS")
	munmapDur, err := munmapFloor(blocks * size)
	if err != nil {
		return err
	}
	runtime.KeepAlive(ls)
	runtime.KeepAlive(hs)
	emit(result{Case: "fill", Checksum: sum, Values: map[string]float64{
		"alloc ms": ms(allocDur), "destroy ms": ms(destroyDur), "munmap ms": ms(munmapDur),
		"peak RSS MiB": peak / 1024, "RSS before MiB": rssBefore / 1024, "RSS after MiB": rssAfter / 1024,
		"AnonHugePages MiB": huge / 1024,
	}})
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func copyMaps(dst string) error {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
