// Package timeline records an address space over time: a sequence of
// vmmap snapshots in one append-only file, and reads it back one frame at
// a time (Reader), so that a recording of a process of tens of thousands
// of mappings over hours is read holding two frames, not all of them.
//
// # Format
//
// A timeline is JSON Lines (one JSON object per line, UTF-8), gzipped when
// the file name ends in ".gz". The first line is the header:
//
//	{"schema":"zebra.timeline/v2","source":"linux pid 42 (prog)","pid":42,
//	 "started":"2026-12-02T14:00:00Z","every":"500ms"}
//
// Each following line is one frame, numbered from 0, in one of three
// forms:
//
//	{"seq":0,"taken":"…","snapshot":{…}}   a whole vmmap snapshot (vmmap.SchemaV1)
//	{"seq":1,"taken":"…","same":0}          unchanged since frame 0
//	{"seq":2,"taken":"…","gone":["0x7f…",…],"put":{…}}
//	                                        a difference from frame 1
//
// A difference lists in "gone" the starts of the previous frame's regions
// that vanished or changed, in address order, and holds in "put" a
// snapshot document (vmmap.SchemaV1) with the frame's own source, counts
// and span and only the regions that appeared or changed. A process of
// 60,000 mappings of which a few hundred change a second so costs a few
// hundred regions a line, not 60,000, and a reader rebuilds each frame
// from the one before it. A frame whose difference would be as large as
// the snapshot is written whole. A frame whose snapshot equals the
// previous one except for its time is a reference ("same" names the last
// frame that held a snapshot or a difference), so an idle process recorded
// for an hour stays small.
//
// A frame may carry "label": the phase of the recording it belongs to (zebra
// demo --record names each scenario so).
//
// The last line of a recording that ended normally is
//
//	{"end":"exited","at":"…","status":0}
//
// with the reason ("exited", "done", "interrupted") and, when the recorder
// started the process and saw it exit, its exit status (128+N for a
// process killed by signal N, as shells report it). A recording that was
// killed has no end line, and its last line may be torn: a reader keeps
// every complete frame before it and reports it truncated.
//
// Lines are written and flushed one at a time (the gzip stream is flushed
// after each line too), so whatever the writer had written when it died is
// readable.
//
// # Versions
//
// Version 1 (zebra.timeline/v1) has whole snapshots and references only;
// readers of this package read both versions and refuse any other with an
// error naming it (ErrVersion). Every number a file gives passes the
// checks a reading of /proc passes (vmmap.Snapshot.Validate), frame after
// frame, and the text a reader decompresses is capped (Options.MaxBytes)
// so that a small gzip file cannot keep it busy for hours.
package timeline

import (
	"errors"
	"time"

	"github.com/zebra-heap/zebra/vmmap"
)

// Schema identifies the version of the timeline format this package
// writes: version 2, whose frames may be differences. SchemaV1 is the
// version before it (whole snapshots and references), still read.
const (
	Schema   = "zebra.timeline/v2"
	SchemaV1 = "zebra.timeline/v1"
)

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

// Frame is one snapshot of a timeline. A frame that was stored as a
// reference shares the Snapshot of the frame before it (do not modify it);
// Taken is always the frame's own time.
type Frame struct {
	Seq      int
	Taken    time.Time
	Snapshot *vmmap.Snapshot
	// Same is true when the frame was stored as a reference to an earlier
	// identical snapshot.
	Same bool
	// Changed counts the regions that vanished, appeared or changed since
	// the frame before, when the frame was stored as a difference; it is
	// -1 for a frame stored whole and 0 for a reference.
	Changed int
	// Label names the phase of the recording the frame belongs to (the
	// demo's scenario), or is "".
	Label string
}

// Timeline is a whole recording as Read returns it, every frame in
// memory: for small recordings and tests. Reader reads one frame at a
// time.
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

// Errors returned by Read and Reader, wrapped with detail.
var (
	// ErrSchema is returned for a file that is not a zebra timeline: empty,
	// or a first line that is not a timeline's header.
	ErrSchema = errors.New("not a zebra timeline")
	// ErrVersion is returned for a timeline of a version this package
	// does not read (a newer zebra's); the message names the version.
	ErrVersion = errors.New("timeline version not supported")
	// ErrParse is returned for a malformed line that is not the last.
	ErrParse = errors.New("malformed timeline")
	// ErrTooLarge is returned when a timeline's text (decompressed) passes
	// the reader's cap, Options.MaxBytes.
	ErrTooLarge = errors.New("timeline too large")
)
