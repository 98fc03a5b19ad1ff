// Package timeline records an address space over time: a sequence of
// vmmap snapshots in one append-only file, and reads it back.
//
// # Format
//
// A timeline is JSON Lines (one JSON object per line, UTF-8), gzipped when
// the file name ends in ".gz". The first line is the header:
//
//	{"schema":"zebra.timeline/v1","source":"linux pid 42 (prog)","pid":42,
//	 "started":"2026-12-02T14:00:00Z","every":"500ms"}
//
// Each following line is one frame, numbered from 0:
//
//	{"seq":0,"taken":"…","snapshot":{…}}   a vmmap snapshot (vmmap.SchemaV1)
//	{"seq":1,"taken":"…","same":0}          unchanged since frame 0
//
// A frame may carry "label": the phase of the recording it belongs to (zebra
// demo --record names each scenario so).
//
// A frame whose snapshot equals the previous stored one except for its time
// is written as a reference ("same" names the frame that holds the
// snapshot), so an idle process recorded for an hour stays small. The last
// line of a recording that ended normally is
//
//	{"end":"exited","at":"…","status":0}
//
// with the reason ("exited", "done", "interrupted") and, when the recorder
// started the process and saw it exit, its exit status (128+N for a
// process killed by signal N, as shells report it). A recording that was
// killed has no end line, and its last line may be torn: Read keeps every
// complete frame before it and reports Truncated.
//
// Lines are written and flushed one at a time (the gzip stream is flushed
// after each line too), so whatever the writer had written when it died is
// readable.
package timeline

import (
	"errors"
	"time"

	"github.com/zebra-heap/zebra/vmmap"
)

// Schema identifies version 1 of the timeline format. Read refuses any
// other version rather than guessing.
const Schema = "zebra.timeline/v1"

// End reasons written by Writer.Close.
const (
	EndExited      = "exited"      // the recorded process exited
	EndDone        = "done"        // the recording ran for as long as asked
	EndInterrupted = "interrupted" // the recorder was stopped (Ctrl-C, SIGTERM)
)

// Header is the first line of a timeline.
type Header struct {
	Schema  string        `json:"schema"`
	Source  string        `json:"source"`
	PID     int           `json:"pid,omitempty"`
	Started time.Time     `json:"started"`
	Every   time.Duration `json:"-"`
}

// Frame is one snapshot of a timeline. Frames that were stored as
// references share the Snapshot of the frame they refer to (do not modify
// it); Taken is always the frame's own time.
type Frame struct {
	Seq      int
	Taken    time.Time
	Snapshot *vmmap.Snapshot
	// Same is true when the frame was stored as a reference to an earlier
	// identical snapshot.
	Same bool
	// Label names the phase of the recording the frame belongs to (the
	// demo's scenario), or is "".
	Label string
}

// Timeline is a whole recording as Read returns it.
type Timeline struct {
	Header Header
	Frames []Frame
	// End is the reason the recording ended ("exited", "done",
	// "interrupted"), or "" when the recorder died before writing it.
	End string
	// ExitStatus is the recorded process's exit status when the recorder
	// started it and saw it exit, else nil.
	ExitStatus *int
	// Truncated reports that the last line was incomplete or unreadable
	// and was dropped, as after a crash or SIGKILL of the recorder; Dropped
	// says what was dropped and why, for a warning.
	Truncated bool
	Dropped   string
}

// Errors returned by Read, wrapped with detail.
var (
	// ErrSchema is returned for a file that is not a timeline of Schema.
	ErrSchema = errors.New("not a zebra timeline of schema " + Schema)
	// ErrParse is returned for a malformed line that is not the last.
	ErrParse = errors.New("malformed timeline")
)
