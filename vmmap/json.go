package vmmap

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SchemaV1 identifies version 1 of the JSON form of a snapshot. A reader
// refuses documents of any other schema rather than guessing.
//
// The document is one object:
//
//	schema       "zebra.vmmap/v1"
//	source       what was read: "linux pid 1234 (name)", "window win32", …
//	pid          process id; 0 or absent for an emulated window
//	command      process name, when known
//	taken        RFC 3339 time of the reading; absent when unknown (as in
//	             the frames of a timeline, whose lines carry their time)
//	span         {"start": ADDR, "end": ADDR}: the range Free is measured in
//	granularity  allocation granularity in bytes (4096 Linux, 65536 Windows)
//	maxMapCount  vm.max_map_count; 0 or absent when not applicable
//	vmas         number of kernel mappings
//	regions      array, in address order, of:
//	  start, end   ADDR, the region is [start, end)
//	  type         "Image", "Mapped File", "Shareable", "Heap", "Go heap",
//	               "Stack", "Private Data", "Page Table", "Unusable", "Free"
//	  state        "free", "reserved" or "committed"
//	  perms        "rw-p" (Linux) or "RW", "RX", … (Windows)
//	  path         file or kernel name ("[heap]", "[anon:x]"), if any
//	  owner        heap or thread that owns the region, if known
//	  base         ADDR of the allocation the region belongs to, if not start
//	  committed, rss, pss, private, privateDirty, shared, swap, anonHuge
//	               bytes (Linux: from smaps; committed is RSS there)
//	  flags        smaps VmFlags, e.g. ["rd", "wr", "mr"]
//
// ADDR is a string of hexadecimal digits with a 0x prefix, because
// addresses above 2^53 do not survive JSON numbers in most readers. Zero
// counters and empty strings are omitted.
//
// A process chooses its name and the names of the files it maps, and
// Linux allows any bytes in both, while a JSON string holds only UTF-8
// (encoders replace other bytes by U+FFFD). When source, command, path or
// owner is not valid UTF-8, the document also carries its exact bytes in
// sourceBytes, commandBytes, pathBytes or ownerBytes (base64, as JSON
// carries bytes), which ReadJSON prefers; the text field keeps the lossy
// form for readers that show it.
const SchemaV1 = "zebra.vmmap/v1"

type addr uint64

func (a addr) MarshalJSON() ([]byte, error) {
	return []byte(`"0x` + strconv.FormatUint(uint64(a), 16) + `"`), nil
}

func (a *addr) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: address %s is not a string", ErrParse, b)
	}
	h, ok := strings.CutPrefix(s, "0x")
	v, err := strconv.ParseUint(h, 16, 64)
	if !ok || err != nil {
		return fmt.Errorf("%w: address %q is not 0x-prefixed hexadecimal", ErrParse, s)
	}
	*a = addr(v)
	return nil
}

type jsonSpan struct {
	Start addr `json:"start"`
	End   addr `json:"end"`
}

type jsonSnapshot struct {
	Schema      string       `json:"schema"`
	Source      string       `json:"source"`
	PID         int          `json:"pid,omitempty"`
	Command     string       `json:"command,omitempty"`
	SourceRaw   []byte       `json:"sourceBytes,omitempty"`
	CommandRaw  []byte       `json:"commandBytes,omitempty"`
	Taken       time.Time    `json:"taken,omitzero"`
	Span        jsonSpan     `json:"span"`
	Granularity uint64       `json:"granularity"`
	MaxMapCount int          `json:"maxMapCount,omitempty"`
	VMAs        int          `json:"vmas"`
	Regions     []jsonRegion `json:"regions"`
}

type jsonRegion struct {
	Start        addr     `json:"start"`
	End          addr     `json:"end"`
	Type         string   `json:"type"`
	State        string   `json:"state"`
	Perms        string   `json:"perms,omitempty"`
	Path         string   `json:"path,omitempty"`
	Owner        string   `json:"owner,omitempty"`
	PathRaw      []byte   `json:"pathBytes,omitempty"`
	OwnerRaw     []byte   `json:"ownerBytes,omitempty"`
	Base         addr     `json:"base,omitempty"`
	Committed    uint64   `json:"committed,omitempty"`
	RSS          uint64   `json:"rss,omitempty"`
	PSS          uint64   `json:"pss,omitempty"`
	Private      uint64   `json:"private,omitempty"`
	PrivateDirty uint64   `json:"privateDirty,omitempty"`
	Shared       uint64   `json:"shared,omitempty"`
	Swap         uint64   `json:"swap,omitempty"`
	AnonHuge     uint64   `json:"anonHuge,omitempty"`
	Flags        []string `json:"flags,omitempty"`
}

// WriteJSON writes the snapshot in the SchemaV1 form, indented.
func WriteJSON(w io.Writer, s *Snapshot) error { return writeJSON(w, s, "  ") }

// WriteJSONLine writes the snapshot in the SchemaV1 form on one line, as a
// timeline stores its frames: indenting 60,000 regions and compacting them
// again cost a recorder as much as encoding them.
func WriteJSONLine(w io.Writer, s *Snapshot) error { return writeJSON(w, s, "") }

// writeJSON writes s indented by indent ("" for one line).
func writeJSON(w io.Writer, s *Snapshot, indent string) error {
	j := jsonSnapshot{
		Schema: SchemaV1, Source: s.Source, PID: s.PID, Command: s.Command, Taken: s.Taken,
		SourceRaw: rawBytes(s.Source), CommandRaw: rawBytes(s.Command),
		Span:        jsonSpan{addr(s.Span.Start), addr(s.Span.End)},
		Granularity: s.Granularity, MaxMapCount: s.MaxMapCount, VMAs: s.VMAs,
		Regions: make([]jsonRegion, len(s.Regions)),
	}
	for i, r := range s.Regions {
		j.Regions[i] = jsonRegion{
			Start: addr(r.Start), End: addr(r.End), Type: r.Type.String(), State: r.State.String(),
			Perms: r.Perms, Path: r.Path, Owner: r.Owner, Base: addr(r.Base),
			PathRaw: rawBytes(r.Path), OwnerRaw: rawBytes(r.Owner),
			Committed: r.Committed, RSS: r.RSS, PSS: r.PSS, Private: r.Private,
			PrivateDirty: r.PrivateDirty, Shared: r.Shared, Swap: r.Swap, AnonHuge: r.AnonHuge,
			Flags: r.Flags,
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", indent)
	return enc.Encode(j)
}

// ReadJSON reads a snapshot written by WriteJSON. It returns an error
// wrapping ErrSchema for a document of another schema and ErrParse for
// malformed JSON or regions that are empty, out of order or overlapping.
func ReadJSON(r io.Reader) (*Snapshot, error) {
	var j jsonSnapshot
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: snapshot JSON: %w", ErrParse, err)
	}
	if j.Schema != SchemaV1 {
		return nil, fmt.Errorf("%w: %q (this version reads %q)", ErrSchema, j.Schema, SchemaV1)
	}
	s := &Snapshot{
		Source: fromJSON(j.Source, j.SourceRaw), PID: j.PID, Command: fromJSON(j.Command, j.CommandRaw), Taken: j.Taken,
		Span:        AddrRange{uint64(j.Span.Start), uint64(j.Span.End)},
		Granularity: j.Granularity, MaxMapCount: j.MaxMapCount, VMAs: j.VMAs,
		Regions: make([]Region, len(j.Regions)),
	}
	if s.Span.Start > s.Span.End {
		return nil, fmt.Errorf("%w: span %v", ErrParse, s.Span)
	}
	for i, x := range j.Regions {
		t, err := ParseType(x.Type)
		if err != nil {
			return nil, fmt.Errorf("region %d: %w", i, err)
		}
		st, err := ParseState(x.State)
		if err != nil {
			return nil, fmt.Errorf("region %d: %w", i, err)
		}
		s.Regions[i] = Region{
			Start: uint64(x.Start), End: uint64(x.End), Type: t, State: st,
			Perms: x.Perms, Path: fromJSON(x.Path, x.PathRaw), Owner: fromJSON(x.Owner, x.OwnerRaw), Base: uint64(x.Base),
			Committed: x.Committed, RSS: x.RSS, PSS: x.PSS, Private: x.Private,
			PrivateDirty: x.PrivateDirty, Shared: x.Shared, Swap: x.Swap, AnonHuge: x.AnonHuge,
			Flags: x.Flags,
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// rawBytes is s's bytes when JSON cannot carry them as a string (s is not
// valid UTF-8), else nil: the *Bytes fields of the schema.
func rawBytes(s string) []byte {
	if utf8.ValidString(s) {
		return nil
	}
	return []byte(s)
}

// fromJSON is the string a text field and its *Bytes field stand for: the
// exact bytes when present.
func fromJSON(text string, raw []byte) string {
	if raw != nil {
		return string(raw)
	}
	return text
}
