package vmmap

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func fixtureSnapshot(t testing.TB, name string) *Snapshot {
	t.Helper()
	p := NewProc("testdata/" + name + "/proc")
	p.Now = func() time.Time { return time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC) }
	s, err := p.Snapshot(fixtures(t)[name])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJSONRoundTrip(t *testing.T) {
	for _, name := range []string{"go", "arenas", "spaces", "anon"} {
		t.Run(name, func(t *testing.T) {
			s := fixtureSnapshot(t, name)
			// Indented for people, on one line for timelines.
			for _, w := range []struct {
				name    string
				write   func(io.Writer, *Snapshot) error
				oneLine bool
			}{{"WriteJSON", WriteJSON, false}, {"WriteJSONLine", WriteJSONLine, true}} {
				var b bytes.Buffer
				if err := w.write(&b, s); err != nil {
					t.Fatal(err)
				}
				if lines := bytes.Count(b.Bytes(), []byte("\n")); (lines == 1) != w.oneLine {
					t.Errorf("%s: %d lines", w.name, lines)
				}
				got, err := ReadJSON(&b)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(s, got); diff != "" {
					t.Errorf("%s: round trip (-want +got):\n%s", w.name, diff)
				}
			}
		})
	}
}

func TestJSONAddressesAbove2To53(t *testing.T) {
	s := &Snapshot{Source: "x", Span: AddrRange{0xffffffffff600000, 0xffffffffff601000}}
	s.Regions = []Region{{Start: 0xffffffffff600000, End: 0xffffffffff601000, Type: Image, State: StateCommitted}}
	var b bytes.Buffer
	if err := WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"start": "0xffffffffff600000"`) || !strings.Contains(b.String(), `"schema": "zebra.vmmap/v1"`) {
		t.Errorf("JSON:\n%s", b.String())
	}
	got, err := ReadJSON(&b)
	if err != nil || got.Regions[0].Start != 0xffffffffff600000 {
		t.Fatalf("ReadJSON = %+v, %v", got, err)
	}
}

func TestReadJSONErrors(t *testing.T) {
	const head = `{"schema": "zebra.vmmap/v1", "source": "x", "taken": "2026-01-01T00:00:00Z", "span": {"start": "0x1000", "end": "0x9000"}, "granularity": 4096, "vmas": 1, "regions": [`
	tests := []struct {
		name    string
		input   string
		wantErr error
	}{
		{"valid", head + `{"start": "0x1000", "end": "0x2000", "type": "Heap", "state": "committed"}]}`, nil},
		{"empty document", ``, ErrParse},
		{"not JSON", `zebra`, ErrParse},
		{"truncated", head, ErrParse},
		{"other schema", `{"schema": "zebra.vmmap/v2"}`, ErrSchema},
		{"no schema", `{"source": "x"}`, ErrSchema},
		{"unknown field", `{"schema": "zebra.vmmap/v1", "colour": 1}`, ErrParse},
		{"decimal address", head + `{"start": 4096, "end": "0x2000", "type": "Heap", "state": "committed"}]}`, ErrParse},
		{"address without 0x", head + `{"start": "1000", "end": "0x2000", "type": "Heap", "state": "committed"}]}`, ErrParse},
		{"overflowing address", head + `{"start": "0x10000000000000000", "end": "0x2000", "type": "Heap", "state": "committed"}]}`, ErrParse},
		{"unknown type", head + `{"start": "0x1000", "end": "0x2000", "type": "Zebra", "state": "committed"}]}`, ErrParse},
		{"unknown state", head + `{"start": "0x1000", "end": "0x2000", "type": "Heap", "state": "busy"}]}`, ErrParse},
		{"empty region", head + `{"start": "0x2000", "end": "0x2000", "type": "Heap", "state": "committed"}]}`, ErrParse},
		{"overlap", head + `{"start": "0x1000", "end": "0x3000", "type": "Heap", "state": "committed"},
			{"start": "0x2000", "end": "0x4000", "type": "Heap", "state": "committed"}]}`, ErrParse},
		{"free outside span", head + `{"start": "0x9000", "end": "0xa000", "type": "Free", "state": "free"}]}`, ErrParse},
		{"free but committed", head + `{"start": "0x1000", "end": "0x2000", "type": "Free", "state": "committed"}]}`, ErrParse},
		{"negative counter", head + `{"start": "0x1000", "end": "0x2000", "type": "Heap", "state": "committed", "rss": -1}]}`, ErrParse},
		{"reversed span", `{"schema": "zebra.vmmap/v1", "span": {"start": "0x9000", "end": "0x1000"}}`, ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tt.input))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ReadJSON error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	s := fixtureSnapshot(t, "spaces")
	var b bytes.Buffer
	if err := WriteCSV(&b, s); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	r := csv.NewReader(&b)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// One header line, no preamble: pipes and spreadsheets read it as is
	// (issue 13).
	if diff := cmp.Diff(CSVHeader, rows[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	data := rows[1:]
	if len(data) != len(s.Regions) {
		t.Fatalf("%d rows, want %d regions", len(data), len(s.Regions))
	}
	blocks := 0
	for i, row := range data {
		reg := s.Regions[i]
		if len(row) != len(CSVHeader) {
			t.Fatalf("row %d has %d fields", i, len(row))
		}
		if row[2] != reg.Type.String() || row[15] != reg.Path {
			t.Errorf("row %d: %q, region %+v", i, row, reg)
		}
		if row[12] == "1" {
			blocks++
		}
	}
	sum := Summarize(s)
	if want := sum.Total.Blocks + sum.Row(Free).Blocks; blocks != want {
		t.Errorf("Blocks column sums to %d, summary has %d", blocks, want)
	}
	if !strings.Contains(text, ",/tmp/tmp.9o1DfRXWkC/zebra fixture dir/data file (1).bin\n") {
		t.Errorf("path with spaces missing")
	}
}

// TestJSONKeepsRawBytes: names and paths that are not UTF-8 (Linux allows
// any bytes) survive WriteJSON and ReadJSON exactly, through the *Bytes
// fields; valid ones, control characters included, need none.
func TestJSONKeepsRawBytes(t *testing.T) {
	tests := []struct {
		name, text string
		wantBytes  bool
	}{
		{"plain", "/usr/lib/libc.so.6", false},
		{"escape sequences", "\x1b[2J\x1b]0;pwn\x07", false},
		{"invalid byte", "/tmp/x\xff\xfe.so", true},
		{"cut rune", "name\xe2\x98", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Snapshot{Source: "linux pid 1 (" + tt.text + ")", Command: tt.text, Span: AddrRange{0x1000, 0x3000}}
			s.Regions = []Region{{Start: 0x1000, End: 0x2000, Type: MappedFile, State: StateCommitted, Path: tt.text, Owner: tt.text},
				{Start: 0x2000, End: 0x3000, Type: Free}}
			var b bytes.Buffer
			if err := WriteJSON(&b, s); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(b.String(), `"pathBytes"`); got != tt.wantBytes {
				t.Errorf("pathBytes present: %v, want %v:\n%s", got, tt.wantBytes, b.String())
			}
			if bytes.IndexByte(b.Bytes(), 0x1b) >= 0 {
				t.Errorf("raw ESC in the JSON")
			}
			got, err := ReadJSON(&b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}
