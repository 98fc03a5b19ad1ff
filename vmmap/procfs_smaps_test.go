package vmmap

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSmaps(t *testing.T) {
	const entry = `7f0000000000-7f0000200000 rw-p 00000000 00:00 0 
Size:               2048 kB
KernelPageSize:        4 kB
Rss:                1028 kB
Pss:                 900 kB
Shared_Clean:        4 kB
Shared_Dirty:        0 kB
Private_Clean:         8 kB
Private_Dirty:      1016 kB
AnonHugePages:      1024 kB
Swap:                 12 kB
THPeligible:    1
ProtectionKey:         0
VmFlags: rd wr mr mw me ac hg 
`
	tests := []struct {
		name    string
		input   string
		want    smapsEntry
		wantN   int
		wantErr error
	}{
		{
			name:  "full entry",
			input: entry,
			wantN: 1,
			want: smapsEntry{
				mapping: mapping{0x7f0000000000, 0x7f0000200000, "rw-p", 0, ""},
				Size:    2048 << 10, RSS: 1028 << 10, PSS: 900 << 10, SharedClean: 4 << 10,
				PrivateClean: 8 << 10, PrivateDirty: 1016 << 10, AnonHuge: 1024 << 10, Swap: 12 << 10,
				Flags: []string{"rd", "wr", "mr", "mw", "me", "ac", "hg"},
			},
		},
		{name: "two entries", input: entry + entry, wantN: 2},
		{name: "header only", input: "1000-2000 r--p 00000000 00:00 0\n", wantN: 1},
		{name: "key before mapping", input: "Size: 4 kB\n" + entry, wantErr: ErrParse},
		{name: "not kB", input: "1000-2000 r--p 00000000 00:00 0\nRss: 4 MB\n", wantErr: ErrParse},
		{name: "negative", input: "1000-2000 r--p 00000000 00:00 0\nRss: -4 kB\n", wantErr: ErrParse},
		{name: "huge counter", input: "1000-2000 r--p 00000000 00:00 0\nRss: 99999999999999999999 kB\n", wantErr: ErrParse},
		{name: "overflowing counter", input: "1000-2000 r--p 00000000 00:00 0\nRss: 18014398509481984 kB\n", wantErr: ErrParse},
		{name: "bad header", input: "1000-2000 r--x 00000000 00:00 0\n", wantErr: ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSmaps(strings.NewReader(tt.input))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if len(got) != tt.wantN {
				t.Fatalf("got %d entries, want %d", len(got), tt.wantN)
			}
			if tt.want.Start != 0 {
				g, w := got[0], tt.want
				if g.mapping != w.mapping || g.Size != w.Size || g.RSS != w.RSS || g.PSS != w.PSS ||
					g.SharedClean != w.SharedClean || g.PrivateClean != w.PrivateClean ||
					g.PrivateDirty != w.PrivateDirty || g.AnonHuge != w.AnonHuge || g.Swap != w.Swap ||
					strings.Join(g.Flags, " ") != strings.Join(w.Flags, " ") {
					t.Errorf("got %+v\nwant %+v", g, w)
				}
			}
		})
	}
}
