package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"

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
	cfg   watchConfig
	take  func() (*vmmap.Snapshot, error)
	st    watchState
	view  watchView
	width int
	ended string // set when the process is gone
	err   error
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
		m.width = msg.Width
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

// text is the screen's content.
func (m watchModel) text() string {
	if m.st.cur == nil {
		return "zebra watch: reading the process…\n"
	}
	keys := "q quit · m map · c changes · tab switch\n"
	width := 100
	if m.width > 20 {
		width = min(m.width-2, 200)
	}
	if m.view == viewChanges {
		return m.st.header() + keys + m.st.changes(highlight)
	}
	return m.st.header() + keys + m.st.changes(highlight) + m.st.mapText(m.cfg.color != "never", width)
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
