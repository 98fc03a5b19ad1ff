package zebrahttp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/heap"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

func newHeaps(t *testing.T, names ...string) []*heap.Heap {
	t.Helper()
	var hs []*heap.Heap
	for _, n := range names {
		h, err := heap.New(heap.Options{Name: n, Policy: heap.NT})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Destroy() })
		hs = append(hs, h)
	}
	return hs
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestPages(t *testing.T) {
	if _, err := vmmap.Self(); err != nil {
		t.Skip("no live maps here:", err)
	}
	hs := newHeaps(t, "pages-A", "pages-B")
	for _, h := range hs {
		if _, err := h.Alloc(1000); err != nil {
			t.Fatal(err)
		}
	}
	h := newHandler(Options{}, vmmap.Self)
	mux := http.NewServeMux()
	mux.Handle("/debug/zebra/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL + "/debug/zebra/"
	if err := h.Sample(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		page, ctype, want string
	}{
		{"", "text/html", "pages-B"},
		{"heaps.json", "application/json", `"name":"pages-A"`},
		{"map.png", "image/png", "\x89PNG"},
		{"map.svg", "image/svg+xml", "<svg"},
		{"map.html", "text/html", "pages-A"},
		{"snapshot.json", "application/json", vmmap.SchemaV1},
		{"timeline.jsonl.gz", "application/gzip", "\x1f\x8b"},
		{"leaks.txt", "text/plain", "heap pages-A\n  untagged: 1 KiB in 1 block"},
	}
	for _, tt := range tests {
		t.Run("/"+tt.page, func(t *testing.T) {
			resp, body := get(t, base+tt.page)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %s: %s", resp.Status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type %q; want %q", ct, tt.ctype)
			}
			if !bytes.Contains(body, []byte(tt.want)) {
				t.Errorf("body lacks %q", tt.want)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
		})
	}
	// The downloaded timeline is one zebra report reads.
	_, body := get(t, base+"timeline.jsonl.gz")
	tl, err := timeline.Read(bytes.NewReader(body))
	if err != nil || len(tl.Frames) == 0 || tl.End != timeline.EndDone {
		t.Errorf("timeline: %v, %+v", err, tl)
	}
	// Only the exact paths answer.
	for _, p := range []string{"nothing", "x/y/z/map.png", "map.png/", "heaps.json/x", "x/"} {
		resp, _ := get(t, base+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", p, resp.Status)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", p, got)
		}
	}
	post, err := http.Post(base+"map.png", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s; want 405", post.Status)
	}
	// Figures (what zebrahttp/register publishes as expvar) lists the
	// heaps with their figures.
	b, err := json.Marshal(Figures())
	if err != nil {
		t.Fatal(err)
	}
	var figs []HeapFigure
	if err := json.Unmarshal(b, &figs); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(figs, func(f HeapFigure) bool { return f.Name == "pages-A" })
	if i < 0 || figs[i].Stats.Blocks != 1 || figs[i].Stats.MetaReserved == 0 {
		t.Errorf("Figures() = %+v; want pages-A with 1 block and its metadata", figs)
	}
}

// TestConcurrent requests every page from several goroutines while two
// heaps allocate; run under -race.
func TestConcurrent(t *testing.T) {
	if _, err := vmmap.Self(); err != nil {
		t.Skip("no live maps here:", err)
	}
	hs := newHeaps(t, "busy-A", "busy-B")
	// Drawing under -race takes seconds while the sampler starts a new
	// generation every 20 ms: the requests wait for it, not 503.
	h := New(Options{Path: "/", Every: 20 * time.Millisecond, Keep: 5, Wait: time.Minute})
	defer h.Stop()
	srv := httptest.NewServer(h)
	defer srv.Close()
	stop := make(chan struct{})
	var alloc sync.WaitGroup
	for _, hp := range hs {
		alloc.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := hp.Alloc(300); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var req sync.WaitGroup
	pages := []string{"", "heaps.json", "map.png", "map.svg", "map.html", "snapshot.json", "timeline.jsonl.gz"}
	for g := range 4 {
		req.Go(func() {
			for i := range 6 {
				p := pages[(g+i)%len(pages)]
				resp, err := http.Get(srv.URL + "/" + p)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("/%s: %s", p, resp.Status)
				}
			}
		})
	}
	req.Wait()
	close(stop)
	alloc.Wait()
	if n := len(h.Ring()); n == 0 || n > 5 {
		t.Errorf("ring holds %d snapshots; want 1 to 5", n)
	}
}

// TestRingBounded takes 1,000 snapshots into a ring of 20: the ring stays
// at 20 and the live heap stops growing once it is full.
func TestRingBounded(t *testing.T) {
	base, err := vmmap.Self()
	if err != nil {
		t.Skip("no live maps here:", err)
	}
	h := newHandler(Options{Keep: 20}, func() (*vmmap.Snapshot, error) {
		c := *base
		c.Regions = slices.Clone(base.Regions)
		c.Taken = time.Now()
		return &c, nil
	})
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var at100 uint64
	for i := range 1000 {
		if err := h.Sample(); err != nil {
			t.Fatal(err)
		}
		if i == 99 {
			at100 = live()
		}
	}
	at1000 := live()
	ring := h.Ring()
	if len(ring) != 20 {
		t.Fatalf("ring holds %d; want 20", len(ring))
	}
	if !slices.IsSortedFunc(ring, func(a, b *vmmap.Snapshot) int { return a.Taken.Compare(b.Taken) }) {
		t.Error("ring is not oldest first")
	}
	perSnap := uint64(len(base.Regions)) * uint64(unsafeSizeofRegion)
	if at1000 > at100+4*perSnap+1<<20 {
		t.Errorf("live heap %d B after 100 snapshots, %d B after 1,000: the ring leaks", at100, at1000)
	}
}

var unsafeSizeofRegion = func() int {
	var r vmmap.Region
	b, _ := json.Marshal(r)
	return len(b) + 64
}()

// TestSamplesWithoutVisits: the ring fills from New on, with no page ever
// requested, and the timeline downloaded then holds those frames. A
// stopped handler samples no more.
func TestSamplesWithoutVisits(t *testing.T) {
	if _, err := vmmap.Self(); err != nil {
		t.Skip("no live maps here:", err)
	}
	tests := []struct {
		name       string
		wait       time.Duration
		wantFrames int
	}{
		{"right after New", 0, 1},
		{"after ten intervals", 200 * time.Millisecond, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Options{Path: "/", Every: 20 * time.Millisecond, Keep: 50})
			defer h.Stop()
			time.Sleep(tt.wait)
			n := len(h.Ring())
			if n < tt.wantFrames-1 {
				t.Errorf("ring holds %d snapshots after %v with no visit", n, tt.wait)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, body := get(t, srv.URL+"/timeline.jsonl.gz")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("timeline: %s %s", resp.Status, body)
			}
			tl, err := timeline.Read(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if len(tl.Frames) < tt.wantFrames {
				t.Errorf("timeline holds %d frames; want at least %d", len(tl.Frames), tt.wantFrames)
			}
		})
	}
	h := New(Options{Every: 10 * time.Millisecond, Keep: 1000})
	time.Sleep(50 * time.Millisecond)
	h.Stop()
	n := len(h.Ring())
	time.Sleep(100 * time.Millisecond)
	if m := len(h.Ring()); m != n {
		t.Errorf("ring grew from %d to %d after Stop", n, m)
	}
}

// TestTagsShown: the index lists a Tags heap's live blocks per tag, and
// leaks.txt what each heap holds by tag.
func TestTagsShown(t *testing.T) {
	tag, err := heap.NewTag("zebrahttp-records")
	if err != nil {
		t.Fatal(err)
	}
	h, err := heap.New(heap.Options{Name: "tags-shown", Tags: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	for range 3 {
		if _, err := h.AllocTag(200, tag); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/zebra/", newHandler(Options{}, vmmap.Self))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL + "/debug/zebra/"
	_, index := get(t, base)
	if !bytes.Contains(index, []byte("tags-shown: live blocks by tag")) || !bytes.Contains(index, []byte("<td>zebrahttp-records</td><td>3</td>")) {
		t.Errorf("index lacks the tags:\n%s", index)
	}
	resp, leaks := get(t, base+"leaks.txt")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(leaks, []byte("heap tags-shown\n  zebrahttp-records: ")) || !bytes.Contains(leaks, []byte("in 3 blocks")) {
		t.Errorf("leaks.txt: %s\n%s", resp.Status, leaks)
	}
}
