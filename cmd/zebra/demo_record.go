package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// zebra demo --record FILE: a timeline of every scenario as its heaps grow,
// for `zebra report`. The demo calls the hooks below; a nil *demoRecorder
// (no --record) does nothing.

// demoFrames is about how many snapshots each scenario's growth is
// recorded in.
const demoFrames = 100

type demoRecorder struct {
	path  string
	w     *timeline.Writer
	every uint64 // bytes allocated between two snapshots
	err   error  // the first failure; reported by close
}

// openDemoRecord starts the timeline at path, or returns nil when path is
// empty.
func openDemoRecord(path string, c demoConfig) (*demoRecorder, error) {
	if path == "" {
		return nil, nil
	}
	w, err := timeline.Create(path, timeline.Header{Source: "zebra demo (" + c.space + ")", Started: time.Now()})
	if err != nil {
		return nil, err
	}
	return &demoRecorder{path: path, w: w, every: max(c.total*uint64(c.heaps)/demoFrames, 1)}, nil
}

// watch wraps a scenario's progress function so that a snapshot of the
// arena is recorded every r.every bytes, the first at the first call; the
// frames from now on carry the scenario's name as their label.
func (r *demoRecorder) watch(a arena, scenario string, next progressFunc) progressFunc {
	if r == nil {
		return next
	}
	r.w.SetLabel(scenario)
	due := uint64(0)
	return func(held uint64) {
		if held >= due {
			r.snap(a)
			due = held + r.every
		}
		if next != nil {
			next(held)
		}
	}
}

// snap records one snapshot of the arena.
func (r *demoRecorder) snap(a arena) {
	if r == nil || r.err != nil {
		return
	}
	s, err := a.snapshot()
	if err == nil {
		err = r.w.Write(s)
	}
	r.err = err
}

// close ends the timeline and says where it is.
func (r *demoRecorder) close(stdout io.Writer) error {
	if r == nil {
		return nil
	}
	err := errors.Join(r.err, r.w.Close(timeline.EndDone))
	if err != nil {
		return fmt.Errorf("--record %s: %w", r.path, err)
	}
	fmt.Fprintf(stdout, "timeline: %s (%d snapshots; zebra report %s -o timeline.html)\n", r.path, r.w.Frames(), r.path)
	return nil
}
