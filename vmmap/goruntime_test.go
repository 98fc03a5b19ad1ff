package vmmap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoRuntimeFixture reads the captured Go program with an executable
// that is (the test binary) or is not (a text file) a Go program: only the
// first gets the runtime's index block, the smallest summary levels cut
// off above it and the arena index below it; the vmem reservations and the
// runtime's small allocations stay Private Data either way.
func TestGoRuntimeFixture(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text, err := filepath.Abs(filepath.Join("testdata", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pid := fixtures(t)["go"]
	type at struct {
		addr  uint64
		owner string
	}
	tests := []struct {
		name string
		exe  string // where PID/exe links; "" for none, as captured
		want []at
	}{
		{"Go executable", self, []at{
			{0x7f7820400000, ""},             // vmem reservation, unnamed on this kernel
			{0x7f782153e000, ""},             // persistentalloc and other small metadata
			{0x7f7821700000, GoRuntimeOwner}, // arena index (32 MiB) and chunk index (1 MiB)
			{0x7f7823800000, GoRuntimeOwner}, // index block, reserved
			{0x7f783610b000, GoRuntimeOwner}, // a committed summary page
			{0x7f7867ca5000, GoRuntimeOwner}, // the block's top
			{0x7f7868009000, ""},             // above the 2 MiB alignment hole
			{0x7f78680cb000, GoRuntimeOwner}, // second summary level
			{0x7f786815f000, GoRuntimeOwner},
			{0x7f78681cb000, ""},
		}},
		{"not a Go executable", text, []at{
			{0x7f7821700000, ""}, {0x7f7823800000, ""}, {0x7f783610b000, ""}, {0x7f78680cb000, ""},
		}},
		{"no executable", "", []at{{0x7f7821700000, ""}, {0x7f7823800000, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", "go", "proc"))); err != nil {
				t.Fatal(err)
			}
			if tt.exe != "" {
				if err := os.Symlink(tt.exe, filepath.Join(root, pid, "exe")); err != nil {
					t.Fatal(err)
				}
			}
			s, err := NewProc(root).Snapshot(pid)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.want {
				r, ok := regionAt(s, c.addr)
				if !ok || r.Type != PrivateData || r.Owner != c.owner {
					t.Errorf("%#x: %v %q, want Private Data %q", c.addr, r.Type, r.Owner, c.owner)
				}
			}
		})
	}
}

// TestGoRuntimeShapes classifies hand-written maps of a Go program, one
// shape at a time. Each mapping is "SIZE PERMS" laid out upwards from
// 0x7f0000000000 ("hole SIZE" leaves a gap); want holds the owner of each
// mapping.
func TestGoRuntimeShapes(t *testing.T) {
	const K, M = 1 << 10, 1 << 20
	type m struct {
		size  uint64
		perms string // "" for a hole
	}
	go1096 := []m{{300 * M, "---p"}, {4 * K, "rw-p"}, {796*M - 4*K, "---p"}} // levels 2-4, scavenger index
	tests := []struct {
		name string
		maps []m
		want []string
	}{
		{"Linux 6.7+: arena index, block, hole, second level",
			append(append([]m{{33 * M, "rw-p"}}, go1096...),
				m{36 * K, ""}, m{384 * K, "rw-p"}, m{600 * K, "---p"}, m{4 * K, "rw-p"}, m{420 * K, "---p"}, m{384 * K, "rw-p"}),
			[]string{"R", "R", "R", "R", "", "R", "R", "R", ""}},
		{"older kernels: all six reservations in one span",
			[]m{{32 * M, "rw-p"}, {1097*M + 128*K, "---p"}, {4 * K, "rw-p"}},
			[]string{"R", "R", ""}},
		{"a page more than the whole block is someone else's",
			[]m{{32 * M, "rw-p"}, {1097*M + 128*K + 4*K, "---p"}},
			[]string{"", ""}},
		{"a megabyte less than the block without its smallest levels is someone else's",
			[]m{{32 * M, "rw-p"}, {1095*M - 4*K, "---p"}},
			[]string{"", ""}},
		{"a busy Go program (growheaps, Linux 6.18): pages committed through the block, other memory above it",
			[]m{{32 * M, "rw-p"}, {0x13fd3000, "---p"}, {4 * K, "rw-p"}, {0x1ffff000, "---p"}, {4 * K, "rw-p"},
				{0xe826000, "---p"}, {4 * K, "rw-p"}, {0x1d04000, "---p"}, {4 * K, "rw-p"}, {0x39f000, "---p"},
				{4 * K, "rw-p"}, {0x60000, "---p"}, {0x60000, "rw-p"}},
			[]string{"R", "R", "R", "R", "R", "R", "R", "R", "R", "R", "R", "R", ""}},
		{"a reservation below the block keeps its owner",
			append([]m{{8 * M, "---p"}}, go1096...),
			[]string{"", "R", "R", "R"}},
		{"an arena index of another size is not the runtime's",
			append([]m{{34 * M, "rw-p"}}, go1096...),
			[]string{"", "R", "R", "R"}},
		{"the smallest levels only within 4 MiB above the block",
			append(append([]m{}, go1096...), m{5 * M, ""}, m{1 * M, "---p"}),
			[]string{"R", "R", "R", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			at := uint64(0x7f0000000000)
			for _, e := range tt.maps {
				if e.perms != "" {
					lines = append(lines, fmt.Sprintf("%x-%x %s 00000000 00:00 0 ", at, at+e.size, e.perms))
				}
				at += e.size
			}
			ms, err := parseMaps(strings.NewReader(strings.Join(lines, "\n")))
			if err != nil {
				t.Fatal(err)
			}
			entries := make([]smapsEntry, len(ms))
			for i, mp := range ms {
				entries[i] = smapsEntry{mapping: mp, Size: mp.End - mp.Start}
			}
			rs := classifyLinux(entries)
			recogniseGoRuntime(rs)
			var got []string
			for _, r := range rs {
				o := ""
				if r.Owner == GoRuntimeOwner {
					o = "R"
				} else if r.Owner != "" {
					o = r.Owner
				}
				got = append(got, o)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("owners %q, want %q", got, tt.want)
			}
		})
	}
}
