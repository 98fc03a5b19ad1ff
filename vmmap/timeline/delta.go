package timeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zebra-heap/zebra/vmmap"
)

// Frames as differences. See timeline.go for the format: a delta line
// lists the starts of the previous frame's regions that are gone (removed,
// or changed) and holds the regions that are new (added, or changed) in a
// snapshot document with the frame's own counts, span and source. Applying
// it needs the previous frame alone, so a reader holds two frames at most.

// diffRegions returns what changed from prev to cur (both in address
// order): the starts of prev's regions that cur lacks or holds changed,
// and cur's regions that prev lacks or held otherwise.
func diffRegions(prev, cur []vmmap.Region) (gone []uint64, put []vmmap.Region) {
	i, j := 0, 0
	for i < len(prev) || j < len(cur) {
		switch {
		case j == len(cur) || i < len(prev) && prev[i].Start < cur[j].Start:
			gone = append(gone, prev[i].Start)
			i++
		case i == len(prev) || cur[j].Start < prev[i].Start:
			put = append(put, cur[j])
			j++
		default: // same start
			if !sameRegion(prev[i], cur[j]) {
				gone = append(gone, prev[i].Start)
				put = append(put, cur[j])
			}
			i++
			j++
		}
	}
	return gone, put
}

// sameRegion reports whether a and b are equal in every field a timeline
// stores.
func sameRegion(a, b vmmap.Region) bool {
	return a.Start == b.Start && a.End == b.End && a.Type == b.Type && a.State == b.State &&
		a.Perms == b.Perms && a.Path == b.Path && a.Owner == b.Owner && a.Base == b.Base &&
		a.Committed == b.Committed && a.RSS == b.RSS && a.PSS == b.PSS && a.Private == b.Private &&
		a.PrivateDirty == b.PrivateDirty && a.Shared == b.Shared && a.Swap == b.Swap &&
		a.AnonHuge == b.AnonHuge && slices.Equal(a.Flags, b.Flags)
}

// sameHead reports whether a and b agree in everything but their regions
// and time.
func sameHead(a, b *vmmap.Snapshot) bool {
	return a.Source == b.Source && a.PID == b.PID && a.Command == b.Command && a.Span == b.Span &&
		a.Granularity == b.Granularity && a.MaxMapCount == b.MaxMapCount && a.VMAs == b.VMAs
}

// applyDelta returns prev's regions without those starting at gone (in
// increasing order, each the start of one of prev's regions) and with put
// (in address order) merged in. The result is in address order if the
// delta was made by diffRegions; the caller validates it.
func applyDelta(prev []vmmap.Region, gone []uint64, put []vmmap.Region) ([]vmmap.Region, error) {
	for k := 1; k < len(gone); k++ {
		if gone[k] <= gone[k-1] {
			return nil, fmt.Errorf("%w: gone region %#x follows %#x: not in address order", ErrParse, gone[k], gone[k-1])
		}
	}
	if len(gone) > len(prev) {
		return nil, fmt.Errorf("%w: %d regions gone from a frame of %d", ErrParse, len(gone), len(prev))
	}
	out := make([]vmmap.Region, 0, len(prev)-len(gone)+len(put))
	g, p := 0, 0
	for _, r := range prev {
		if g < len(gone) && gone[g] < r.Start {
			break // gone[g] names no region: reported below
		}
		if g < len(gone) && gone[g] == r.Start {
			g++
			continue
		}
		for p < len(put) && put[p].Start < r.Start {
			out = append(out, put[p])
			p++
		}
		out = append(out, r)
	}
	if g < len(gone) {
		return nil, fmt.Errorf("%w: gone region %#x is not the start of one of the previous frame's regions", ErrParse, gone[g])
	}
	return append(out, put[p:]...), nil
}

// addr is an address as the snapshot schema writes it: a string of
// hexadecimal digits with a 0x prefix (JSON numbers lose bits above 2^53).
type addr uint64

func (a addr) MarshalJSON() ([]byte, error) {
	return []byte(`"0x` + strconv.FormatUint(uint64(a), 16) + `"`), nil
}

func (a *addr) UnmarshalJSON(b []byte) error {
	s, ok := strings.CutPrefix(string(b), `"0x`)
	s, ok2 := strings.CutSuffix(s, `"`)
	v, err := strconv.ParseUint(s, 16, 64)
	if !ok || !ok2 || err != nil {
		return fmt.Errorf("address %.40s is not a 0x-prefixed hexadecimal string", b)
	}
	*a = addr(v)
	return nil
}
