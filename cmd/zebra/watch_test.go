package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/zebra-heap/zebra/vmmap"
)

// stripRE matches the strip's line: its addresses at both ends.
var stripRE = regexp.MustCompile(`(?m)^0x[0-9a-f]+ \S+ 0x[0-9a-f]+\s*$`)

// watchFixture is the anon fixture's snapshot (heaps A and B, named by the
// kernel) and an earlier one without its last regions but the free ones,
// so that the changes list is long.
func watchFixture(t *testing.T) (earlier, now *vmmap.Snapshot) {
	t.Helper()
	now, err := vmmap.NewProc(anonFixture).Snapshot("4242")
	if err != nil {
		t.Fatal(err)
	}
	e := *now
	e.Regions = nil
	for i, r := range now.Regions {
		if r.Type != vmmap.Free && i%2 == 0 {
			e.Regions = append(e.Regions, r)
		}
	}
	return &e, now
}

// TestWatchView renders the TUI's view at several window sizes: the
// header and the key line are the first rows, it never has more rows than
// the window, the map view always shows the strip, and a window tall
// enough shows everything.
func TestWatchView(t *testing.T) {
	earlier, now := watchFixture(t)
	tests := []struct {
		name          string
		view          watchView
		width, height int
		wantCut       bool
		wantHidden    string // the last row, when whole parts are left out
	}{
		// Hidden: the owners (14 lines), source and span (2).
		{"map 100x24", viewMap, 100, 24, true, "  16 lines hidden (a taller window shows them)"},
		// The changes (15), free blocks (8), owners wrapped to 78 columns (16).
		{"map 80x20", viewMap, 80, 20, false, "  39 lines hidden (a taller window shows them)"},
		{"map 120x200", viewMap, 120, 200, false, ""},
		{"changes 100x10", viewChanges, 100, 10, true, ""},
		{"changes 100x200", viewChanges, 100, 200, false, ""},
		// The summary (11) too, and everything but the strip: cut at 20 columns.
		{"map 20x8", viewMap, 20, 8, false, "  50 lines hidden (a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := watchModel{cfg: watchConfig{target: "4242", color: "never", every: 5 * time.Second}, view: tt.view, width: tt.width, height: tt.height}
			m.st.update(earlier)
			m.st.update(now)
			screen := m.text()
			lines := strings.Split(screen, "\n")
			if len(lines) > tt.height {
				t.Errorf("%d lines in a window of %d rows:\n%s", len(lines), tt.height, screen)
			}
			head := ansi.Truncate("zebra watch · every 5s · 2 snapshots at ", tt.width, "")
			if !strings.HasPrefix(lines[0], head) || !strings.HasPrefix(lines[2], ansi.Truncate("q quit", tt.width, "")) {
				t.Errorf("the header and key line are not the first rows:\n%s", screen)
			}
			for i, l := range lines {
				if n := ansi.StringWidth(l); n > tt.width {
					t.Errorf("line %d is %d columns wide in a window of %d", i, n, tt.width)
				}
			}
			if got := lines[len(lines)-1]; tt.wantHidden != "" && got != tt.wantHidden {
				t.Errorf("last row %q, want %q:\n%s", got, tt.wantHidden, screen)
			}
			if tt.wantHidden == "" && strings.Contains(screen, "lines hidden") {
				t.Errorf("a hidden line where everything cut says so:\n%s", screen)
			}
			if tt.view == viewMap && tt.height > 8 && !stripRE.MatchString(screen) {
				t.Errorf("the strip is not on screen:\n%s", screen)
			}
			if cut := strings.Contains(screen, "more lines (a taller window"); cut != tt.wantCut {
				t.Errorf("cut = %v, want %v:\n%s", cut, tt.wantCut, screen)
			}
		})
	}
}

// TestHeapsSpan: the strip covers the zebra heaps and named owners with a
// margin when there are some, the whole span when not.
func TestHeapsSpan(t *testing.T) {
	_, named := watchFixture(t)
	anonymous := *named
	anonymous.Regions = nil
	for _, r := range named.Regions {
		r.Owner = ""
		anonymous.Regions = append(anonymous.Regions, r)
	}
	tests := []struct {
		name  string
		snap  *vmmap.Snapshot
		cover []vmmap.AddrRange // ranges the span must hold
		want  vmmap.AddrRange   // exact result, when cover is nil
	}{
		{"named heaps", named, []vmmap.AddrRange{{Start: 0x700000000000, End: 0x700002810000}}, vmmap.AddrRange{}},
		{"no owners", &anonymous, nil, vmmap.AddrRange{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := heapsSpan(tt.snap)
			if tt.cover == nil {
				if got != tt.want {
					t.Errorf("heapsSpan = %v, want %v", got, tt.want)
				}
				return
			}
			for _, c := range tt.cover {
				if got.Start > c.Start || got.End < c.End {
					t.Errorf("heapsSpan = %v does not hold %v", got, c)
				}
			}
			if got.Size() > tt.snap.Span.Size()/1000 {
				t.Errorf("heapsSpan = %v (%d bytes) is not the heaps' part of the span %v", got, got.Size(), tt.snap.Span)
			}
			if got.Start < tt.snap.Span.Start || got.End > tt.snap.Span.End {
				t.Errorf("heapsSpan = %v leaves the span %v", got, tt.snap.Span)
			}
		})
	}
}
