package vmmap

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"strings"

	"github.com/zebra-heap/zebra/internal/units"
)

// TerminalOptions tune the terminal view. The zero value is a plain-text
// view 100 columns wide listing 10 free blocks and 4 ranges per owner.
type TerminalOptions struct {
	Color      bool // ANSI 24-bit colours (for a terminal)
	Width      int  // columns of the view, the strip with its addresses included; 100 when 0
	FreeBlocks int  // largest free blocks listed; 10 when 0
	Ranges     int  // ranges listed per owner; 4 when 0
	// StripSpan, when not empty, is the range the strip draws instead of
	// the snapshot's span (the heaps' span, where a strip of the whole
	// 128 TiB would show them as one cell). The table and the lists keep
	// the snapshot's span.
	StripSpan AddrRange
	// Explain ends the view with what its figures, owners, letters and
	// colours mean (how each system owner present was recognised, the
	// types a process of this OS can have).
	Explain bool
}

// Terminal writes the snapshot for a person at a terminal: the source and
// span, VMMap's summary table, the largest free blocks, the owners with
// their stripes and the alternation between them, and a one-line strip of
// the address space with its legend. Without colour the strip uses
// Type.Letter, lower case where memory is mostly reserved.
func Terminal(w io.Writer, s *Snapshot, o TerminalOptions) error {
	if o.Width <= 0 {
		o.Width = 100
	}
	if o.FreeBlocks <= 0 {
		o.FreeBlocks = 10
	}
	if o.Ranges <= 0 {
		o.Ranges = 4
	}
	s = Visible(s) // names and paths are the process's to choose
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }

	p("%s, taken %s\n", s.Source, s.Taken.Format("2006-01-02 15:04:05 MST"))
	p("span %v (%s)", s.Span, units.Bytes(s.Span.Size()))
	if s.VMAs > 0 {
		p(", %d VMAs", s.VMAs)
		if s.MaxMapCount > 0 {
			p(" of vm.max_map_count %d (%.2f%%)", s.MaxMapCount, 100*float64(s.VMAs)/float64(s.MaxMapCount))
		}
	}
	p("\n\n")

	sum := Summarize(s)
	p("  %-14s %11s %11s %11s %11s %7s %11s\n", "Type", "Size", "Committed", "Resident", "Private", "Blocks", "Largest")
	row := func(name string, c color.RGBA, r Row) {
		p("%s %-14s %11s %11s %11s %11s %7d %11s\n", swatch(c, o.Color), name, units.Bytes(r.Size),
			units.Bytes(r.Committed), units.Bytes(r.Resident), units.Bytes(r.Private), r.Blocks, units.Bytes(r.Largest))
	}
	for _, r := range sum.Rows {
		if r.Type != Free && r.Blocks > 0 {
			row(r.Type.String(), r.Type.Color(), r)
		}
	}
	row("Total", color.RGBA{}, sum.Total)
	row("Free", Free.Color(), sum.Row(Free))
	if !o.Explain { // said in full at the end
		p("  Committed counts towards the commit charge; Resident is the working set (RSS).\n")
	}

	free := FreeBlocks(s)
	p("\nLargest free blocks (%d of %d, within the span):\n", min(o.FreeBlocks, len(free)), len(free))
	for _, r := range free[:min(o.FreeBlocks, len(free))] {
		p("  %-36v %12s\n", AddrRange{r.Start, r.End}, units.Bytes(r.Size()))
	}

	owners := Owners(s)
	if len(owners) > 0 {
		p("\nOwners (zebra score %d; * a system owner, not a zebra heap)\n", ZebraScore(s))
		p("  %-24s %-12s %8s %11s %12s %12s\n", "Owner", "Type", "Stripes", "Alternation", "Size", "Committed")
		for _, ow := range owners {
			p("  %-24s %-12s %8d %11d %12s %12s\n", ownerLabel(ow, 24), ow.Type, ow.Stripes,
				ow.Alternation, units.Bytes(ow.Bytes), units.Bytes(ow.Committed))
			var rs []string
			for _, r := range ow.Ranges[:min(o.Ranges, len(ow.Ranges))] {
				rs = append(rs, fmt.Sprintf("%v (%s)", r, units.Bytes(r.Size())))
			}
			if more := len(ow.Ranges) - o.Ranges; more > 0 {
				rs = append(rs, fmt.Sprintf("… %d more", more))
			}
			p("%s", wrap(rs, "      ", o.Width))
		}
	}

	strip := s
	if o.StripSpan.Start < o.StripSpan.End {
		var err error
		if strip, err = s.WithSpan(o.StripSpan); err != nil {
			return err
		}
	}
	lo, hi := fmt.Sprintf("%#x ", strip.Span.Start), fmt.Sprintf(" %#x", strip.Span.End)
	p("\n%s", lo)
	if o.Color {
		p("\x1b[38;2;0;0;0m")
	}
	cells := Strip(strip, max(o.Width-len(lo)-len(hi), 1))
	for i, c := range cells {
		letter := c.Type.Letter()
		if c.Reserved {
			letter = letter | 0x20 // lower case
		}
		if o.Color && (i == 0 || c.Type != cells[i-1].Type) {
			k := c.Type.Color()
			p("\x1b[48;2;%d;%d;%dm", k.R, k.G, k.B)
		}
		b.WriteByte(letter)
	}
	if o.Color {
		p("\x1b[0m")
	}
	p("%s\n", hi)
	// The legend names the types the strip shows, wrapped to the width.
	present := map[Type]bool{}
	for _, c := range cells {
		present[c.Type] = true
	}
	line, n := "", 0
	for _, t := range Types {
		if !present[t] {
			continue
		}
		item := fmt.Sprintf("%c %s", t.Letter(), t)
		if n > 0 && n+2+len(item) > o.Width {
			p("%s\n", line)
			line, n = "", 0
		}
		if n > 0 {
			line, n = line+"  ", n+2
		}
		line, n = line+swatch(t.Color(), o.Color)+item, n+1+len(item)
	}
	p("%s\n", line)
	if o.Explain {
		explain(p, s, o.Width, o.Color)
	} else {
		p("(lower case: mostly reserved)\n")
	}
	return b.Flush()
}

// swatch is a coloured square when colour is on, otherwise nothing.
func swatch(c color.RGBA, on bool) string {
	if !on || c.A == 0 {
		return " "
	}
	return fmt.Sprintf("\x1b[48;2;%d;%d;%dm \x1b[0m", c.R, c.G, c.B)
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// wrap joins items with ", " into lines of at most width columns, each
// starting with indent (an item longer than a line gets one of its own).
func wrap(items []string, indent string, width int) string {
	words := make([]string, len(items))
	for i, it := range items {
		words[i] = it + ","
	}
	if len(words) > 0 {
		words[len(words)-1] = items[len(items)-1]
	}
	return flow(words, indent, indent, width)
}

// fill wraps text at spaces into lines of at most width columns, the
// first starting with first, the others with rest.
func fill(text, first, rest string, width int) string {
	return flow(strings.Fields(text), first, rest, width)
}

// flow joins words with spaces into lines of at most width columns, the
// first starting with first, the others with rest (a word longer than a
// line gets one of its own).
func flow(words []string, first, rest string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range words {
		w := len([]rune(word))
		switch {
		case i == 0:
			b.WriteString(first)
			n = len(first)
		case n+1+w > width:
			b.WriteString("\n" + rest)
			n = len(rest)
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += w
	}
	b.WriteByte('\n')
	return b.String()
}
