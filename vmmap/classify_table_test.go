package vmmap

import (
	"strconv"
	"strings"
	"testing"
)

// TestClassifyLines classifies small hand-written maps texts, one rule at
// a time. Each want line is "TYPE OWNER BASE" for the mapping at the same
// position, with BASE the region's Block() in hexadecimal.
func TestClassifyLines(t *testing.T) {
	tests := []struct {
		name  string
		input []string // maps lines
		want  []string
	}{
		{"shared memfd", []string{
			"7f0000000000-7f0000010000 rw-s 00000000 00:01 1025 /memfd:ring (deleted)",
		}, []string{"Shareable  7f0000000000"}},
		{"private memfd", []string{
			"7f0000000000-7f0000010000 rw-p 00000000 00:01 1025 /memfd:buf (deleted)",
		}, []string{"Mapped File  7f0000000000"}},
		{"private executable memfd is JIT code", []string{
			"7f0000000000-7f0000010000 r-xp 00000000 00:01 1026 /memfd:jit (deleted)",
			"7f0000010000-7f0000020000 rw-p 00010000 00:01 1026 /memfd:jit (deleted)",
		}, []string{"Image  7f0000000000", "Image  7f0000000000"}},
		{"shared and private /dev/shm", []string{
			"7f0000000000-7f0000010000 rw-s 00000000 00:19 7 /dev/shm/a",
			"7f0000020000-7f0000030000 r--p 00000000 00:19 8 /dev/shm/b",
		}, []string{"Shareable  7f0000000000", "Mapped File  7f0000020000"}},
		{"SYSV shm", []string{
			"7f0000000000-7f0000010000 rw-s 00000000 00:01 9 /SYSV00000000 (deleted)",
		}, []string{"Shareable  7f0000000000"}},
		{".bss after the data segment", []string{
			"00400000-00401000 r-xp 00000000 fe:00 10 /bin/prog",
			"00401000-00402000 rw-p 00001000 fe:00 10 /bin/prog",
			"00402000-00404000 rw-p 00000000 00:00 0 ",
			"00404000-00405000 rw-p 00000000 00:00 0 ",
		}, []string{"Image  400000", "Image  400000", "Image  400000", "Private Data  404000"}},
		{"named .bss", []string{
			"00400000-00401000 r-xp 00000000 fe:00 10 /bin/prog",
			"00401000-00402000 rw-p 00001000 fe:00 10 /bin/prog",
			"00402000-00404000 rw-p 00000000 00:00 0 [anon:.bss]",
		}, []string{"Image  400000", "Image  400000", "Image  400000"}},
		{"no .bss after read-only image or with a gap", []string{
			"00400000-00401000 r-xp 00000000 fe:00 10 /bin/prog",
			"00401000-00402000 rw-p 00000000 00:00 0 ",
			"00410000-00411000 rw-p 00000000 00:00 0 ",
		}, []string{"Image  400000", "Private Data  401000", "Private Data  410000"}},
		{"no .bss after a mapped file", []string{
			"00400000-00401000 rw-p 00000000 fe:00 11 /data/file",
			"00401000-00402000 rw-p 00000000 00:00 0 ",
		}, []string{"Mapped File  400000", "Private Data  401000"}},
		{"bionic's libc_malloc is the system's allocator", []string{
			"700001e00000-700002600000 rw-p 00000000 00:00 0 [anon:libc_malloc]",
			"700002600000-700002700000 rw-p 00000000 00:00 0 [anon:heap A]",
		}, []string{"Heap libc_malloc 700001e00000", "Heap heap A 700002600000"}},
		{"the Go runtime's names: heap, stacks, the rest", []string{
			"c000000000-c000400000 rw-p 00000000 00:00 0 [anon: Go: heap]",
			"c000400000-c004000000 ---p 00000000 00:00 0 [anon: Go: heap reservation]",
			"7f0000000000-7f0000100000 ---p 00000000 00:00 0 [anon: Go: page summary]",
			"7f0000100000-7f0000101000 rw-p 00000000 00:00 0 [anon: Go: page summary]",
			"7f0000200000-7f0002200000 rw-p 00000000 00:00 0 [anon: Go: heap index]",
			"7f0002200000-7f0002300000 rw-p 00000000 00:00 0 [anon: Go: OS thread stack]",
			"7f0002300000-7f0002400000 rw-p 00000000 00:00 0 [anon: Go: immortal metadata]",
		}, []string{"Go heap Go heap c000000000", "Go heap Go heap c000000000",
			"Private Data Go runtime 7f0000000000", "Private Data Go runtime 7f0000000000",
			"Private Data Go runtime 7f0000200000", "Stack  7f0002200000", "Private Data Go runtime 7f0002300000"}},
		{"Go arena: reserved, committed, reserved, whole arena", []string{
			"1485b0000000-1485b3800000 ---p 00000000 00:00 0 ",
			"1485b3800000-1485b6400000 rw-p 00000000 00:00 0 ",
			"1485b6400000-1485b8000000 ---p 00000000 00:00 0 ",
		}, []string{"Go heap Go heap 1485b0000000", "Go heap Go heap 1485b0000000", "Go heap Go heap 1485b0000000"}},
		{"Go arena shape but nothing committed", []string{
			"1485b0000000-1485b3800000 ---p 00000000 00:00 0 ",
			"1485b3800000-1485b8000000 ---p 00000000 00:00 0 ",
		}, []string{"Private Data  1485b0000000", "Private Data  1485b3800000"}},
		{"Go arena shape but not whole arenas", []string{
			"1485b0000000-1485b3800000 ---p 00000000 00:00 0 ",
			"1485b3800000-1485b8400000 rw-p 00000000 00:00 0 ",
		}, []string{"Private Data  1485b0000000", "Private Data  1485b3800000"}},
		{"Go arena shape ends where the anonymous run does", []string{
			"1485b0000000-1485b3800000 ---p 00000000 00:00 0 ",
			"1485b3800000-1485b8000000 rw-p 00000000 00:00 0 ",
			"1485b8000000-1485b8001000 rw-p 00000000 00:00 0 ",
		}, []string{"Private Data  1485b0000000", "Private Data  1485b3800000", "Private Data  1485b8000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := parseMaps(strings.NewReader(strings.Join(tt.input, "\n")))
			if err != nil {
				t.Fatal(err)
			}
			entries := make([]smapsEntry, len(ms))
			for i, m := range ms {
				entries[i] = smapsEntry{mapping: m, Size: m.End - m.Start}
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
