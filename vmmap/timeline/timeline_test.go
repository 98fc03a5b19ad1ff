package timeline

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/vmmap"
)

func snap(t0 time.Time, i int, end uint64) *vmmap.Snapshot {
	return &vmmap.Snapshot{
		Source: "test", PID: 7, Taken: t0.Add(time.Duration(i) * time.Second),
		Span: vmmap.AddrRange{Start: 0x10000, End: 0x100000}, Granularity: 4096, VMAs: 1,
		Regions: []vmmap.Region{
			{Start: 0x10000, End: end, Type: vmmap.PrivateData, State: vmmap.StateCommitted, Perms: "rw-p"},
			{Start: end, End: 0x100000, Type: vmmap.Free, State: vmmap.StateFree},
		},
	}
}

// write records snapshots whose first region ends at each of ends.
func write(t *testing.T, compress bool, ends ...uint64) []byte {
	t.Helper()
	var b bytes.Buffer
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	w, err := NewWriter(&b, Header{Source: "test", PID: 7, Started: t0, Every: time.Second}, compress)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range ends {
		if err := w.Write(snap(t0, i, e)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(EndExited); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		data := write(t, compress, 0x20000, 0x20000, 0x20000, 0x40000)
		tl, err := Read(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if tl.End != EndExited || tl.Truncated || tl.Header.Every != time.Second || tl.Header.PID != 7 {
			t.Errorf("compress %v: header %+v end %q truncated %v", compress, tl.Header, tl.End, tl.Truncated)
		}
		var same []bool
		for i, f := range tl.Frames {
			same = append(same, f.Same)
			if f.Seq != i || f.Taken.Second() != i {
				t.Errorf("frame %d: seq %d taken %v", i, f.Seq, f.Taken)
			}
		}
		if want := []bool{false, true, true, false}; !slices.Equal(same, want) {
			t.Errorf("Same = %v; want %v", same, want)
		}
		if got := tl.Frames[3].Snapshot.Regions[0].End; got != 0x40000 {
			t.Errorf("frame 3 region end %#x", got)
		}
	}
}

// TestUnchangedIsSmall: an idle process recorded for an hour at 1 s stays
// small because unchanged snapshots are references.
func TestUnchangedIsSmall(t *testing.T) {
	ends := make([]uint64, 3600)
	for i := range ends {
		ends[i] = 0x20000
	}
	full := len(write(t, false, 0x20000))
	hour := len(write(t, false, ends...))
	if perFrame := (hour - full) / 3599; perFrame > 80 {
		t.Errorf("%d bytes per unchanged frame; want a short reference", perFrame)
	}
}

// TestTorn cuts a recording at every byte: Read keeps every complete frame
// and never fails once the header is whole.
func TestTorn(t *testing.T) {
	for _, compress := range []bool{false, true} {
		data := write(t, compress, 0x20000, 0x30000, 0x30000, 0x40000)
		header := bytes.IndexByte(data, '\n') + 1
		if compress {
			header = 0
		}
		lastFrames := 0
		for n := header; n <= len(data); n++ {
			tl, err := Read(bytes.NewReader(data[:n]))
			if err != nil {
				if compress {
					continue // the gzip header or the header line is incomplete
				}
				t.Fatalf("cut at %d of %d: %v", n, len(data), err)
			}
			if len(tl.Frames) < lastFrames {
				t.Fatalf("cut at %d: %d frames, fewer than %d at a shorter cut", n, len(tl.Frames), lastFrames)
			}
			lastFrames = len(tl.Frames)
			if n < len(data)-1 && tl.End != "" && !compress {
				t.Errorf("cut at %d: End %q before the end line", n, tl.End)
			}
		}
		if lastFrames != 4 {
			t.Errorf("compress %v: %d frames at full length", compress, lastFrames)
		}
	}
}

func TestReadErrors(t *testing.T) {
	good := string(write(t, false, 0x20000, 0x30000))
	lines := strings.SplitAfter(good, "\n")
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrSchema},
		{"not a timeline", `{"schema":"zebra.vmmap/v1"}` + "\n", ErrSchema},
		{"bad every", `{"schema":"zebra.timeline/v1","every":"often"}` + "\n", ErrParse},
		{"newer version", `{"schema":"zebra.timeline/v9"}` + "\n", ErrVersion},
		{"garbage in the middle", lines[0] + "{oops\n" + lines[1], ErrParse},
		{"out of sequence", lines[0] + lines[2] + lines[1], ErrParse},
		{"dangling reference", lines[0] + `{"seq":0,"taken":"2026-12-02T14:00:00Z","same":5}` + "\n" + lines[1], ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v; want %v", err, tt.want)
			}
		})
	}
}

// FuzzRead: whatever Read accepts is a timeline a recorder could have
// written: frames in sequence and in time order, each snapshot (those
// rebuilt from differences included) passing the checks a reading of /proc
// passes (vmmap.Snapshot.Validate), a known end.
func FuzzRead(f *testing.F) {
	f.Add(write(&testing.T{}, false, 0x20000, 0x20000, 0x30000))
	f.Add(write(&testing.T{}, true, 0x20000))
	good := write(&testing.T{}, false, 0x20000, 0x30000)
	f.Add(bytes.Replace(good, []byte(`"vmas":1`), []byte(`"vmas":-1`), 1))
	f.Add(bytes.Replace(good, []byte(`"perms":"rw-p"`), []byte(`"perms":"rw-p","rss":99999999999`), 1))
	// Differences: a region appears, one vanishes, a reference between.
	diffs := writeSlots(f)
	f.Add(diffs)
	f.Add(bytes.Replace(diffs, []byte(`"gone":["0x11000"]`), []byte(`"gone":[]`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		tl, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, fr := range tl.Frames {
			if fr.Snapshot == nil || fr.Seq != i {
				t.Fatalf("frame %d: %+v", i, fr)
			}
			if err := fr.Snapshot.Validate(); err != nil {
				t.Fatalf("frame %d accepted, but the /proc checks refuse it: %v", i, err)
			}
			if fr.Taken.IsZero() || i > 0 && fr.Taken.Before(tl.Frames[i-1].Taken) {
				t.Fatalf("frame %d taken at %v, after frame %d at %v", i, fr.Taken, i-1, tl.Frames[max(i-1, 0)].Taken)
			}
		}
		if tl.Header.PID < 0 || tl.Header.Every < 0 {
			t.Fatalf("header %+v", tl.Header)
		}
		if !slices.Contains([]string{"", EndExited, EndDone, EndInterrupted}, tl.End) ||
			tl.ExitStatus != nil && (*tl.ExitStatus < 0 || *tl.ExitStatus > 255) {
			t.Fatalf("end %q, status %v", tl.End, tl.ExitStatus)
		}
		if tl.Truncated != (tl.Dropped != "") {
			t.Fatalf("Truncated %v, Dropped %q", tl.Truncated, tl.Dropped)
		}
	})
}

// TestLabelsAndStatus: frame labels and the end line's exit status survive
// a round trip; without them they read as "" and nil.
func TestLabelsAndStatus(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		labels     []string // SetLabel before each frame
		status     *int
		wantLabels []string
	}{
		{"labelled, status 3", []string{"one", "", "two"}, ptr(3), []string{"one", "", "two"}},
		{"killed by signal 9", nil, ptr(137), []string{"", "", ""}},
		{"neither", nil, nil, []string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w, err := NewWriter(&b, Header{Source: "test", Started: t0}, false)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if tt.labels != nil {
					w.SetLabel(tt.labels[i])
				}
				if err := w.Write(snap(t0, i, 0x20000)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.status != nil {
				w.SetExitStatus(*tt.status)
			}
			if err := w.Close(EndExited); err != nil {
				t.Fatal(err)
			}
			tl, err := Read(&b)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range tl.Frames {
				got = append(got, f.Label)
			}
			if !slices.Equal(got, tt.wantLabels) {
				t.Errorf("labels %q, want %q", got, tt.wantLabels)
			}
			switch {
			case (tl.ExitStatus == nil) != (tt.status == nil):
				t.Errorf("ExitStatus %v, want %v", tl.ExitStatus, tt.status)
			case tt.status != nil && *tl.ExitStatus != *tt.status:
				t.Errorf("ExitStatus %d, want %d", *tl.ExitStatus, *tt.status)
			}
		})
	}
}

func ptr(n int) *int { return &n }
