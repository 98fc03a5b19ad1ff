package vmmap

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/zebra-heap/zebra/internal/units"
)

// Region lists: the per-mapping view of pmap -X and VMMap's lower pane.

// SortKeys are the orders SortRegions knows: by address (the map's own
// order), by size or by resident memory, the largest first.
var SortKeys = []string{"addr", "size", "rss"}

// SortRegions sorts rs in place by key (one of SortKeys). Ties keep
// address order.
func SortRegions(rs []Region, key string) error {
	var by func(a, b Region) int
	switch key {
	case "addr":
		by = func(a, b Region) int { return cmp.Compare(a.Start, b.Start) }
	case "size":
		by = func(a, b Region) int { return cmp.Compare(b.Size(), a.Size()) }
	case "rss":
		by = func(a, b Region) int { return cmp.Compare(b.RSS, a.RSS) }
	default:
		return fmt.Errorf("unknown sort key %q (want %s)", key, strings.Join(SortKeys, ", "))
	}
	slices.SortStableFunc(rs, by)
	return nil
}

// ParseTypeName reads a type as people type it on a command line: any
// case, with or without spaces ("heap", "privatedata", "Mapped File"). Its
// error lists the types this OS can have (HostTypes).
func ParseTypeName(s string) (Type, error) {
	norm := func(x string) string { return strings.ToLower(strings.ReplaceAll(x, " ", "")) }
	for _, t := range Types {
		if norm(t.String()) == norm(s) {
			return t, nil
		}
	}
	var names []string
	for _, t := range HostTypes() {
		names = append(names, norm(t.String()))
	}
	return 0, fmt.Errorf("%w: unknown region type %q (want %s)", ErrParse, s, strings.Join(names, ", "))
}

// ListOptions select and order the regions of a list.
type ListOptions struct {
	Sort  string // one of SortKeys; "addr" when empty
	Types []Type // only regions of these types; all but Free when empty
	Width int    // columns; 100 when 0
}

// ListRegions returns the regions of s inside its span that o selects, in
// o's order.
func ListRegions(s *Snapshot, o ListOptions) ([]Region, error) {
	var out []Region
	for _, r := range s.Regions {
		if !s.inSpan(r) {
			continue
		}
		if len(o.Types) == 0 && r.Type == Free || len(o.Types) > 0 && !slices.Contains(o.Types, r.Type) {
			continue
		}
		out = append(out, r)
	}
	key := o.Sort
	if key == "" {
		key = "addr"
	}
	return out, SortRegions(out, key)
}

// TerminalRegions writes the regions o selects, one line each: address,
// size, type, state, committed, resident, protection and the owner or
// path, clipped to fit o.Width. Totals of the listed regions end it.
func TerminalRegions(w io.Writer, s *Snapshot, o ListOptions) error {
	rs, err := ListRegions(Visible(s), o) // paths and owners are the process's to choose
	if err != nil {
		return err
	}
	if o.Width <= 0 {
		o.Width = 100
	}
	b := bufio.NewWriter(w)
	const format = "%-14s %10s %-12s %-9s %10s %10s %-4s %s"
	fixed := len(fmt.Sprintf(format, "", "", "", "", "", "", "", ""))
	line := func(a ...any) { fmt.Fprintln(b, strings.TrimRight(fmt.Sprintf(format, a...), " ")) }
	line("Address", "Size", "Type", "State", "Committed", "Resident", "Prot", "Owner / path")
	var size, committed, resident uint64
	for _, r := range rs {
		// A path keeps its end, which names the file; an owner its start.
		room := max(o.Width-fixed, 8)
		who := clipLeft(r.Path, room)
		if r.Owner != "" && r.Owner != r.Path {
			who = clipText(strings.TrimSpace(r.Owner+" "+r.Path), room)
		}
		line(fmt.Sprintf("%#x", r.Start), units.Bytes(r.Size()), clipText(r.Type.String(), 12),
			r.State, units.Bytes(r.Committed), units.Bytes(r.RSS), r.Perms, who)
		size, committed, resident = size+r.Size(), committed+r.Committed, resident+r.RSS
	}
	line(fmt.Sprintf("%d listed", len(rs)), units.Bytes(size), "", "",
		units.Bytes(committed), units.Bytes(resident), "", "")
	return b.Flush()
}

// clipLeft shortens s to n runes from the left: the end of a path names
// the file.
func clipLeft(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
