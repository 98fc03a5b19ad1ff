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
	// last is the JSON of the last stored snapshot with its time zeroed,
	// and lastSeq its frame: equal snapshots become references.
	last    []byte
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

// Write appends s as the next frame: in full, or as a reference when it
// equals the last snapshot written apart from its time.
func (w *Writer) Write(s *vmmap.Snapshot) error {
	if w.closed {
		return fmt.Errorf("timeline: write after close")
	}
	c := *s
	c.Taken = time.Time{}
	var b bytes.Buffer
	if err := vmmap.WriteJSON(&b, &c); err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b.Bytes()); err != nil {
		return err
	}
	seq := w.seq
	l := jsonLine{Seq: &seq, Taken: s.Taken, Label: w.label}
	if w.last != nil && bytes.Equal(compact.Bytes(), w.last) {
		same := w.lastSeq
		l.Same = &same
	} else {
		l.Snapshot = compact.Bytes()
		w.last, w.lastSeq = compact.Bytes(), seq
	}
	if err := w.line(l); err != nil {
		return err
	}
	w.seq++
	return nil
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
