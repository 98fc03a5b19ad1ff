package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/zebra-heap/zebra/vmmap"
)

// The terminal user interface of zebra watch, on bubbletea.

// watchView selects what the TUI shows under the header.
type watchView int

const (
	viewMap watchView = iota
	viewChanges
)

type (
	snapMsg struct {
		s   *vmmap.Snapshot
		err error
	}
	tickMsg struct{}
)

type watchModel struct {
	cfg  watchConfig
	take func() (*vmmap.Snapshot, error)
	st   watchState
	view watchView
	// width and height are the terminal's, from tea.WindowSizeMsg; 0
	// until the first one arrives.
	width, height int
	ended         string // set when the process is gone
	err           error
}

// snap takes a snapshot off the UI goroutine.
func (m watchModel) snap() tea.Cmd {
	return func() tea.Msg {
		s, err := m.take()
		return snapMsg{s, err}
	}
}

func (m watchModel) Init() tea.Cmd { return m.snap() }

func (m watchModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch msg.String() {
		case "q", "ctrl+c", "esc":
			return m, tea.Quit
		case "m", "1":
			m.view = viewMap
		case "c", "2":
			m.view = viewChanges
		case "tab":
			m.view = (m.view + 1) % 2
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case snapMsg:
		switch {
		case msg.err != nil && gone(msg.err) && m.st.cur != nil:
			m.ended = exitedLine(m.cfg.target, msg.err)
			return m, tea.Quit
		case msg.err != nil:
			m.err = msg.err
			return m, tea.Quit
		}
		m.st.update(msg.s)
		return m, tea.Tick(m.cfg.every, func(time.Time) tea.Msg { return tickMsg{} })
	case tickMsg:
		return m, m.snap()
	}
	return m, nil
}

// highlight is reverse video: the lines that changed since the last
// refresh.
func highlight(s string) string { return "\x1b[7m" + s + "\x1b[0m" }

func (m watchModel) View() tea.View {
	v := tea.NewView(m.text())
	v.AltScreen = true
	return v
}

// text is the screen's content: the header and key line on top, then the
// view, its lists cut (see fit) so that the whole fits the terminal.
func (m watchModel) text() string {
	if m.st.cur == nil {
		return "zebra watch: reading the process…\n"
	}
	width := 100
	if m.width > 20 {
		width = min(m.width-2, 200)
	}
	blocks := []viewBlock{
		{lines: textLines(m.st.header(m.cfg.every)), min: -1, prio: 0},
		{lines: []string{"q quit · m map · c changes · tab switch"}, min: -1, prio: 1},
		{lines: textLines(m.st.changes(highlight)), min: 3, prio: 4},
	}
	if m.view == viewMap {
		blocks = append(blocks, mapBlocks(m.st.mapText(m.cfg.color != "never", width))...)
	}
	var out []string
	if m.height > 0 {
		out = fit(blocks, m.height)
	} else {
		for _, b := range blocks {
			out = append(out, b.lines...)
		}
	}
	if m.width > 0 {
		for i, l := range out {
			out[i] = ansi.Truncate(l, m.width, "")
		}
	}
	return strings.Join(out, "\n")
}

// A viewBlock is a part of the screen: a list that can be cut, or a part
// (min -1) that is shown whole or not at all. Blocks get rows by prio, 0
// first.
type viewBlock struct {
	lines []string
	min   int // rows a list keeps when it is cut (its title, a line, "… more"); -1: all
	prio  int
	blank bool // preceded by a blank line when everything fits
	last  bool // a whole part placed only if rows remain after the lists grew
}

// textLines splits text into lines without the final newline's empty one.
func textLines(text string) []string {
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// mapBlocks splits vmmap.Terminal's view (parts separated by blank lines:
// source and span, the summary, the largest free blocks, the owners, the
// strip) into blocks: the strip and the summary come first, then the lists.
func mapBlocks(text string) []viewBlock {
	var out []viewBlock
	for part := range strings.SplitSeq(strings.TrimSuffix(text, "\n"), "\n\n") {
		b := viewBlock{lines: textLines(part), min: -1, blank: true}
		switch {
		case strings.HasPrefix(part, "Largest free blocks"):
			b.min, b.prio = 3, 5
		case strings.HasPrefix(part, "Owners"):
			b.min, b.prio = 4, 6
		case strings.Contains(part, "(lower case"):
			b.prio = 2 // the strip
		case strings.Contains(part, "Committed counts"):
			b.prio = 3 // the summary
		default:
			b.prio, b.last = 7, true // source and span: the header and the strip say most of it
		}
		out = append(out, b)
	}
	return out
}

// fit lays the blocks out in height rows. Everything fits: all of it, the
// parts separated by blank lines. Otherwise, by priority, each block first
// gets its minimum (a whole part only if it fits whole), then lists grow
// while rows remain, then the parts marked last are placed if they fit; a
// cut list ends with a line saying how many lines were left out, a list
// without room for its minimum is left out. When whole blocks are left
// out, the last row says how many lines are hidden, so that a small window
// never drops the summary or a list without a word.
func fit(blocks []viewBlock, height int) []string {
	out, hidden := place(blocks, height)
	if hidden == 0 || height < 2 {
		return out
	}
	out, hidden = place(blocks, height-1)
	return append(out, fmt.Sprintf("  %d lines hidden (a taller window shows them)", hidden))
}

// place is fit without the hidden line: the rows, and how many lines of
// blocks left out whole are not among them.
func place(blocks []viewBlock, height int) (out []string, hidden int) {
	total := 0
	for _, b := range blocks {
		total += len(b.lines)
		if b.blank {
			total++
		}
	}
	if total <= height {
		for _, b := range blocks {
			if b.blank {
				out = append(out, "")
			}
			out = append(out, b.lines...)
		}
		return out, 0
	}
	order := make([]int, len(blocks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return blocks[a].prio - blocks[b].prio })
	give := make([]int, len(blocks))
	left := height
	for _, i := range order {
		n := len(blocks[i].lines)
		if blocks[i].last {
			continue
		}
		if blocks[i].min >= 0 {
			n = min(blocks[i].min, n)
		}
		if n <= left {
			give[i], left = n, left-n
		}
	}
	for _, i := range order {
		if blocks[i].min < 0 || give[i] == 0 && blocks[i].min > 0 {
			continue // whole parts are placed; a list without room stays out
		}
		more := min(len(blocks[i].lines)-give[i], left)
		give[i], left = give[i]+more, left-more
	}
	for _, i := range order {
		if n := len(blocks[i].lines); blocks[i].last && n <= left {
			give[i], left = n, left-n
		}
	}
	for i, b := range blocks {
		switch n := give[i]; {
		case n == len(b.lines):
			out = append(out, b.lines...)
		case n > 0:
			out = append(out, b.lines[:n-1]...)
			out = append(out, fmt.Sprintf("  … %d more lines (a taller window shows them)", len(b.lines)-n+1))
		default:
			hidden += len(b.lines)
		}
	}
	return out, hidden
}

// watchTUI runs the interactive view on the terminal out until q, the
// process's exit or ctx's end.
func watchTUI(ctx context.Context, cfg watchConfig, take func() (*vmmap.Snapshot, error), out *os.File) error {
	p := tea.NewProgram(watchModel{cfg: cfg, take: take}, tea.WithOutput(out), tea.WithContext(ctx))
	final, err := p.Run()
	if m, ok := final.(watchModel); ok {
		if m.err != nil {
			return m.err
		}
		if m.ended != "" {
			fmt.Fprintln(out, m.ended)
		}
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
