package vmmap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets feed arbitrary text to the parsers. They must never
// panic, and whatever they accept must classify into a snapshot that keeps
// every invariant (Validate). CI runs each for 60 s:
//
//	go test ./vmmap -run '^$' -fuzz '^FuzzParseMaps$' -fuzztime 60s -fuzzminimizetime 5s
//	go test ./vmmap -run '^$' -fuzz '^FuzzParseSmaps$' -fuzztime 60s -fuzzminimizetime 5s

func addFixtureSeeds(f *testing.F, file string) {
	for name, pid := range fixtures(f) {
		b, err := os.ReadFile(filepath.Join("testdata", name, "proc", pid, file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("1000-2000 rw-p 00000000 00:00 0 \n2000-3000 ---p 00000000 00:00 0\n"))
	f.Add([]byte("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n"))
	f.Add([]byte("0-1 r--s 0 0:0 0 [anon:x]\n"))
}

// checkAccepted runs the rest of the pipeline on what a parser accepted.
func checkAccepted(t *testing.T, entries []smapsEntry) {
	if checkOrder(entries) != nil {
		return
	}
	regions := classifyLinux(entries)
	s := &Snapshot{Regions: regions, Span: defaultSpan(regions)}
	s.Regions = fillFree(s.Regions, s.Span)
	if err := s.Validate(); err != nil {
		t.Fatalf("accepted input gives an invalid snapshot: %v", err)
	}
	Summarize(s)
	Owners(s)
	FreeBlocks(s)
	Strip(s, 80)
	if err := Terminal(&bytes.Buffer{}, s, TerminalOptions{}); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseMaps(f *testing.F) {
	addFixtureSeeds(f, "maps")
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := parseMaps(bytes.NewReader(data))
		if err != nil {
			return
		}
		var es []smapsEntry
		for _, m := range ms {
			if m.Start >= m.End {
				t.Fatalf("accepted empty mapping %+v", m)
			}
			es = append(es, smapsEntry{mapping: m})
		}
		checkAccepted(t, es)
	})
}

func FuzzParseSmaps(f *testing.F) {
	addFixtureSeeds(f, "smaps")
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := parseSmaps(bytes.NewReader(data))
		if err != nil {
			return
		}
		checkAccepted(t, es)
	})
}
