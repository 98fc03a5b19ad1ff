package vmmap

import (
	"strconv"
	"strings"
	"testing"
)

// TestClassifyAllocators: jemalloc's and mimalloc's mappings, written after
// the real captures (testdata/jemalloc, testdata/mimalloc), are attributed
// only with the library mapped, the smaps flag and the shape all present.
// Each input line is a maps line, optionally followed by " | VMFLAGS"; each
// want line is "TYPE OWNER BASE" as in TestClassifyLines.
func TestClassifyAllocators(t *testing.T) {
	const (
		jemalloc = "7f7327409000-7f73274af000 r-xp 00009000 fe:00 15630337 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
		mimalloc = "7ff7f1fb7000-7ff7f1fc6000 r-xp 00006000 fe:00 15630341 /usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0"
		jvm      = "7f7327409000-7f73274af000 r-xp 00009000 fe:00 15630338 /usr/lib/jvm/lib/server/libjvm.so"
		lib      = "Image  7f7327409000"
		mlib     = "Image  7ff7f1fb7000"
	)
	tests := []struct {
		name  string
		input []string
		want  []string
	}{
		{"jemalloc: MAP_NORESERVE runs of 2 MiB and more", []string{
			"7f731c800000-7f7320a00000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"7f7320b80000-7f7320c80000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"7f7320c80000-7f7320e00000 rw-p 00000000 00:00 0  | rd wr mr mw me nr hg",
			jemalloc,
		}, []string{"Heap jemalloc arena 7f731c800000", "Heap jemalloc arena 7f7320b80000",
			"Heap jemalloc arena 7f7320b80000", lib}},
		{"jemalloc: too small, accounted or reserved", []string{
			"7f731c800000-7f731c900000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"7f7320000000-7f7320800000 rw-p 00000000 00:00 0  | rd wr mr mw me ac",
			"7f7321000000-7f7321800000 ---p 00000000 00:00 0  | mr mw me nr",
			jemalloc,
		}, []string{"Private Data  7f731c800000", "Private Data  7f7320000000", "Private Data  7f7321000000", lib}},
		{"jemalloc: thread stacks stay stacks", []string{
			"7f7325fff000-7f7326000000 ---p 00000000 00:00 0  | mr mw me nh",
			"7f7326000000-7f7326800000 rw-p 00000000 00:00 0  | rd wr mr mw me ac nh",
			jemalloc,
		}, []string{"Stack  7f7325fff000", "Stack  7f7325fff000", lib}},
		{"jemalloc's shape without the library", []string{
			"7f731c800000-7f7320a00000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			jvm,
		}, []string{"Private Data  7f731c800000", "Image  7f7327409000"}},
		{"jemalloc's shape without smaps", []string{
			"7f731c800000-7f7320a00000 rw-p 00000000 00:00 0 ",
			jemalloc,
		}, []string{"Private Data  7f731c800000", lib}},
		{"mimalloc: whole 32 MiB segments, committed first", []string{
			"2028e000000-20291500000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"20291500000-20292000000 ---p 00000000 00:00 0  | mr mw me nr",
			"20292000000-20293500000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"20293500000-20294000000 ---p 00000000 00:00 0  | mr mw me nr",
			mimalloc,
		}, []string{"Heap mimalloc arena 2028e000000", "Heap mimalloc arena 2028e000000",
			"Heap mimalloc arena 2028e000000", "Heap mimalloc arena 2028e000000", mlib}},
		{"mimalloc: a glibc arena's shape in mimalloc's hint range", []string{
			"4f8a4000000-4f8a7500000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"4f8a7500000-4f8a8000000 ---p 00000000 00:00 0  | mr mw me nr",
			mimalloc,
		}, []string{"Heap mimalloc arena 4f8a4000000", "Heap mimalloc arena 4f8a4000000", mlib}},
		{"the same without the library is a glibc arena", []string{
			"4f8a4000000-4f8a7500000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"4f8a7500000-4f8a8000000 ---p 00000000 00:00 0  | mr mw me nr",
		}, []string{"Heap glibc arena 4f8a4000000", "Heap glibc arena 4f8a4000000"}},
		{"mimalloc: a glibc arena below the stack stays glibc's", []string{
			"7f61a0000000-7f61a0100000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"7f61a0100000-7f61a4000000 ---p 00000000 00:00 0  | mr mw me nr",
			mimalloc,
		}, []string{"Heap glibc arena 7f61a0000000", "Heap glibc arena 7f61a0000000", mlib}},
		{"mimalloc: not whole segments, or reserved first", []string{
			"2028e000000-20291500000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			"20291500000-20291600000 ---p 00000000 00:00 0  | mr mw me nr",
			"20300000000-20301000000 ---p 00000000 00:00 0  | mr mw me nr",
			"20301000000-20302000000 rw-p 00000000 00:00 0  | rd wr mr mw me nr",
			mimalloc,
		}, []string{"Private Data  2028e000000", "Private Data  20291500000",
			"Private Data  20300000000", "Private Data  20301000000", mlib}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var entries []smapsEntry
			for _, line := range tt.input {
				line, flags, _ := strings.Cut(line, " | ")
				ms, err := parseMaps(strings.NewReader(line))
				if err != nil {
					t.Fatal(err)
				}
				e := smapsEntry{mapping: ms[0], Size: ms[0].End - ms[0].Start}
				if flags != "" {
					e.Flags = strings.Fields(flags)
				}
				entries = append(entries, e)
			}
			var got []string
			for _, r := range classifyLinux(entries) {
				got = append(got, r.Type.String()+" "+r.Owner+" "+strconv.FormatUint(r.Block(), 16))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestClassifyAllocatorFixtures: real jemalloc 5.3 and mimalloc 2.0
// processes (testdata/src/allocators.c: 4 threads, 48 MiB of 300-byte
// blocks and four 8 MiB blocks) read from outside: the allocator holds
// their memory, the thread stacks are stacks, and nothing is taken for a
// glibc arena or a zebra heap.
func TestClassifyAllocatorFixtures(t *testing.T) {
	for _, tt := range []struct{ fixture, owner string }{
		{"jemalloc", JemallocOwner},
		{"mimalloc", MimallocOwner},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			checkAllocatorMap(t, fixtureSnapshot(t, tt.fixture), tt.owner)
		})
	}
}

// checkAllocatorMap checks the map of an allocators.c process linked with
// the allocator that owner names.
func checkAllocatorMap(t *testing.T, s *Snapshot, owner string) {
	t.Helper()
	var found bool
	for _, o := range Owners(s) {
		switch {
		case o.Owner == owner:
			found = true
			// 48 MiB of small blocks and 32 MiB of large ones at least;
			// less than 1 GiB: not every anonymous mapping.
			if o.Bytes < 80<<20 || o.Bytes > 1<<30 || o.Type != Heap || !o.System {
				t.Errorf("%s: %d MiB of %v, system %v; want 80 MiB to 1 GiB of Heap", owner, o.Bytes>>20, o.Type, o.System)
			}
		case o.Owner == GlibcArenaOwner || !o.System:
			t.Errorf("%s holds %d MiB: want none in a %s process", o.Owner, o.Bytes>>20, owner)
		}
	}
	if !found {
		t.Errorf("no %s in the map", owner)
	}
	stacks := 0
	for _, r := range s.Regions {
		if r.Type == Stack && r.State == StateCommitted && r.Path == "" {
			stacks++
		}
	}
	if stacks != 4 {
		t.Errorf("%d thread stacks, want 4", stacks)
	}
}
