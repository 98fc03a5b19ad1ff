package timeline

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"
)

// TestReadMalformed: each malformed timeline the issue found accepted, or
// rejected with a message that did not name the problem, is refused with
// one that does (or, for a bad last line, read with a warning saying what
// was dropped). The numbers a file gives pass the checks a reading of
// /proc does (vmmap.Snapshot.Validate).
func TestReadMalformed(t *testing.T) {
	good := string(write(t, false, 0x20000, 0x30000))
	lines := strings.SplitAfter(good, "\n") // header, frame 0, frame 1, end, ""
	frame0 := func(old, new string) string {
		t.Helper()
		if !strings.Contains(lines[1], old) {
			t.Fatalf("frame 0 lacks %q: %s", old, lines[1])
		}
		return lines[0] + strings.Replace(lines[1], old, new, 1) + lines[2] + lines[3]
	}
	gz := func(s string, cut int) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.String()[:min(cut, b.Len())]
	}
	tests := []struct {
		name, in string
		want     string // the error, or with dropped the warning
		dropped  bool
	}{
		{"resident of 16 EiB in 64 KiB", frame0(`"perms":"rw-p"`, `"perms":"rw-p","rss":18446744073709551615`),
			"line 2: frame 0: malformed input: region 0 0x10000-0x20000: resident 18446744073709551615 B exceeds its size 65536 B", false},
		{"proportional above resident", frame0(`"perms":"rw-p"`, `"perms":"rw-p","rss":4096,"pss":8192`),
			"line 2: frame 0: malformed input: region 0 0x10000-0x20000: proportional (PSS) 8192 B exceeds its resident 4096 B", false},
		{"negative VMA count", frame0(`"vmas":1`, `"vmas":-5`),
			"line 2: frame 0: malformed input: -5 VMAs (want 0 to 2147483647)", false},
		{"2^62 VMAs", frame0(`"vmas":1`, `"vmas":4611686018427387904`),
			"line 2: frame 0: malformed input: 4611686018427387904 VMAs (want 0 to 2147483647)", false},
		{"granularity not a power of two", frame0(`"granularity":4096`, `"granularity":4095`),
			"line 2: frame 0: malformed input: granularity 4095 is not a power of two up to 1 GiB", false},
		{"time runs backwards", lines[0] + lines[1] + strings.Replace(lines[2], "14:00:01Z", "13:59:59Z", 1) + lines[3],
			"line 3: malformed timeline: frame 1 taken at 2026-12-02T13:59:59Z, before frame 0 (2026-12-02T14:00:00Z): time runs backwards", false},
		{"frame without time", lines[0] + strings.Replace(lines[1], `"taken":"2026-12-02T14:00:00Z",`, "", 1) + lines[2],
			"line 2: malformed timeline: frame 0 has no time", false},
		{"blank line in the middle", lines[0] + lines[1] + "\n" + lines[2] + lines[3],
			"line 3: malformed timeline: blank line", false},
		{"negative interval", strings.Replace(lines[0], `"every":"1s"`, `"every":"-1s"`, 1) + lines[1],
			`malformed timeline: header: every "-1s" is not a positive duration`, false},
		{"exit status 300", lines[0] + lines[1] + strings.Replace(lines[3], `"end":"exited"`, `"end":"exited","status":300`, 1),
			"its last line (3) was dropped: malformed timeline: exit status 300 (want 0 to 255)", true},
		{"unknown end", lines[0] + lines[1] + strings.Replace(lines[3], `"end":"exited"`, `"end":"crashed"`, 1),
			`its last line (3) was dropped: malformed timeline: end "crashed" (want "exited", "done" or "interrupted")`, true},
		{"gzip cut at 10 bytes", gz(good, 10),
			"malformed timeline: the file ends before its first line is complete: unexpected EOF", false},
		{"bad complete last line", lines[0] + lines[1] + "{oops}\n",
			"its last line (3) was dropped: malformed timeline: invalid character 'o' looking for beginning of object key string", true},
		{"torn last line", lines[0] + lines[1] + lines[2][:40],
			"its last line (3) was dropped: malformed timeline: unexpected EOF", true},
		{"gzip cut after a frame", gz(good, len(gz(good, 1<<20))-30),
			"its last line (4) was dropped: malformed timeline: unexpected EOF", true},
	}
	// A recording stored as differences: frame 1 turns the free slot 1
	// into a mapping, frame 2 is unchanged, frame 3 frees slot 0.
	d := strings.SplitAfter(string(writeSlots(t)), "\n") // header, 4 frames, end, ""
	if !strings.Contains(d[2], `"gone":["0x11000"]`) || !strings.Contains(d[3], `"same":1`) || !strings.Contains(d[4], `"gone":["0x10000"]`) {
		t.Fatalf("not the differences expected:\n%s", strings.Join(d, ""))
	}
	diffs := func(old, new string) string {
		t.Helper()
		if !strings.Contains(d[2], old) {
			t.Fatalf("frame 1 lacks %q: %s", old, d[2])
		}
		return d[0] + d[1] + strings.Replace(d[2], old, new, 1) + d[3] + d[4] + d[5]
	}
	tests = append(tests, []struct {
		name, in string
		want     string
		dropped  bool
	}{
		{"difference removes no region", diffs(`"gone":["0x11000"]`, `"gone":["0x11800"]`),
			"line 3: frame 1: malformed timeline: gone region 0x11800 is not the start of one of the previous frame's regions", false},
		{"difference out of order", diffs(`"gone":["0x11000"]`, `"gone":["0x11000","0x10000"]`),
			"line 3: frame 1: malformed timeline: gone region 0x10000 follows 0x11000: not in address order", false},
		{"difference overlaps a kept region", diffs(`"gone":["0x11000"]`, `"gone":[]`),
			"line 3: frame 1: malformed input: region 2 0x11000-0x12000 overlaps or precedes the one before (ending 0x12000)", false},
		{"difference with a resident of 16 EiB", diffs(`"perms":"rw-p"`, `"perms":"rw-p","rss":18446744073709551615`),
			"line 3: frame 1: put: malformed input: region 0 0x11000-0x12000: resident 18446744073709551615 B exceeds its size 4096 B", false},
		{"difference with a negative VMA count", diffs(`"vmas":3`, `"vmas":-3`),
			"line 3: frame 1: put: malformed input: -3 VMAs (want 0 to 2147483647)", false},
		{"difference with a bad address", diffs(`"gone":["0x11000"]`, `"gone":["11000"]`),
			`line 3: malformed timeline: address "11000" is not a 0x-prefixed hexadecimal string`, false},
		{"difference in a version 1 file", strings.Replace(diffs("", ""), Schema, SchemaV1, 1),
			"line 3: malformed timeline: frame 1 is a difference, which zebra.timeline/v1 does not have", false},
		{"difference and snapshot", d[0] + d[1] + strings.Replace(d[2], `"gone"`, `"snapshot":{},"gone"`, 1) + d[3],
			"line 3: malformed timeline: frame 1 is more than one of snapshot, difference and reference", false},
		{"reference to a frame not held", d[0] + d[1] + d[2] + strings.Replace(d[3], `"same":1`, `"same":0`, 1) + d[4],
			"line 4: malformed timeline: frame 2 refers to frame 0, which is not the last frame that holds a snapshot", false},
		{"frame without any form", d[0] + d[1] + `{"seq":1,"taken":"2026-12-02T14:00:01Z"}` + "\n" + d[3],
			"line 3: malformed timeline: frame 1 has neither snapshot, difference nor reference", false},
		{"newer version", strings.Replace(good, Schema, "zebra.timeline/v3", 1),
			`timeline version not supported: "zebra.timeline/v3" (this zebra reads zebra.timeline/v1 and zebra.timeline/v2)`, false},
		{"another schema", `{"schema":"zebra.vmmap/v1"}` + "\n",
			`not a zebra timeline: schema "zebra.vmmap/v1"`, false},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := Read(strings.NewReader(tt.in))
			switch {
			case tt.dropped && err != nil:
				t.Fatalf("err = %v; want a warning %q", err, tt.want)
			case tt.dropped && (!tl.Truncated || tl.Dropped != tt.want):
				t.Errorf("Truncated %v, Dropped %q; want %q", tl.Truncated, tl.Dropped, tt.want)
			case !tt.dropped && (err == nil || err.Error() != tt.want):
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

// writeSlots writes a recording of three one-page slots stored as
// differences: slot 1 becomes a mapping in frame 1, frame 2 is unchanged,
// slot 0 is freed in frame 3.
func writeSlots(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	w, err := NewWriter(&b, Header{Source: "test", PID: 7, Started: t0, Every: time.Second}, false)
	if err != nil {
		t.Fatal(err)
	}
	rss := make([]uint64, 3)
	for i, used := range [][]bool{{true, false, false}, {true, true, false}, {true, true, false}, {false, true, false}} {
		if err := w.Write(slots(t0, i, used, rss, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(EndDone); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestHeaderWithoutNewline: a recording killed right after its header
// holds no frame; its header is read, not called an empty file.
func TestHeaderWithoutNewline(t *testing.T) {
	good := string(write(t, false, 0x20000))
	header := good[:strings.IndexByte(good, '\n')]
	tl, err := Read(strings.NewReader(header))
	if err != nil || tl.Header.Source != "test" || len(tl.Frames) != 0 {
		t.Fatalf("Read = %+v, %v; want the header and no frame", tl, err)
	}
	if _, err := Read(strings.NewReader("")); err == nil || err.Error() != "not a zebra timeline: empty file" {
		t.Errorf("empty: %v", err)
	}
}

// TestFramesCarryNoZeroTime: the snapshots embedded in frames carry no
// time of their own (the frame's line has it), not year 1.
func TestFramesCarryNoZeroTime(t *testing.T) {
	if b := write(t, false, 0x20000, 0x30000); bytes.Contains(b, []byte("0001-01-01")) {
		t.Errorf("a frame holds the zero time:\n%s", b)
	}
}
