package vmmap

import (
	"strings"
	"testing"
)

// TestMarkGoHeap marks the calling process's Go heap from the address of a
// heap object, whatever shape rule claimed its mappings before.
func TestMarkGoHeap(t *testing.T) {
	a := selfArenaBytes
	base := 64 * a // arena-aligned on every target
	reg := func(lo, hi uint64, typ Type, state State, owner string) Region {
		return Region{Start: base + lo, End: base + hi, Type: typ, State: state, Owner: owner}
	}
	tests := []struct {
		name  string
		input []Region
		addr  uint64
		want  string // 'G' for each region marked Go heap, '.' otherwise
	}{
		{"reserved, committed, reserved", []Region{
			reg(0, a/4, PrivateData, StateReserved, ""),
			reg(a/4, a/2, PrivateData, StateCommitted, ""),
			reg(a/2, a, PrivateData, StateReserved, ""),
		}, base + a/4 + 16, "GGG"},
		// The random base fell on an arena boundary: the heap starts
		// committed and the Linux rules took it for a glibc arena.
		{"shaped like a glibc arena", []Region{
			reg(0, a/8, Heap, StateCommitted, GlibcArenaOwner),
			reg(a/8, a, Heap, StateReserved, GlibcArenaOwner),
		}, base + 16, "GG"},
		{"sticking out of the arena is left alone", []Region{
			reg(0, a/2, PrivateData, StateCommitted, ""),
			reg(a/2, a, PrivateData, StateReserved, ""),
			reg(a, a+a/2, PrivateData, StateCommitted, ""),
		}, base + 16, "GG."},
		{"address in a zebra heap", []Region{
			reg(0, a, Heap, StateCommitted, "heap A"),
		}, base + 16, "."},
		{"address nowhere", []Region{
			reg(0, a, PrivateData, StateCommitted, ""),
		}, base + 2*a, "."},
		{"run smaller than an arena", []Region{
			reg(a/4, a/2, PrivateData, StateCommitted, ""),
		}, base + a/4, "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			markGoHeap(tt.input, tt.addr)
			var got strings.Builder
			for _, r := range tt.input {
				if r.Type == GoHeap && r.Owner == GoHeapOwner && r.Base == base {
					got.WriteByte('G')
				} else {
					got.WriteByte('.')
				}
			}
			if got.String() != tt.want {
				t.Errorf("marked %q, want %q", got.String(), tt.want)
			}
		})
	}
}
