package timeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap"
)

// slots returns a snapshot of n one-page slots from 0x10000, each a
// private mapping or free space as used says, with rss resident bytes in
// each mapping.
func slots(t0 time.Time, i int, used []bool, rss []uint64, vmas int) *vmmap.Snapshot {
	const page = 4096
	s := &vmmap.Snapshot{
		Source: "test", PID: 7, Taken: t0.Add(time.Duration(i) * time.Second), Granularity: page, VMAs: vmas,
		Span: vmmap.AddrRange{Start: 0x10000, End: 0x10000 + uint64(len(used))*page},
	}
	for k, u := range used {
		r := vmmap.Region{Start: 0x10000 + uint64(k)*page, End: 0x10000 + uint64(k+1)*page, Type: vmmap.Free, State: vmmap.StateFree}
		if u {
			r.Type, r.State, r.Perms, r.RSS, r.Flags = vmmap.PrivateData, vmmap.StateCommitted, "rw-p", rss[k], []string{"rd", "wr"}
		}
		s.Regions = append(s.Regions, r)
	}
	return s
}

// TestDeltaRoundTrip writes frames in which a few regions appear, vanish
// or change each time (and sometimes only a count), and reads back every
// frame exactly as written, stored as differences.
func TestDeltaRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	const n, frames = 400, 60
	used, rss := make([]bool, n), make([]uint64, n)
	for k := range used {
		used[k] = rng.IntN(2) == 0
	}
	var want []*vmmap.Snapshot
	for i := range frames {
		switch i % 10 {
		case 3: // unchanged: a reference
		case 7: // a count alone changes
			want = append(want, slots(t0, i, used, rss, 100+i))
			continue
		default:
			for range 1 + rng.IntN(8) {
				k := rng.IntN(n)
				if rng.IntN(2) == 0 {
					used[k] = !used[k]
				} else {
					rss[k] = uint64(rng.IntN(2)) * 4096
				}
			}
		}
		want = append(want, slots(t0, i, used, rss, 100))
	}
	for _, compress := range []bool{false, true} {
		var b bytes.Buffer
		w, err := NewWriter(&b, Header{Source: "test", PID: 7, Started: t0, Every: time.Second}, compress)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range want {
			if err := w.Write(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(EndDone); err != nil {
			t.Fatal(err)
		}
		if !compress {
			whole := bytes.Count(b.Bytes(), []byte(`"snapshot":`))
			diffs := bytes.Count(b.Bytes(), []byte(`"put":`))
			if whole != 1 || diffs < frames*8/10 {
				t.Errorf("%d whole snapshots and %d differences; want 1 and most frames", whole, diffs)
			}
		}
		r, err := NewReader(&b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			f, err := r.Next()
			if err == io.EOF {
				if i != frames {
					t.Fatalf("%d frames, want %d", i, frames)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			// A reference shares the snapshot before it, time included;
			// the frame has its own.
			got := *f.Snapshot
			got.Taken = f.Taken
			if !reflect.DeepEqual(&got, want[i]) {
				t.Fatalf("compress %v: frame %d differs: %s", compress, i, firstDiff(&got, want[i]))
			}
			wantSame := i > 0 && sameSnapshot(want[i-1], want[i])
			if f.Same != wantSame {
				t.Errorf("frame %d: Same %v", i, f.Same)
			}
			// Changed: -1 for the whole first frame, 0 for a
			// reference, else the regions gone and put.
			switch gone, put := diffRegions(want[max(i-1, 0)].Regions, want[i].Regions); {
			case i == 0 && f.Changed != -1, wantSame && f.Changed != 0,
				i > 0 && !wantSame && f.Changed != len(gone)+len(put):
				t.Errorf("frame %d: Changed %d (%d gone, %d put)", i, f.Changed, len(gone), len(put))
			}
		}
		if end, _ := r.End(); end != EndDone {
			t.Errorf("end %q", end)
		}
	}
}

// TestDiffApply: applyDelta undoes diffRegions for any two region lists,
// and refuses a difference that names regions the frame lacks.
func TestDiffApply(t *testing.T) {
	reg := func(start, end uint64, path string) vmmap.Region {
		return vmmap.Region{Start: start, End: end, Type: vmmap.MappedFile, State: vmmap.StateCommitted, Path: path}
	}
	a := []vmmap.Region{reg(0x1000, 0x2000, "a"), reg(0x2000, 0x3000, "b"), reg(0x5000, 0x6000, "c")}
	tests := []struct {
		name     string
		prev     []vmmap.Region
		cur      []vmmap.Region
		wantGone int
		wantPut  int
	}{
		{"same", a, a, 0, 0},
		{"one changed", a, []vmmap.Region{a[0], reg(0x2000, 0x3000, "B"), a[2]}, 1, 1},
		{"first gone", a, a[1:], 1, 0},
		{"last gone", a, a[:2], 1, 0},
		{"one before all", a, append([]vmmap.Region{reg(0, 0x1000, "z")}, a...), 0, 1},
		{"one between", a, []vmmap.Region{a[0], a[1], reg(0x3000, 0x4000, "n"), a[2]}, 0, 1},
		{"all replaced", a, []vmmap.Region{reg(0x8000, 0x9000, "x")}, 3, 1},
		{"from nothing", nil, a, 0, 3},
		{"to nothing", a, nil, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gone, put := diffRegions(tt.prev, tt.cur)
			if len(gone) != tt.wantGone || len(put) != tt.wantPut {
				t.Errorf("%d gone, %d put; want %d, %d", len(gone), len(put), tt.wantGone, tt.wantPut)
			}
			got, err := applyDelta(tt.prev, gone, put)
			if err != nil || len(got) != len(tt.cur) || len(got) > 0 && !reflect.DeepEqual(got, tt.cur) {
				t.Errorf("applyDelta = %v, %v; want %v", got, err, tt.cur)
			}
		})
	}
	bad := []struct {
		name string
		gone []uint64
		want string
	}{
		{"not a start", []uint64{0x1800}, "malformed timeline: gone region 0x1800 is not the start of one of the previous frame's regions"},
		{"past the end", []uint64{0x9000}, "malformed timeline: gone region 0x9000 is not the start of one of the previous frame's regions"},
		{"out of order", []uint64{0x2000, 0x1000}, "malformed timeline: gone region 0x1000 follows 0x2000: not in address order"},
		{"twice", []uint64{0x2000, 0x2000}, "malformed timeline: gone region 0x2000 follows 0x2000: not in address order"},
		{"more than held", []uint64{0x1000, 0x2000, 0x5000, 0x6000}, "malformed timeline: 4 regions gone from a frame of 3"},
	}
	for _, tt := range bad {
		if _, err := applyDelta(a, tt.gone, nil); err == nil || err.Error() != tt.want {
			t.Errorf("%s: err = %v\nwant  %s", tt.name, err, tt.want)
		}
	}
}

// TestReadV1: recordings of version 1 (written by the zebra before
// differences, kept in testdata) read as they did.
func TestReadV1(t *testing.T) {
	for _, name := range []string{"testdata/v1.jsonl", "testdata/v1.jsonl.gz"} {
		tl, err := Open(name)
		if err != nil {
			t.Fatal(err)
		}
		var ends []uint64
		var same []bool
		for _, f := range tl.Frames {
			ends = append(ends, f.Snapshot.Regions[0].End)
			same = append(same, f.Same)
		}
		if fmt.Sprint(ends) != "[131072 131072 196608 196608 262144]" || fmt.Sprint(same) != "[false true false true false]" ||
			tl.Header.Schema != SchemaV1 || tl.End != EndExited || tl.ExitStatus == nil || *tl.ExitStatus != 3 || tl.Frames[2].Label != "b" {
			t.Errorf("%s: ends %v same %v header %+v end %q", name, ends, same, tl.Header, tl.End)
		}
	}
}

// TestMaxBytes: a reader stops at its cap on the decompressed text with an
// error that says so, whether the file is gzipped or not.
func TestMaxBytes(t *testing.T) {
	for _, compress := range []bool{false, true} {
		data := write(t, compress, 0x20000, 0x30000, 0x40000, 0x50000)
		r, err := NewReader(bytes.NewReader(data), Options{MaxBytes: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = r.Next()
		}
		if !errors.Is(err, ErrTooLarge) || !strings.HasSuffix(err.Error(), "timeline too large: more than 1000 B of text (the reader's cap)") {
			t.Errorf("compress %v: err = %v", compress, err)
		}
		if r, err := NewReader(bytes.NewReader(data), Options{}); err != nil {
			t.Error(err)
		} else {
			for err == nil {
				_, err = r.Next()
			}
			if err != io.EOF {
				t.Errorf("default cap: %v", err)
			}
		}
	}
}

// TestLongLine: a line longer than maxLine is an error that says so, not
// a parse error of its first part.
func TestLongLine(t *testing.T) {
	defer func(n int) { maxLine = n }(maxLine)
	maxLine = 300
	data := string(write(t, false, 0x20000, 0x30000))
	_, err := Read(strings.NewReader(data))
	if want := "line 2: malformed timeline: line longer than 300 bytes"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

// TestVersions: a timeline of a version this zebra does not read is
// refused with an error that names the version.
func TestVersions(t *testing.T) {
	good := string(write(t, false, 0x20000))
	_, err := Read(strings.NewReader(strings.Replace(good, Schema, "zebra.timeline/v3", 1)))
	want := `timeline version not supported: "zebra.timeline/v3" (this zebra reads zebra.timeline/v1 and zebra.timeline/v2)`
	if !errors.Is(err, ErrVersion) || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

// TestHeldFrames: a Reader of a long recording of a large process holds
// its last two frames, not all of them: the Go heap in use after reading
// 200 frames of 20,000 regions, each frame changing, stays within a few
// frames' worth.
func TestHeldFrames(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("writes 200 frames of 20,000 regions; the heap's size means nothing under -race")
	}
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	const n, frames = 20000, 200
	used, rss := make([]bool, n), make([]uint64, n)
	for k := range used {
		used[k] = k%3 != 0
	}
	f, err := os.CreateTemp(tempdir.New(t), "*.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, Header{Source: "test", Started: t0}, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		for k := i; k < n; k += 97 {
			used[k] = !used[k]
		}
		if err := w.Write(slots(t0, i, used, rss, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(EndDone); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := OpenReader(f.Name(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	frame := heapAfterGC()
	var peak uint64
	for i := 0; ; i++ {
		fr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			frame = heapAfterGC() - frame // one frame's regions, with the reader
		}
		if i%20 == 19 {
			peak = max(peak, heapAfterGC())
		}
		_ = fr
	}
	if base := heapAfterGC(); peak > base+4*frame {
		t.Errorf("the heap reached %d B reading; one frame is %d B: more than 4 frames held", peak, frame)
	}
}

// heapAfterGC is the Go heap in use after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// firstDiff names the first difference between two snapshots.
func firstDiff(got, want *vmmap.Snapshot) string {
	g, w := *got, *want
	g.Regions, w.Regions = nil, nil
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("head %+v, want %+v", g, w)
	}
	for i := range min(len(got.Regions), len(want.Regions)) {
		if !reflect.DeepEqual(got.Regions[i], want.Regions[i]) {
			return fmt.Sprintf("region %d: %+v, want %+v", i, got.Regions[i], want.Regions[i])
		}
	}
	return fmt.Sprintf("%d regions, want %d", len(got.Regions), len(want.Regions))
}

// sameSnapshot reports whether a and b are equal but for their time.
func sameSnapshot(a, b *vmmap.Snapshot) bool {
	c := *a
	c.Taken = b.Taken
	return reflect.DeepEqual(&c, b)
}
