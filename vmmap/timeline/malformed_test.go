package timeline

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
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
			`not a zebra timeline of schema zebra.timeline/v1: every "-1s" is not a positive duration`, false},
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

// TestHeaderWithoutNewline: a recording killed right after its header
// holds no frame; its header is read, not called an empty file.
func TestHeaderWithoutNewline(t *testing.T) {
	good := string(write(t, false, 0x20000))
	header := good[:strings.IndexByte(good, '\n')]
	tl, err := Read(strings.NewReader(header))
	if err != nil || tl.Header.Source != "test" || len(tl.Frames) != 0 {
		t.Fatalf("Read = %+v, %v; want the header and no frame", tl, err)
	}
	if _, err := Read(strings.NewReader("")); err == nil || err.Error() != "not a zebra timeline of schema zebra.timeline/v1: empty file" {
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
