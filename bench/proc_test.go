package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMaps(t *testing.T) {
	tests := []struct {
		name, in string
		want     []span
		bad      bool
	}{
		{"empty", "", nil, false},
		{"two", "1000-2000 rw-p 00000000 00:00 0\n3000-5000 r--p 00000000 08:01 12 /bin/x\n", []span{{0x1000, 0x2000}, {0x3000, 0x5000}}, false},
		{"no dash", "1000 rw-p\n", nil, true},
		{"not hex", "10g0-2000 rw-p\n", nil, true},
		{"empty range", "2000-2000 rw-p\n", nil, true},
		{"out of order", "3000-4000 rw-p\n1000-2000 rw-p\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMaps([]byte(tt.in))
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, want error %v", err, tt.bad)
			}
			if !tt.bad && !equalSpans(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func equalSpans(a, b []span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLargestFreed(t *testing.T) {
	tests := []struct {
		name          string
		before, after []span
		want          uint64
	}{
		{"nothing freed", []span{{0, 100}}, []span{{0, 100}}, 0},
		{"all freed", []span{{0, 100}}, nil, 100},
		{"middle freed", []span{{0, 100}}, []span{{0, 10}, {60, 100}}, 50},
		{"touching ranges merge", []span{{0, 50}, {50, 100}}, []span{{90, 100}}, 90},
		{"new mapping elsewhere", []span{{0, 100}}, []span{{200, 300}}, 100},
		{"two holes", []span{{0, 100}, {200, 400}}, []span{{0, 100}, {250, 260}}, 140},
		{"after overlaps start", []span{{100, 200}}, []span{{50, 150}}, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := largestFreed(tt.before, tt.after); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRangesHolding(t *testing.T) {
	maps := []span{{0x1000, 0x2000}, {0x2000, 0x3000}, {0x5000, 0x6000}, {0x8000, 0x9000}}
	tests := []struct {
		name  string
		addrs []uint64
		want  int
	}{
		{"none", nil, 0},
		{"merged neighbours count once", []uint64{0x1000, 0x2fff}, 1},
		{"two pieces", []uint64{0x1800, 0x5000}, 2},
		{"unmapped address", []uint64{0x4000}, 0},
		{"end is exclusive", []uint64{0x6000}, 0},
		{"all", []uint64{0x1000, 0x5800, 0x8000}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rangesHolding(maps, tt.addrs); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestProcKiB(t *testing.T) {
	f := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(f, []byte("Name:\tx\nVmHWM:\t  1234 kB\nVmRSS:\t10 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{"VmHWM": 1234, "VmRSS": 10, "Name": -1, "Missing": -1} {
		if got := procKiB(f, key); got != want {
			t.Errorf("%s: got %v, want %v", key, got, want)
		}
	}
	if got := procKiB(filepath.Join(t.TempDir(), "absent"), "VmRSS"); got != -1 {
		t.Errorf("absent file: got %v", got)
	}
}

func FuzzParseMaps(f *testing.F) {
	f.Add([]byte("1000-2000 rw-p 00000000 00:00 0\n"))
	f.Add([]byte("ffff-1 x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseMaps(b)
		if err != nil {
			return
		}
		for i, r := range s {
			if r.hi <= r.lo || (i > 0 && s[i-1].lo > r.lo) {
				t.Fatalf("bad span %v at %d", r, i)
			}
		}
		m := merge(s)
		if len(s) > 0 && (len(m) == 0 || largestFreed(s, nil) == 0) {
			t.Fatalf("merge lost ranges of %v", s)
		}
		if got := largestFreed(s, s); got != 0 {
			t.Fatalf("freed %d of nothing", got)
		}
		if strings.Count(string(b), "\n") < len(s)-1 {
			t.Fatal("more spans than lines")
		}
	})
}
