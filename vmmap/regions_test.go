package vmmap_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/zebra-heap/zebra/vmmap"
)

func ExampleTerminalRegions() {
	s, err := vmmap.NewProc("testdata/anon/proc").Snapshot("4242")
	if err != nil {
		fmt.Println(err)
		return
	}
	// The stacks and Go heap regions, largest first, as `zebra map
	// --regions --sort size --type stack,goheap` lists them.
	err = vmmap.TerminalRegions(os.Stdout, s, vmmap.ListOptions{Sort: "size", Types: []vmmap.Type{vmmap.Stack, vmmap.GoHeap}})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// Address              Size Type         State      Committed   Resident Prot Owner / path
	// 0xc000400000       60 MiB Go heap      reserved         0 B        0 B ---p Go heap [anon: Go: heap…
	// 0xc000000000        4 MiB Go heap      committed      4 MiB      4 MiB rw-p Go heap [anon: Go: heap]
	// 0x700002601000      1 MiB Stack        committed      1 MiB     24 KiB rw-p …non:stack_and_tls:4243]
	// 0x7ffff0000000    132 KiB Stack        committed    132 KiB     16 KiB rw-p [stack]
	// 0x700002600000      4 KiB Stack        reserved         0 B        0 B ---p …non:stack_and_tls:4243]
	// 5 listed         65.1 MiB                           5.1 MiB    4.0 MiB
}

func TestParseTypeNameAndSort(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want vmmap.Type
		err  bool
	}{{"heap", vmmap.Heap, false}, {"PrivateData", vmmap.PrivateData, false}, {"mapped file", vmmap.MappedFile, false},
		{"goheap", vmmap.GoHeap, false}, {"nosuch", 0, true}} {
		got, err := vmmap.ParseTypeName(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseTypeName(%q) = %v, %v", tt.in, got, err)
		}
	}
	// The error lists only the types this OS can have (issue 13: Linux
	// was offered Unusable and Page Table).
	_, err := vmmap.ParseTypeName("nosuch")
	for _, ty := range vmmap.Types {
		name := strings.ToLower(strings.ReplaceAll(ty.String(), " ", ""))
		if want := slices.Contains(vmmap.HostTypes(), ty); strings.Contains(err.Error(), name) != want {
			t.Errorf("on %s, the error %q lists %s: %v, want %v", runtime.GOOS, err, name, !want, want)
		}
	}
	if runtime.GOOS == "linux" && slices.Contains(vmmap.HostTypes(), vmmap.Unusable) {
		t.Error("Linux has no Unusable memory")
	}
	rs := []vmmap.Region{{Start: 0, End: 10, RSS: 5}, {Start: 10, End: 30, RSS: 1}, {Start: 30, End: 35, RSS: 9}}
	for _, tt := range []struct {
		key   string
		first uint64
	}{{"addr", 0}, {"size", 10}, {"rss", 30}} {
		if err := vmmap.SortRegions(rs, tt.key); err != nil || rs[0].Start != tt.first {
			t.Errorf("SortRegions(%s): first %#x, %v; want %#x", tt.key, rs[0].Start, err, tt.first)
		}
	}
	if vmmap.SortRegions(rs, "name") == nil {
		t.Error("SortRegions accepted an unknown key")
	}
}
