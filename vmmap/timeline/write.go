package timeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zebra-heap/zebra/vmmap"
)

// Writer appends frames to a timeline. It is not safe for concurrent use.
type Writer struct {
	dst  io.Writer     // where lines go: the file or the gzip stream
	gz   *gzip.Writer  // nil unless compressed
	file io.Closer     // the file Create opened, or nil
	buf  *bufio.Writer // wraps dst; flushed after each line
	seq  int
	// last is the last frame's snapshot (its regions are the caller's) and
	// lastSeq the last frame stored whole or as a difference: the next
	// frame is a difference from last, or a reference to lastSeq.
	last    *vmmap.Snapshot
	lastSeq int
	closed  bool
	label   string // written on every frame from SetLabel on
	status  *int   // the exit status written on the end line
}

// jsonHeader is the header line; Every is a Go duration string.
type jsonHeader struct {
	Schema string `json:"schema"`
	Source string `json:"source"`
	// SourceRaw is Source's exact bytes when they are not UTF-8, as
	// vmmap.SchemaV1's sourceBytes.
	SourceRaw []byte    `json:"sourceBytes,omitempty"`
	PID       int       `json:"pid,omitempty"`
	Started   time.Time `json:"started"`
	Every     string    `json:"every,omitempty"`
}

// jsonLine is any line after the header.
type jsonLine struct {
	Seq      *int            `json:"seq,omitempty"`
	Taken    time.Time       `json:"taken,omitzero"`
	Snapshot json.RawMessage `json:"snapshot,omitempty"`
	Same     *int            `json:"same,omitempty"`
	Gone     []addr          `json:"gone,omitempty"`
	Put      json.RawMessage `json:"put,omitempty"`
	Label    string          `json:"label,omitempty"`
	End      string          `json:"end,omitempty"`
	At       time.Time       `json:"at,omitzero"`
	Status   *int            `json:"status,omitempty"`
}

// NewWriter writes the header to w and returns a Writer appending frames
// after it, gzip-compressed when compress is set. h.Schema is filled in.
func NewWriter(w io.Writer, h Header, compress bool) (*Writer, error) {
	tw := &Writer{dst: w}
	if compress {
		tw.gz = gzip.NewWriter(w)
		tw.dst = tw.gz
	}
	tw.buf = bufio.NewWriterSize(tw.dst, 64<<10)
	jh := jsonHeader{Schema: Schema, Source: h.Source, PID: h.PID, Started: h.Started}
	if !utf8.ValidString(h.Source) {
		jh.SourceRaw = []byte(h.Source)
	}
	if h.Every > 0 {
		jh.Every = h.Every.String()
	}
	if err := tw.line(jh); err != nil {
		return nil, err
	}
	return tw, nil
}

// Create creates (or truncates) the file path and writes a timeline to it,
// gzipped when path ends in ".gz".
func Create(path string, h Header) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, h, strings.HasSuffix(strings.ToLower(path), ".gz"))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.file = f
	return w, nil
}

// line writes v as one line and flushes it down to the file.
func (w *Writer) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.buf.Write(b)
	w.buf.WriteByte('\n')
	if err := w.buf.Flush(); err != nil {
		return err
	}
	if w.gz != nil {
		return w.gz.Flush()
	}
	return nil
}

// Write appends s as the next frame: as a reference when it equals the
// last frame apart from its time, as a difference from the last frame when
// that is smaller than s, else whole. The Writer keeps s's region list to
// compare the next frame with, so the caller must not modify it after the
// call (snapshots are read-only once taken throughout zebra; a copy of
// 60,000 regions a frame was 5% of a recorder's CPU).
func (w *Writer) Write(s *vmmap.Snapshot) error {
	if w.closed {
		return fmt.Errorf("timeline: write after close")
	}
	seq := w.seq
	l := jsonLine{Seq: &seq, Taken: s.Taken, Label: w.label}
	var gone []uint64
	var put []vmmap.Region
	if w.last != nil {
		gone, put = diffRegions(w.last.Regions, s.Regions)
	}
	var err error
	switch {
	case w.last != nil && len(gone) == 0 && len(put) == 0 && sameHead(w.last, s):
		same := w.lastSeq
		l.Same = &same
	case w.last != nil && len(gone)+len(put) < len(s.Regions):
		d := *s
		d.Regions = put
		if l.Put, err = snapshotJSON(&d); err != nil {
			return err
		}
		l.Gone = make([]addr, len(gone))
		for i, a := range gone {
			l.Gone[i] = addr(a)
		}
	default:
		if l.Snapshot, err = snapshotJSON(s); err != nil {
			return err
		}
	}
	if err := w.line(l); err != nil {
		return err
	}
	if l.Same == nil {
		c := *s // the fields; the regions are shared
		w.last, w.lastSeq = &c, seq
	}
	w.seq++
	return nil
}

// snapshotJSON is s in the snapshot schema on one line, without its time
// (the frame's line carries it).
func snapshotJSON(s *vmmap.Snapshot) (json.RawMessage, error) {
	c := *s
	c.Taken = time.Time{}
	var b bytes.Buffer
	if err := vmmap.WriteJSONLine(&b, &c); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SetLabel names the frames written from now on (Frame.Label): a phase of
// the recording, such as the demo's scenario. "" writes no label.
func (w *Writer) SetLabel(label string) { w.label = label }

// SetExitStatus records the recorded process's exit status, written on the
// end line by Close (Timeline.ExitStatus).
func (w *Writer) SetExitStatus(code int) { w.status = &code }

// Frames returns the number of frames written so far.
func (w *Writer) Frames() int { return w.seq }

// Close writes the end line with the reason (EndExited, EndDone,
// EndInterrupted) and the exit status if one was set, finishes the gzip
// stream and closes the file Create opened.
func (w *Writer) Close(reason string) error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.line(jsonLine{End: reason, At: time.Now().UTC(), Status: w.status})
	if w.gz != nil {
		if cerr := w.gz.Close(); err == nil {
			err = cerr
		}
	}
	if w.file != nil {
		if cerr := w.file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
