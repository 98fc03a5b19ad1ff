package vmmap

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFixtures reads each captured process through NewProc and checks the
// classification of known mappings and the snapshot's invariants.
func TestFixtures(t *testing.T) {
	type at struct {
		addr  uint64
		typ   Type
		owner string
		state State
	}
	tests := []struct {
		name    string
		source  string
		command string
		checks  []at
	}{
		{"go", "linux pid 25927 (gobin)", "gobin", []at{
			{0x400000, Image, "", StateCommitted},
			{0x5ae000, Image, "", StateCommitted},                // .bss beyond the file
			{0x1485b0000000, GoHeap, GoHeapOwner, StateReserved}, // randomised arena, reserved below the heap base
			{0x1485b3800000, GoHeap, GoHeapOwner, StateCommitted},
			{0x7f7820400000, PrivateData, "", StateCommitted}, // a vmem reservation: unnamed on this kernel
			{0x7f7820500000, PrivateData, "", StateReserved},
			{0x7f786822b000, Shareable, "", StateCommitted}, // [vvar]
			{0x7f7868231000, Image, "", StateCommitted},     // [vdso]
			{0x7ffe22b9f000, Stack, "", StateCommitted},
			{0xffffffffff600000, Image, "", StateCommitted}, // [vsyscall], outside the span
		}},
		{"arenas", "linux pid 25938 (arenas)", "arenas", []at{
			{0x55581ff9e000, Heap, "[heap]", StateCommitted},
			{0x7f6100000000, Heap, GlibcArenaOwner, StateCommitted},
			{0x7f6100050000, Heap, GlibcArenaOwner, StateReserved},
			{0x7f6110022000, Heap, GlibcArenaOwner, StateReserved},
			{0x7f610f7ff000, Stack, "", StateReserved}, // guard page
			{0x7f610f800000, Stack, "", StateCommitted},
			{0x7f6114426000, Stack, "", StateCommitted},
			{0x7f6115c51000, Image, "", StateCommitted}, // libc code
			{0x7f6115dfe000, Image, "", StateCommitted}, // libc data
			{0x7f6115e00000, Image, "", StateCommitted}, // libc .bss
			{0x7f6115e18000, PrivateData, "", StateCommitted},
		}},
		{"spaces", "linux pid 25954 (spaces)", "spaces", []at{
			{0x7fa7bd0b4000, Shareable, "", StateCommitted},  // memfd
			{0x7fa7bd2a2000, Shareable, "", StateCommitted},  // /dev/zero (deleted): shared anonymous
			{0x7fa7bd2a6000, MappedFile, "", StateCommitted}, // deleted file
			{0x7fa7bd2a9000, MappedFile, "", StateCommitted}, // path with spaces
			{0x55f7e91b6000, Image, "", StateCommitted},      // the executable's read-only head
		}},
		{"anon", "linux pid 4242 (com.example.z)", "com.example.z", []at{
			{0x5a0000214000, Image, "", StateCommitted}, // [anon:.bss] after app_process64
			{0xc000000000, GoHeap, GoHeapOwner, StateCommitted},
			{0xc000400000, GoHeap, GoHeapOwner, StateReserved},
			{0x700000000000, Heap, "heap A", StateCommitted},
			{0x700000080000, Heap, "heap A", StateReserved},
			{0x700000100000, Heap, "heap B", StateCommitted},
			{0x700001e00000, Heap, BionicMallocOwner, StateCommitted}, // Android's libc allocator: a system owner
			{0x700002600000, Stack, "", StateReserved},
			{0x700002601000, Stack, "", StateCommitted},
			{0x700002800000, Shareable, "shared ring", StateCommitted},
			{0x700002810000, Shareable, "", StateCommitted},   // memfd
			{0x700002a00000, PrivateData, "", StateCommitted}, // private hugetlb
			{0x700002c00000, MappedFile, "", StateCommitted},  // path with spaces
		}},
	}
	pids := fixtures(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			p := NewProc(filepath.Join("testdata", tt.name, "proc"))
			p.Now = func() time.Time { return when }
			s, err := p.Snapshot(pids[tt.name])
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if s.Source != tt.source || s.Command != tt.command || !s.Taken.Equal(when) {
				t.Errorf("source %q command %q taken %v, want %q %q %v", s.Source, s.Command, s.Taken, tt.source, tt.command, when)
			}
			if s.MaxMapCount != 65530 || s.Granularity != 4096 {
				t.Errorf("max_map_count %d granularity %d", s.MaxMapCount, s.Granularity)
			}
			if want := countLines(t, filepath.Join("testdata", tt.name, "proc", pids[tt.name], "maps")); s.VMAs != want {
				t.Errorf("VMAs = %d, want %d lines of maps", s.VMAs, want)
			}
			for _, c := range tt.checks {
				r, ok := regionAt(s, c.addr)
				if !ok {
					t.Errorf("%#x: no region", c.addr)
					continue
				}
				if r.Type != c.typ || r.Owner != c.owner || r.State != c.state {
					t.Errorf("%#x %s: got %v/%q/%v, want %v/%q/%v", c.addr, r.Path, r.Type, r.Owner, r.State, c.typ, c.owner, c.state)
				}
			}
			// The span runs from the lowest to the highest user mapping,
			// leaving [vsyscall] out.
			first, last := s.Regions[0], s.Regions[len(s.Regions)-1]
			if s.Span.Start != first.Start || last.Path == "[vsyscall]" && s.Span.End >= last.Start {
				t.Errorf("span %v, first region %#x, last %#x %s", s.Span, first.Start, last.Start, last.Path)
			}
		})
	}
}

func regionAt(s *Snapshot, addr uint64) (Region, bool) {
	for _, r := range s.Regions {
		if r.Start <= addr && addr < r.End {
			return r, true
		}
	}
	return Region{}, false
}

func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

// TestFixtureMetrics pins the metrics of the hand-written [anon:] fixture,
// whose answers follow from its layout: heaps A and B alternate in six
// stripes of 1, 1, 2, 2, 4, 4 MiB.
func TestFixtureMetrics(t *testing.T) {
	s, err := NewProc("testdata/anon/proc").Snapshot("4242")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		stripes, alternation int
		bytes                uint64
	}{
		"heap A": {3, 2, 7 << 20}, "heap B": {3, 2, 7 << 20},
		GoHeapOwner: {1, 0, 64 << 20}, BionicMallocOwner: {1, 0, 8 << 20}, "shared ring": {1, 0, 64 << 10},
	}
	owners := Owners(s)
	if len(owners) != len(want) {
		t.Errorf("%d owners, want %d", len(owners), len(want))
	}
	for _, o := range owners {
		w, ok := want[o.Owner]
		if !ok || o.Stripes != w.stripes || o.Alternation != w.alternation || o.Bytes != w.bytes {
			t.Errorf("owner %q: stripes %d alternation %d bytes %d, want %+v", o.Owner, o.Stripes, o.Alternation, o.Bytes, w)
		}
	}
	// A, B, A, B, A, B, shared ring: 6 changes; the Go heap below them
	// and bionic's libc_malloc between them are system owners and do not
	// count.
	if got := ZebraScore(s); got != 6 {
		t.Errorf("ZebraScore = %d, want 6", got)
	}
	for _, o := range owners {
		if want := o.Owner == GoHeapOwner || o.Owner == BionicMallocOwner; o.System != want {
			t.Errorf("owner %q: System = %v, want %v", o.Owner, o.System, want)
		}
	}
	sum := Summarize(s)
	if h := sum.Row(Heap); h.Blocks != 7 || h.Largest != 8<<20 || h.Size != 22<<20 {
		t.Errorf("Heap row %+v, want 7 blocks, largest 8 MiB, size 22 MiB", h)
	}
	if g := sum.Row(GoHeap); g.Blocks != 1 || g.Largest != 64<<20 || g.Committed != 4<<20 {
		t.Errorf("Go heap row %+v, want 1 block of 64 MiB, 4 MiB committed", g)
	}
}
