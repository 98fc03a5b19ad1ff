package vmmap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    mapping
		wantErr error
	}{
		{
			name:  "file",
			input: "7f2c4c000000-7f2c4c021000 r-xp 00026000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6",
			want:  mapping{0x7f2c4c000000, 0x7f2c4c021000, "r-xp", 326269, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		},
		{
			name:  "anonymous with trailing space",
			input: "7f2c4c000000-7f2c4c021000 rw-p 00000000 00:00 0 ",
			want:  mapping{0x7f2c4c000000, 0x7f2c4c021000, "rw-p", 0, ""},
		},
		{
			name:  "anonymous without trailing space",
			input: "00400000-00401000 ---p 00000000 00:00 0",
			want:  mapping{0x400000, 0x401000, "---p", 0, ""},
		},
		{
			name:  "path with spaces and parentheses",
			input: "7fa7bd2a9000-7fa7bd2ac000 rw-s 00000000 fe:00 10062002                   /tmp/zebra fixture dir/data file (1).bin",
			want:  mapping{0x7fa7bd2a9000, 0x7fa7bd2ac000, "rw-s", 10062002, "/tmp/zebra fixture dir/data file (1).bin"},
		},
		{
			name:  "deleted",
			input: "7fa7bd0b4000-7fa7bd0bc000 rw-s 00000000 00:01 1025                       /memfd:zebra-memfd (deleted)",
			want:  mapping{0x7fa7bd0b4000, 0x7fa7bd0bc000, "rw-s", 1025, "/memfd:zebra-memfd (deleted)"},
		},
		{
			name:  "vsyscall above the user half",
			input: "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
			want:  mapping{0xffffffffff600000, 0xffffffffff601000, "--xp", 0, "[vsyscall]"},
		},
		{
			name:  "anon name with spaces",
			input: "c000000000-c000400000 rw-p 00000000 00:00 0                              [anon: Go: heap]",
			want:  mapping{0xc000000000, 0xc000400000, "rw-p", 0, "[anon: Go: heap]"},
		},
		{name: "no dash", input: "7f2c4c000000 rw-p 00000000 00:00 0", wantErr: ErrParse},
		{name: "bad hex", input: "7f2c4g000000-7f2c4c021000 rw-p 00000000 00:00 0", wantErr: ErrParse},
		{name: "empty range", input: "1000-1000 rw-p 00000000 00:00 0", wantErr: ErrParse},
		{name: "reversed range", input: "2000-1000 rw-p 00000000 00:00 0", wantErr: ErrParse},
		{name: "overflowing address", input: "1-10000000000000000 rw-p 00000000 00:00 0", wantErr: ErrParse},
		{name: "short perms", input: "1000-2000 rw- 00000000 00:00 0", wantErr: ErrParse},
		{name: "bad perms", input: "1000-2000 rwxq 00000000 00:00 0", wantErr: ErrParse},
		{name: "bad offset", input: "1000-2000 rw-p zz 00:00 0", wantErr: ErrParse},
		{name: "bad device", input: "1000-2000 rw-p 00000000 0000 0", wantErr: ErrParse},
		{name: "negative inode", input: "1000-2000 rw-p 00000000 00:00 -1", wantErr: ErrParse},
		{name: "missing fields", input: "1000-2000 rw-p", wantErr: ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMapping(tt.input)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("parseMapping(%q) error = %v, want %v", tt.input, err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(mapping{})); diff != "" {
				t.Errorf("parseMapping(%q) (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

func TestParseMapsErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    int
		wantErr error
	}{
		{name: "empty", input: "", want: 0},
		{name: "blank lines", input: "\n1000-2000 rw-p 00000000 00:00 0\n\n", want: 1},
		{name: "bad second line", input: "1000-2000 rw-p 00000000 00:00 0\nnonsense\n", wantErr: ErrParse},
		{name: "line too long", input: "1000-2000 rw-p 00000000 00:00 0 /" + strings.Repeat("x", maxLine), wantErr: ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMaps(strings.NewReader(tt.input))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && len(got) != tt.want {
				t.Errorf("got %d mappings, want %d", len(got), tt.want)
			}
		})
	}
}

// fixtures lists the procfs roots under testdata with their one pid.
func fixtures(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"go", "arenas", "spaces", "anon", "jvm", "jemalloc", "mimalloc"} {
		ents, err := os.ReadDir(filepath.Join("testdata", name, "proc"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() != "sys" {
				out[name] = e.Name()
			}
		}
	}
	return out
}

// TestMapsMatchesSmaps checks, on every fixture, that the maps parser and
// the smaps parser see the same mappings.
func TestMapsMatchesSmaps(t *testing.T) {
	for name, pid := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name, "proc", pid)
			mf, err := os.Open(filepath.Join(dir, "maps"))
			if err != nil {
				t.Fatal(err)
			}
			defer mf.Close()
			sf, err := os.Open(filepath.Join(dir, "smaps"))
			if err != nil {
				t.Fatal(err)
			}
			defer sf.Close()
			maps, err := parseMaps(mf)
			if err != nil {
				t.Fatal(err)
			}
			smaps, err := parseSmaps(sf)
			if err != nil {
				t.Fatal(err)
			}
			var fromSmaps []mapping
			for _, e := range smaps {
				fromSmaps = append(fromSmaps, e.mapping)
				if e.Size != e.End-e.Start {
					t.Errorf("%#x: Size %d, want %d", e.Start, e.Size, e.End-e.Start)
				}
				if e.RSS > e.Size || e.PrivateClean+e.PrivateDirty > e.RSS {
					t.Errorf("%#x: RSS %d, private %d, size %d", e.Start, e.RSS, e.PrivateClean+e.PrivateDirty, e.Size)
				}
				if len(e.Flags) == 0 {
					t.Errorf("%#x: no VmFlags", e.Start)
				}
			}
			if diff := cmp.Diff(maps, fromSmaps, cmp.AllowUnexported(mapping{})); diff != "" {
				t.Errorf("maps and smaps differ (-maps +smaps):\n%s", diff)
			}
		})
	}
}
