package timeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/zebra-heap/zebra/internal/units"
	"github.com/zebra-heap/zebra/vmmap"
)

// maxLine bounds one line (one snapshot), so a corrupt file cannot make a
// reader allocate without limit. A variable for the tests.
var maxLine = 256 << 20

// DefaultMaxBytes is the cap on a timeline's text that Options leaves at
// zero: 4 GiB, about 270 whole snapshots of a process of 60,000 mappings,
// or days of a recording stored as differences. Past it a reader stops with
// ErrTooLarge instead of decompressing on: a gzip file expands up to
// about a thousandfold, so a file of megabytes could otherwise keep a
// report busy for hours.
const DefaultMaxBytes = 4 << 30

// Options tune a Reader.
type Options struct {
	// MaxBytes caps the text read (after decompression); 0 means
	// DefaultMaxBytes.
	MaxBytes int64
}

// Reader reads a timeline one frame at a time: it holds the frame it
// returned last and the one before, whatever the length of the recording.
type Reader struct {
	br     *bufio.Reader
	file   io.Closer // the file OpenReader opened, or nil
	header Header
	v1     bool // the file is zebra.timeline/v1: no differences
	line   int  // number of the last line read

	frames int             // frames returned so far
	prev   *vmmap.Snapshot // the last frame's snapshot
	held   int             // seq of the last frame stored whole or as a difference
	taken  time.Time       // the last frame's time

	done     bool  // no more frames: EOF, the end line, a dropped line
	err      error // sticky error
	end      string
	status   *int
	dropped  string
	complete bool // the last line read ended with a newline
}

// limited counts the bytes read through it and fails past max.
type limited struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limited) Read(p []byte) (int, error) {
	// One byte past the cap at most, to tell a text of exactly max bytes
	// from a longer one; none of it is returned.
	n, err := l.r.Read(p[:min(int64(len(p)), l.max-l.n+1)])
	l.n += int64(n)
	if l.n > l.max {
		return n - int(l.n-l.max), fmt.Errorf("%w: more than %s of text (the reader's cap)", ErrTooLarge, units.Bytes(uint64(l.max)))
	}
	return n, err
}

// OpenReader opens the timeline file at path and reads its header; see
// NewReader. Close the Reader to close the file.
func OpenReader(path string, o Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, o)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.file = f
	return r, nil
}

// NewReader reads the header of a timeline, gzipped or not (recognised by
// the gzip magic), of either version. A first line that is not a
// timeline's header is an error wrapping ErrSchema, one of another version
// ErrVersion.
func NewReader(r io.Reader, o Options) (*Reader, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrParse, err)
		}
		br = bufio.NewReaderSize(&limited{r: gz, max: o.MaxBytes}, 64<<10)
	} else {
		br = bufio.NewReaderSize(&limited{r: br, max: o.MaxBytes}, 64<<10)
	}
	tr := &Reader{br: br, held: -1}
	line, err := tr.readLine()
	if len(line) == 0 && err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return nil, fmt.Errorf("%w: empty file", ErrSchema)
		case errors.Is(err, ErrTooLarge):
			return nil, err
		}
		return nil, fmt.Errorf("%w: the file ends before its first line is complete: %w", ErrParse, err)
	}
	if err := tr.parseHeader(line); err != nil {
		return nil, err
	}
	// A header without its newline, as a recorder killed at once leaves,
	// is read: the file holds no frame.
	tr.done = err != nil
	return tr, nil
}

// Header returns the timeline's header.
func (r *Reader) Header() Header { return r.header }

// Close closes the file OpenReader opened.
func (r *Reader) Close() error {
	if r.file != nil {
		return r.file.Close()
	}
	return nil
}

// Next returns the next frame, or io.EOF after the last one. A malformed
// line before the last is an error wrapping ErrParse (with its line
// number); a last line that is torn or malformed, as a killed recorder
// leaves, ends the frames as io.EOF does and is reported by Truncated. The
// frame's Snapshot is the reader's: a reference shares the one before, and
// the next difference is built from it, so do not modify it.
func (r *Reader) Next() (Frame, error) {
	for {
		if r.err != nil {
			return Frame{}, r.err
		}
		if r.done {
			return Frame{}, io.EOF
		}
		line, err := r.readLine()
		if len(line) == 0 && err != nil {
			switch {
			case errors.Is(err, io.EOF):
			case errors.Is(err, ErrTooLarge):
				r.err = fmt.Errorf("line %d: %w", r.line, err)
				return Frame{}, r.err
			default:
				// A torn gzip stream ends in ErrUnexpectedEOF: keep
				// what was decoded.
				r.dropped = fmt.Sprintf("the file is cut off after line %d (%v)", r.line-1, err)
			}
			r.done = true
			continue
		}
		if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrParse) { // past the cap, or past maxLine
			r.err = fmt.Errorf("line %d: %w", r.line, err)
			return Frame{}, r.err
		}
		f, isFrame, perr := r.parse(line)
		if perr == nil {
			// An unterminated line that parses is whole: only the
			// newline was lost. The end line ends the recording.
			r.done = err != nil || !isFrame
			if isFrame {
				return f, nil
			}
			continue
		}
		if _, more := r.br.Peek(1); more == nil {
			r.err = fmt.Errorf("line %d: %w", r.line, perr)
			return Frame{}, r.err
		}
		r.dropped = fmt.Sprintf("its last line (%d) was dropped: %v", r.line, perr)
		r.done = true
	}
}

// End returns the reason the recording ended ("exited", "done",
// "interrupted"), or "" when it has no end line; and the recorded process's
// exit status when the end line gives one. Call it after Next returned
// io.EOF.
func (r *Reader) End() (reason string, status *int) { return r.end, r.status }

// Truncated reports, after Next returned io.EOF, whether the last line was
// incomplete or unreadable and was dropped, and what was dropped and why.
func (r *Reader) Truncated() (bool, string) { return r.dropped != "", r.dropped }

// readLine returns the next line without its newline; err is nil only for
// a line that ended with a newline.
func (r *Reader) readLine() ([]byte, error) {
	r.line++
	var out []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		out = append(out, chunk...)
		if len(out) > maxLine {
			return out, fmt.Errorf("%w: line longer than %d bytes", ErrParse, maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil {
			out = out[:len(out)-1]
		}
		return out, err
	}
}

// parseHeader decodes the first line.
func (r *Reader) parseHeader(line []byte) error {
	var h jsonHeader
	if err := json.Unmarshal(line, &h); err != nil || h.Schema == "" {
		return fmt.Errorf("%w: first line %.60q", ErrSchema, line)
	}
	switch h.Schema {
	case Schema:
	case SchemaV1:
		r.v1 = true
	default:
		if !strings.HasPrefix(h.Schema, "zebra.timeline/") {
			return fmt.Errorf("%w: schema %q", ErrSchema, h.Schema)
		}
		return fmt.Errorf("%w: %q (this zebra reads %s and %s)", ErrVersion, h.Schema, SchemaV1, Schema)
	}
	if h.PID < 0 || h.PID > 1<<31-1 {
		return fmt.Errorf("%w: header: pid %d (want 0 to 2147483647)", ErrParse, h.PID)
	}
	r.header = Header{Schema: h.Schema, Source: h.Source, PID: h.PID, Started: h.Started}
	if h.SourceRaw != nil {
		r.header.Source = string(h.SourceRaw)
	}
	if h.Every != "" {
		d, err := time.ParseDuration(h.Every)
		if err != nil {
			return fmt.Errorf("%w: header: every %q: %w", ErrParse, h.Every, err)
		}
		if d <= 0 {
			return fmt.Errorf("%w: header: every %q is not a positive duration", ErrParse, h.Every)
		}
		r.header.Every = d
	}
	return nil
}

// parse decodes one line after the header: a frame (isFrame), or the end
// line.
func (r *Reader) parse(line []byte) (f Frame, isFrame bool, err error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return f, false, fmt.Errorf("%w: blank line", ErrParse)
	}
	var l jsonLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return f, false, fmt.Errorf("%w: %w", ErrParse, err)
	}
	if l.End != "" {
		switch {
		case l.End != EndExited && l.End != EndDone && l.End != EndInterrupted:
			return f, false, fmt.Errorf("%w: end %q (want %q, %q or %q)", ErrParse, l.End, EndExited, EndDone, EndInterrupted)
		case l.Status != nil && (*l.Status < 0 || *l.Status > 255):
			return f, false, fmt.Errorf("%w: exit status %d (want 0 to 255)", ErrParse, *l.Status)
		}
		r.end, r.status = l.End, l.Status
		return f, false, nil
	}
	if l.Seq == nil || *l.Seq != r.frames {
		return f, false, fmt.Errorf("%w: frame %d out of sequence", ErrParse, r.frames)
	}
	f = Frame{Seq: *l.Seq, Taken: l.Taken, Label: l.Label}
	switch {
	case f.Taken.IsZero():
		return f, false, fmt.Errorf("%w: frame %d has no time", ErrParse, f.Seq)
	case r.frames > 0 && f.Taken.Before(r.taken):
		return f, false, fmt.Errorf("%w: frame %d taken at %s, before frame %d (%s): time runs backwards",
			ErrParse, f.Seq, f.Taken.Format(time.RFC3339Nano), f.Seq-1, r.taken.Format(time.RFC3339Nano))
	}
	forms := 0
	for _, present := range []bool{l.Same != nil, len(l.Snapshot) > 0, len(l.Put) > 0 || l.Gone != nil} {
		if present {
			forms++
		}
	}
	switch {
	case forms == 0:
		return f, false, fmt.Errorf("%w: frame %d has neither snapshot, difference nor reference", ErrParse, f.Seq)
	case forms > 1:
		return f, false, fmt.Errorf("%w: frame %d is more than one of snapshot, difference and reference", ErrParse, f.Seq)
	case l.Same != nil:
		if r.prev == nil || *l.Same != r.held {
			return f, false, fmt.Errorf("%w: frame %d refers to frame %d, which is not the last frame that holds a snapshot", ErrParse, f.Seq, *l.Same)
		}
		f.Snapshot, f.Same = r.prev, true
	case len(l.Snapshot) > 0:
		s, err := vmmap.ReadJSON(bytes.NewReader(l.Snapshot))
		if err != nil {
			return f, false, fmt.Errorf("frame %d: %w", f.Seq, err)
		}
		s.Taken = l.Taken
		f.Snapshot, f.Changed = s, -1
	default:
		switch {
		case r.v1:
			return f, false, fmt.Errorf("%w: frame %d is a difference, which %s does not have", ErrParse, f.Seq, SchemaV1)
		case r.prev == nil:
			return f, false, fmt.Errorf("%w: frame %d is a difference from no frame", ErrParse, f.Seq)
		case len(l.Put) == 0:
			return f, false, fmt.Errorf("%w: frame %d is a difference without \"put\"", ErrParse, f.Seq)
		}
		s, err := vmmap.ReadJSON(bytes.NewReader(l.Put))
		if err != nil {
			return f, false, fmt.Errorf("frame %d: put: %w", f.Seq, err)
		}
		gone := make([]uint64, len(l.Gone))
		for i, a := range l.Gone {
			gone[i] = uint64(a)
		}
		changed := len(gone) + len(s.Regions)
		if s.Regions, err = applyDelta(r.prev.Regions, gone, s.Regions); err != nil {
			return f, false, fmt.Errorf("frame %d: %w", f.Seq, err)
		}
		if err := s.Validate(); err != nil {
			return f, false, fmt.Errorf("frame %d: %w", f.Seq, err)
		}
		s.Taken = l.Taken
		f.Snapshot, f.Changed = s, changed
	}
	if !f.Same {
		r.prev, r.held = f.Snapshot, f.Seq
	}
	r.frames++
	r.taken = f.Taken
	return f, true, nil
}

// Open reads the timeline file at path; see Read.
func Open(path string) (*Timeline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Read reads a whole timeline into memory with a Reader (and its default
// Options): for recordings small enough to hold, such as a demo's or a
// test's.
func Read(rd io.Reader) (*Timeline, error) {
	r, err := NewReader(rd, Options{})
	if err != nil {
		return nil, err
	}
	t := &Timeline{Header: r.Header()}
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		t.Frames = append(t.Frames, f)
	}
	t.End, t.ExitStatus = r.End()
	t.Truncated, t.Dropped = r.Truncated()
	return t, nil
}
