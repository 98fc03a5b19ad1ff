package vmmap

import (
	"fmt"
	"strings"
	"testing"
)

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
