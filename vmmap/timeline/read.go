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
	"time"

	"github.com/zebra-heap/zebra/vmmap"
)

// maxLine bounds one line (one snapshot), so a corrupt file cannot make
// Read allocate without limit.
const maxLine = 256 << 20

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

// Read reads a timeline, gzipped or not (recognised by the gzip magic). A
// last line that is incomplete or malformed, as a killed recorder leaves,
// is dropped and reported as Truncated; a malformed line before it is an
// error wrapping ErrParse, a wrong first line one wrapping ErrSchema.
func Read(r io.Reader) (*Timeline, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrParse, err)
		}
		br = bufio.NewReaderSize(gz, 64<<10)
	}
	t := &Timeline{}
	first := true
	byseq := map[int]*vmmap.Snapshot{}
	for n := 1; ; n++ {
		line, err := readLine(br)
		if len(line) == 0 && err != nil {
			switch {
			case errors.Is(err, io.EOF) && first:
				return nil, fmt.Errorf("%w: empty file", ErrSchema)
			case errors.Is(err, io.EOF):
			case first:
				return nil, fmt.Errorf("%w: the file ends before its first line is complete: %w", ErrParse, err)
			default:
				// A torn gzip stream ends in ErrUnexpectedEOF: keep
				// what was decoded.
				t.Truncated = true
				t.Dropped = fmt.Sprintf("the file is cut off after line %d (%v)", n-1, err)
			}
			break
		}
		complete := err == nil
		perr := t.parse(line, first, byseq)
		if perr != nil && first {
			return nil, perr
		}
		if perr == nil {
			first = false
			if !complete || t.End != "" {
				// An unterminated line that parses is whole: only
				// the newline was lost.
				break
			}
			continue
		}
		if _, more := br.Peek(1); more == nil {
			return nil, fmt.Errorf("line %d: %w", n, perr)
		}
		t.Truncated = true
		t.Dropped = fmt.Sprintf("its last line (%d) was dropped: %v", n, perr)
		break
	}
	return t, nil
}

// readLine returns the next line without its newline; err is nil only for
// a line that ended with a newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
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

// parse decodes one line into t.
func (t *Timeline) parse(line []byte, first bool, byseq map[int]*vmmap.Snapshot) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return fmt.Errorf("%w: blank line", ErrParse)
	}
	if first {
		var h jsonHeader
		if err := json.Unmarshal(line, &h); err != nil || h.Schema != Schema {
			return fmt.Errorf("%w: first line %.60q", ErrSchema, line)
		}
		if h.PID < 0 || h.PID > 1<<31-1 {
			return fmt.Errorf("%w: pid %d", ErrSchema, h.PID)
		}
		t.Header = Header{Schema: h.Schema, Source: h.Source, PID: h.PID, Started: h.Started}
		if h.SourceRaw != nil {
			t.Header.Source = string(h.SourceRaw)
		}
		if h.Every != "" {
			d, err := time.ParseDuration(h.Every)
			if err != nil {
				return fmt.Errorf("%w: every %q: %w", ErrSchema, h.Every, err)
			}
			if d <= 0 {
				return fmt.Errorf("%w: every %q is not a positive duration", ErrSchema, h.Every)
			}
			t.Header.Every = d
		}
		return nil
	}
	var l jsonLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return fmt.Errorf("%w: %w", ErrParse, err)
	}
	if l.End != "" {
		switch {
		case l.End != EndExited && l.End != EndDone && l.End != EndInterrupted:
			return fmt.Errorf("%w: end %q (want %q, %q or %q)", ErrParse, l.End, EndExited, EndDone, EndInterrupted)
		case l.Status != nil && (*l.Status < 0 || *l.Status > 255):
			return fmt.Errorf("%w: exit status %d (want 0 to 255)", ErrParse, *l.Status)
		}
		t.End, t.ExitStatus = l.End, l.Status
		return nil
	}
	if l.Seq == nil || *l.Seq != len(t.Frames) {
		return fmt.Errorf("%w: frame %d out of sequence", ErrParse, len(t.Frames))
	}
	f := Frame{Seq: *l.Seq, Taken: l.Taken, Label: l.Label}
	switch {
	case f.Taken.IsZero():
		return fmt.Errorf("%w: frame %d has no time", ErrParse, f.Seq)
	case len(t.Frames) > 0 && f.Taken.Before(t.Frames[len(t.Frames)-1].Taken):
		prev := t.Frames[len(t.Frames)-1]
		return fmt.Errorf("%w: frame %d taken at %s, before frame %d (%s): time runs backwards",
			ErrParse, f.Seq, f.Taken.Format(time.RFC3339Nano), prev.Seq, prev.Taken.Format(time.RFC3339Nano))
	}
	switch {
	case l.Same != nil:
		s, ok := byseq[*l.Same]
		if !ok {
			return fmt.Errorf("%w: frame %d refers to frame %d, which holds no snapshot", ErrParse, f.Seq, *l.Same)
		}
		f.Snapshot, f.Same = s, true
	case len(l.Snapshot) > 0:
		s, err := vmmap.ReadJSON(bytes.NewReader(l.Snapshot))
		if err != nil {
			return fmt.Errorf("frame %d: %w", f.Seq, err)
		}
		s.Taken = l.Taken
		byseq[f.Seq] = s
		f.Snapshot = s
	default:
		return fmt.Errorf("%w: frame %d has neither snapshot nor reference", ErrParse, f.Seq)
	}
	t.Frames = append(t.Frames, f)
	return nil
}
