package zebrahttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"expvar"
	"go/build"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/vmmap"
)

// TestImportDoesNothing: importing zebrahttp registers no page, publishes
// no expvar variable and pulls in neither expvar (which registers
// /debug/vars) nor net/http/pprof; zebrahttp/register does that.
func TestImportDoesNothing(t *testing.T) {
	if _, pattern := http.DefaultServeMux.Handler(httptest.NewRequest("GET", "/debug/zebra/", nil)); pattern != "" {
		t.Errorf("/debug/zebra/ is registered on DefaultServeMux (%q)", pattern)
	}
	if expvar.Get("zebra") != nil {
		t.Error(`the expvar variable "zebra" is published`)
	}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range []string{"expvar", "net/http/pprof"} {
		if slices.Contains(pkg.Imports, imp) {
			t.Errorf("zebrahttp imports %s", imp)
		}
	}
	buf := make([]byte, 1<<20)
	if st := string(buf[:runtime.Stack(buf, true)]); strings.Contains(st, "zebrahttp.(*Handler).sampler") {
		t.Errorf("a sampler runs though no test made a Handler yet:\n%s", st)
	}
}

// fakeSnapshot is a snapshot of n mappings with freshly allocated strings,
// as the /proc parser makes them.
func fakeSnapshot(t testing.TB, n int) *vmmap.Snapshot {
	t.Helper()
	s := &vmmap.Snapshot{Source: "linux pid 1 (fake)", PID: 1, Taken: time.Now(), Granularity: 4096, VMAs: n}
	at := uint64(0x10000000)
	for i := range n {
		s.Regions = append(s.Regions, vmmap.Region{Start: at, End: at + 0x3000, Type: vmmap.MappedFile,
			State: vmmap.StateCommitted, Perms: "r--p", Path: "/usr/lib/x86_64-linux-gnu/libfake" + strings.Repeat("x", i%7) + ".so",
			RSS: 4096, Committed: 4096, Flags: []string{"rd", "mr", "mw", "me", "sd"}})
		at += 0x4000
	}
	s.Span = vmmap.AddrRange{Start: 0x10000000, End: at}
	var b bytes.Buffer
	if err := vmmap.WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	c, err := vmmap.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	c.Taken = time.Now()
	return c
}

// slowOutputs are pages that take d to draw and count the drawings, the
// most at once and each page's.
type slowOutputs struct {
	d                time.Duration
	now, most, total atomic.Int32
	mu               sync.Mutex
	perPage          map[string]int
}

func (so *slowOutputs) outputs() map[string]pageOutput {
	so.perPage = map[string]int{}
	out := map[string]pageOutput{}
	for name := range pageOutputs {
		out[name] = pageOutput{"text/plain", func(w io.Writer, ring []*vmmap.Snapshot, o Options) (string, error) {
			n := so.now.Add(1)
			defer so.now.Add(-1)
			for m := so.most.Load(); n > m && !so.most.CompareAndSwap(m, n); m = so.most.Load() {
			}
			so.total.Add(1)
			so.mu.Lock()
			so.perPage[name]++
			so.mu.Unlock()
			time.Sleep(so.d)
			_, err := io.WriteString(w, name)
			return "", err
		}}
	}
	return out
}

// TestDrawingBounded: many clients asking for every page at once get at
// most two drawings running, each page drawn once per sample, and 503 with
// Retry-After when they cannot start within Wait.
func TestDrawingBounded(t *testing.T) {
	s := fakeSnapshot(t, 100)
	tests := []struct {
		name     string
		wait     time.Duration
		want503  bool
		wantDraw int32 // drawings per generation: each page once
	}{
		{"all wait", 5 * time.Second, false, 5},
		{"some give up", 100 * time.Millisecond, true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(Options{Path: "/", Wait: tt.wait}, func() (*vmmap.Snapshot, error) { return s, nil })
			so := &slowOutputs{d: 150 * time.Millisecond}
			h.outputs = so.outputs()
			if err := h.Sample(); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			names := slices.Sorted(func(yield func(string) bool) {
				for n := range pageOutputs {
					if !yield(n) {
						return
					}
				}
			})
			var wg sync.WaitGroup
			var got503, gotOK atomic.Int32
			for i := range 40 {
				wg.Go(func() {
					resp, err := http.Get(srv.URL + "/" + names[i%len(names)])
					if err != nil {
						t.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					switch resp.StatusCode {
					case http.StatusOK:
						gotOK.Add(1)
					case http.StatusServiceUnavailable:
						got503.Add(1)
						if resp.Header.Get("Retry-After") != "1" {
							t.Errorf("503 with Retry-After %q, want 1", resp.Header.Get("Retry-After"))
						}
					default:
						t.Errorf("status %s", resp.Status)
					}
				})
			}
			wg.Wait()
			if m := so.most.Load(); m > 2 {
				t.Errorf("%d drawings at once, want at most 2", m)
			}
			if tt.want503 != (got503.Load() > 0) {
				t.Errorf("%d answers 503, %d 200 (Wait %v)", got503.Load(), gotOK.Load(), tt.wait)
			}
			if !tt.want503 && so.total.Load() != tt.wantDraw {
				t.Errorf("%d drawings for 40 requests of one generation, want %d (%v)", so.total.Load(), tt.wantDraw, so.perPage)
			}
			for name, n := range so.perPage {
				if n > 1 {
					t.Errorf("%s drawn %d times in one generation", name, n)
				}
			}
		})
	}
}

// TestPagesPerGeneration: a page is drawn once per sample: asked again in
// the same generation it is served from the cache, after a sample it is
// drawn anew from the newest snapshot.
func TestPagesPerGeneration(t *testing.T) {
	a, b := fakeSnapshot(t, 10), fakeSnapshot(t, 20)
	next := []*vmmap.Snapshot{a, b}
	h := newHandler(Options{Path: "/"}, func() (*vmmap.Snapshot, error) { s := next[0]; next = next[1:]; return s, nil })
	srv := httptest.NewServer(h)
	defer srv.Close()
	regions := func() int {
		t.Helper()
		_, body := get(t, srv.URL+"/snapshot.json")
		var doc struct{ Regions []json.RawMessage }
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		return len(doc.Regions)
	}
	if n := regions(); n != len(a.Regions) { // the first request samples
		t.Errorf("first: %d regions, want %d", n, len(a.Regions))
	}
	h.mu.Lock()
	cached := h.pages["snapshot.json"].body
	h.mu.Unlock()
	if cached == nil {
		t.Fatal("snapshot.json is not kept for its generation")
	}
	if n := regions(); n != len(a.Regions) {
		t.Errorf("same generation: %d regions, want %d", n, len(a.Regions))
	}
	if err := h.Sample(); err != nil {
		t.Fatal(err)
	}
	if n := regions(); n != len(b.Regions) {
		t.Errorf("after a sample: %d regions, want the newest's %d", n, len(b.Regions))
	}
}

// TestRingBytes: the ring keeps within MaxBytes (the newest always), and
// snapshotBytes, which the cap counts, is within a third of what a
// snapshot read from JSON holds on the Go heap.
func TestRingBytes(t *testing.T) {
	const mappings = 2000
	one := snapshotBytes(fakeSnapshot(t, mappings))
	tests := []struct {
		name     string
		maxBytes int64
		wantRing int
	}{
		{"three fit", 3*one + one/2, 3},
		{"smaller than one", one / 2, 1},
		{"Keep first", 100 * one, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(Options{Keep: 10, MaxBytes: tt.maxBytes}, func() (*vmmap.Snapshot, error) { return fakeSnapshot(t, mappings), nil })
			for range 15 {
				if err := h.Sample(); err != nil {
					t.Fatal(err)
				}
			}
			if n := len(h.Ring()); n != tt.wantRing {
				t.Errorf("ring holds %d, want %d", n, tt.wantRing)
			}
			if b := h.RingBytes(); b > max(tt.maxBytes, one) || b != int64(len(h.Ring()))*one {
				t.Errorf("ring holds %d bytes for %d snapshots of %d (cap %d)", b, len(h.Ring()), one, tt.maxBytes)
			}
		})
	}
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	const n = 10
	keep := make([]*vmmap.Snapshot, 0, n)
	before := live()
	for range n {
		keep = append(keep, fakeSnapshot(t, mappings))
	}
	heapPer := float64(live()-before) / n
	runtime.KeepAlive(keep)
	t.Logf("a snapshot of %d mappings: %d B estimated (%.0f B a mapping), %.0f B on the Go heap (%.0f B a mapping)",
		mappings, one, float64(one)/mappings, heapPer, heapPer/mappings)
	if r := float64(one) / heapPer; r < 0.67 || r > 1.5 {
		t.Errorf("estimate %d B is %.2f of the heap's %.0f B", one, r, heapPer)
	}
}

// TestPaced: a page is sent whole and in order, sleeping until each chunk
// is due at the rate (on a clock that moves only when paced sleeps, the
// sleeps add up to the time the bytes before the last chunk take), and a
// failed write stops it.
func TestPaced(t *testing.T) {
	body := make([]byte, 300<<10+5)
	for i := range body {
		body[i] = byte(i * 7)
	}
	tests := []struct {
		name       string
		rate       int
		writeTakes time.Duration // on the clock
		wantSleep  time.Duration
	}{
		// 4 chunks of 64 KiB, then 44 KiB and 5 bytes: slept until the
		// first 256 KiB are due.
		{"1 MiB/s", 1 << 20, 0, 250 * time.Millisecond},
		// Each chunk is due 62.5 ms after the one before: a client that
		// takes 100 ms to read one is never waited for.
		{"a slower client", 1 << 20, 100 * time.Millisecond, 0},
		{"partly slower", 1 << 20, 50 * time.Millisecond, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := time.Unix(0, 0)
			var slept time.Duration
			var out bytes.Buffer
			w := writerFunc(func(b []byte) (int, error) {
				clock = clock.Add(tt.writeTakes)
				return out.Write(b)
			})
			err := paced(w, body, tt.rate, func() time.Time { return clock }, func(d time.Duration) {
				slept += d
				clock = clock.Add(d)
			})
			if err != nil || !bytes.Equal(out.Bytes(), body) {
				t.Fatalf("err %v; %d bytes out of %d, equal %v", err, out.Len(), len(body), bytes.Equal(out.Bytes(), body))
			}
			// Sleeps round down to the nanosecond: within 5 ns.
			if d := slept - tt.wantSleep; d < -5 || d > 5 {
				t.Errorf("slept %v, want %v", slept, tt.wantSleep)
			}
		})
	}
	broken := errors.New("client gone")
	if err := paced(failingWriter{broken}, body, 1<<20, time.Now, func(time.Duration) { t.Fatal("slept after a failed write") }); err != broken {
		t.Errorf("err %v, want %v", err, broken)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// TestIndexCached: the index and heaps.json read the heaps' figures once
// per indexTTL however many requests come, a request never waits while
// another rebuilds them, and once they are older than indexTTL the next
// request rebuilds them.
func TestIndexCached(t *testing.T) {
	var calls atomic.Int32
	saved := heapFigures
	defer func() { heapFigures = saved }()
	name := "none yet"
	heapFigures = func(hs []*heap.Heap) []HeapFigure {
		calls.Add(1)
		return []HeapFigure{{Name: name, Owner: name}}
	}
	h := newHandler(Options{Path: "/"}, func() (*vmmap.Snapshot, error) { return fakeSnapshot(t, 10), nil })
	get := func(page string) string {
		t.Helper()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/"+page, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("/%s: %d", page, w.Code)
		}
		return w.Body.String()
	}
	for i := range 50 {
		get([]string{"", "heaps.json"}[i%2])
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("50 requests read the heaps' figures %d times, want once", n)
	}
	// A rebuild in progress: the copy there is is served at once.
	h.refresh.Lock()
	h.front.Load().built = time.Now().Add(-2 * indexTTL)
	name = "heap B"
	done := make(chan string)
	go func() { done <- get("") }()
	select {
	case body := <-done:
		if !strings.Contains(body, "none yet") {
			t.Errorf("the index served during a rebuild is not the copy there was")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the index waited for a rebuild")
	}
	h.refresh.Unlock()
	if body := get("heaps.json"); !strings.Contains(body, `"name":"heap B"`) || calls.Load() != 2 {
		t.Errorf("after indexTTL heaps.json is %s (%d readings); want heap B, read again", body, calls.Load())
	}
}
