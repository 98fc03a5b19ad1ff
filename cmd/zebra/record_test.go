package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// TestRecordFallsBehind: snapshots slower than --every make the recording
// warn once and say at the end how many it took of how many asked, and it
// still stops at --for (counted from its start, the first snapshot
// included); snapshots in time say nothing.
func TestRecordFallsBehind(t *testing.T) {
	tests := []struct {
		name      string
		snapshot  time.Duration // how long a snapshot takes
		every     time.Duration
		dur       time.Duration
		wantWarn  bool
		maxFrames int
	}{
		{"in time", time.Millisecond, 50 * time.Millisecond, 400 * time.Millisecond, false, 10},
		{"behind", 120 * time.Millisecond, 40 * time.Millisecond, 500 * time.Millisecond, true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &vmmap.Snapshot{Source: "fake", Span: vmmap.AddrRange{Start: 0x1000, End: 0x2000}, Granularity: 4096,
				Regions: []vmmap.Region{{Start: 0x1000, End: 0x2000, Type: vmmap.PrivateData, State: vmmap.StateCommitted}}}
			take := func() (*vmmap.Snapshot, error) {
				time.Sleep(tt.snapshot)
				c := *s
				c.Taken = time.Now()
				return &c, nil
			}
			var out, stderr bytes.Buffer
			w, err := timeline.NewWriter(&out, timeline.Header{Source: "fake", Every: tt.every}, false)
			if err != nil {
				t.Fatal(err)
			}
			started := time.Now()
			first, _ := take()
			cfg := recordConfig{every: tt.every, dur: tt.dur}
			reason, err := recordLoop(context.Background(), w, first, take, nil, cfg, started, &stderr)
			elapsed := time.Since(started)
			if err != nil || reason != timeline.EndDone {
				t.Fatalf("recordLoop = %q, %v", reason, err)
			}
			if elapsed > tt.dur+tt.snapshot+100*time.Millisecond {
				t.Errorf("stopped after %v, --for %v and a snapshot of %v", elapsed, tt.dur, tt.snapshot)
			}
			if n := w.Frames(); n > tt.maxFrames || n < 2 {
				t.Errorf("%d frames in %v at --every %v", n, tt.dur, tt.every)
			}
			warned := strings.Contains(stderr.String(), "longer than --every") &&
				strings.Contains(stderr.String(), "asked); the slowest took")
			if warned != tt.wantWarn {
				t.Errorf("warned %v, want %v:\n%s", warned, tt.wantWarn, stderr.String())
			}
			// One asked at each multiple of --every before --for: 0 to
			// 480 ms.
			if tt.wantWarn && !strings.Contains(stderr.String(), "(13 asked)") {
				t.Errorf("the warning does not count 13 snapshots asked in 500 ms at 40 ms:\n%s", stderr.String())
			}
			if strings.Count(stderr.String(), "falls behind") > 1 {
				t.Errorf("the warning is repeated:\n%s", stderr.String())
			}
		})
	}
}
