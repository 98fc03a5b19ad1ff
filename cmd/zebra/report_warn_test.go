package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// TestReportWarnsOfDroppedLine: a timeline whose last line is bad is
// reported from its good frames, with a warning on stderr saying what was
// dropped (it was dropped silently, with exit 0).
func TestReportWarnsOfDroppedLine(t *testing.T) {
	dir := tempdir.New(t)
	path := filepath.Join(dir, "t.jsonl")
	var b bytes.Buffer
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	w, err := timeline.NewWriter(&b, timeline.Header{Source: "fake", PID: 7, Started: t0, Every: time.Second}, false)
	if err != nil {
		t.Fatal(err)
	}
	s := &vmmap.Snapshot{Source: "fake", PID: 7, Taken: t0, Span: vmmap.AddrRange{Start: 0x1000, End: 0x3000}, Granularity: 4096,
		Regions: []vmmap.Region{{Start: 0x1000, End: 0x2000, Type: vmmap.PrivateData, State: vmmap.StateCommitted},
			{Start: 0x2000, End: 0x3000, Type: vmmap.Free}}}
	if err := w.Write(s); err != nil {
		t.Fatal(err)
	}
	b.WriteString("{\"seq\":1,\"taken\":\"2026-12-02T14:00:01Z\",\"same\":7}\n")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", path, "-o", filepath.Join(dir, "t.html")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := "zebra report: warning: " + path + ": its last line (3) was dropped: malformed timeline: frame 1 refers to frame 7, which is not the last frame that holds a snapshot\n"
	if stderr.String() != want {
		t.Errorf("stderr %q\nwant   %q", stderr.String(), want)
	}
}
