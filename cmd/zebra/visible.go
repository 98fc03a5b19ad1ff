package main

import (
	"bytes"
	"io"

	"github.com/zebra-heap/zebra/internal/visible"
	"github.com/zebra-heap/zebra/vmmap"
)

// What a process names itself and the files it maps reach the user's
// terminal only through internal/visible (vmmap's views call it, and so
// does every line here that prints a source or a path).

// writeStructured prints s as --format asks (json or csv). The bytes are
// exact for a pipe or a file; on a terminal, which a control byte in a
// process's name could clear or retitle, each line is shown through
// visible.Lines instead.
func writeStructured(stdout io.Writer, format string, s *vmmap.Snapshot) error {
	write := mapOutputs["."+format]
	if !isTerminal(stdout) {
		return write(stdout, s)
	}
	var b bytes.Buffer
	if err := write(&b, s); err != nil {
		return err
	}
	_, err := io.WriteString(stdout, visible.Lines(b.String()))
	return err
}
