package main

import (
	"io"

	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// heldFrames is a frameSource over a timeline in memory: the tests build
// timelines frame by frame.
type heldFrames struct {
	t    *timeline.Timeline
	next int
}

func framesOf(t *timeline.Timeline) *heldFrames { return &heldFrames{t: t} }
func (h *heldFrames) Header() timeline.Header   { return h.t.Header }
func (h *heldFrames) End() (string, *int)       { return h.t.End, h.t.ExitStatus }
func (h *heldFrames) Truncated() (bool, string) { return h.t.Truncated, h.t.Dropped }
func (h *heldFrames) Next() (timeline.Frame, error) {
	if h.next == len(h.t.Frames) {
		return timeline.Frame{}, io.EOF
	}
	h.next++
	return h.t.Frames[h.next-1], nil
}

// writeTimelineHTML renders the frames of src (see timelineView) and
// returns their number.
func writeTimelineHTML(w io.Writer, name string, src frameSource, maxData int) (int, error) {
	v, frames, err := timelineView(name, src, maxData)
	if err != nil {
		return 0, err
	}
	return frames, timelineTemplate.Execute(w, v)
}

// writePage renders tl with the default bound on the page's region data.
func writePage(w io.Writer, name string, tl *timeline.Timeline) error {
	_, err := writeTimelineHTML(w, name, framesOf(tl), reportMaxData)
	return err
}
