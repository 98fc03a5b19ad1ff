package render

import (
	"fmt"

	"github.com/zebra-heap/zebra/vmmap"
)

// Report is the content of an HTML report: a title and sections, each with
// snapshots drawn side by side and optional tables of the caller's own.
//
// The demo's report has one section per scenario, each with a "before" and
// an "after" snapshot; `zebra map -o map.html` has one section with one
// snapshot.
type Report struct {
	Title    string
	Note     string // a paragraph under the title; plain text
	Sections []Section
	// Options apply to every picture. When Options.Owners is empty, the
	// report lists the zebra heaps of all its snapshots, so a heap has the
	// same shade in every picture.
	Options Options
}

// Section is one part of a report.
type Section struct {
	Caption string
	Note    string // plain text
	// Snapshots are shown side by side, each with its picture, summary
	// table, largest free blocks and owners. With exactly two, the section
	// also compares them (the second is "after") and lists vmmap.Diff.
	Snapshots []Labelled
	// Tables are free-form tables shown after the snapshots.
	Tables []Table
}

// Labelled is a snapshot with the label its column shows ("before").
type Labelled struct {
	Label    string
	Snapshot *vmmap.Snapshot
}

// Table is a free-form table of text. Cells are plain text (escaped);
// rows shorter than Header are padded.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
}

// Limits that keep a report readable with real processes.
const (
	sideBySideWidth  = 512 // default Options.Width of pictures side by side
	reportFreeBlocks = 10  // largest free blocks listed per snapshot
	reportOwners     = 20  // owners listed per snapshot
	reportChanges    = 200 // diff lines listed per section
)

// check validates the report before anything is written.
func (r Report) check() error {
	if err := r.Options.check(); err != nil {
		return err
	}
	shown := 0
	for i, s := range r.Sections {
		for j, l := range s.Snapshots {
			if l.Snapshot == nil {
				return fmt.Errorf("%w: section %d (%q), snapshot %d (%q)", ErrNilSnapshot, i, s.Caption, j, l.Label)
			}
		}
		shown += len(s.Snapshots) + len(s.Tables)
	}
	if shown == 0 {
		return fmt.Errorf("%w: %q has %d sections and no snapshot or table", ErrNoSnapshots, r.Title, len(r.Sections))
	}
	return nil
}

// owners lists the zebra heaps of every snapshot in order of first
// appearance, for consistent shades across pictures.
func (r Report) owners() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range r.Sections {
		for _, l := range s.Snapshots {
			for _, reg := range l.Snapshot.Regions {
				if isZebraHeap(reg) && !seen[reg.Owner] {
					seen[reg.Owner] = true
					out = append(out, reg.Owner)
				}
			}
		}
	}
	return out
}
