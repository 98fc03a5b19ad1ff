package main

import (
	"encoding/binary"
	"path/filepath"
	"testing"
)

func TestTraceRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t")
	if err := writeTrace(path, 10, 1000); err != nil {
		t.Fatal(err)
	}
	tr, err := readTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	if tr.slots != 10 || len(tr.ops) != 1000 {
		t.Fatalf("got %d slots, %d ops", tr.slots, len(tr.ops))
	}
	for i := range 10 {
		if tr.ops[i].slot != uint32(i) {
			t.Fatalf("op %d fills slot %d, want the slots in order first", i, tr.ops[i].slot)
		}
	}
	again := filepath.Join(t.TempDir(), "u")
	if err := writeTrace(again, 10, 1000); err != nil {
		t.Fatal(err)
	}
	tr2, err := readTrace(again)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tr.ops {
		if tr.ops[i] != tr2.ops[i] {
			t.Fatalf("op %d differs between two generations: the trace must be deterministic", i)
		}
	}
}

func TestParseTraceErrors(t *testing.T) {
	hdr := func(slots, n uint32, ops ...uint32) []byte {
		b := []byte(traceMagic)
		b = binary.LittleEndian.AppendUint32(b, slots)
		b = binary.LittleEndian.AppendUint32(b, n)
		for _, o := range ops {
			b = binary.LittleEndian.AppendUint32(b, o)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"good", hdr(2, 1, 1, 8), true},
		{"short", []byte("ZBTR"), false},
		{"bad magic", append([]byte("XXTRACE1"), make([]byte, 8)...), false},
		{"count mismatch", hdr(2, 2, 1, 8), false},
		{"slot out of range", hdr(2, 1, 2, 8), false},
		{"size too small", hdr(2, 1, 0, 7), false},
		{"size too large", hdr(2, 1, 0, 1025), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTrace(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func FuzzParseTrace(f *testing.F) {
	f.Add([]byte(traceMagic + "\x02\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x08\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := parseTrace(b)
		if err != nil {
			return
		}
		for _, o := range tr.ops {
			if o.slot >= tr.slots || o.size < churnMin || o.size > churnMax {
				t.Fatalf("op %v escaped the checks", o)
			}
		}
	})
}
