package vmmap

import "errors"

// Errors returned by this package. Every error it returns wraps one of these
// (or an error of the operating system), so callers can test with errors.Is.
var (
	// Reading a live process.

	// ErrNoProcess is returned when the process does not exist.
	ErrNoProcess = errors.New("no such process")
	// ErrPermission is returned when the caller may not read the process's
	// memory map (another user's process without CAP_SYS_PTRACE, or a
	// protected process on Windows).
	ErrPermission = errors.New("permission denied")
	// ErrExited is returned when the process exited while it was being
	// read, or is a zombie whose address space is already gone.
	ErrExited = errors.New("process exited")
	// ErrNoAddressSpace is returned for a process that has no user
	// address space at all, such as a Linux kernel thread.
	ErrNoAddressSpace = errors.New("process has no user address space")
	// ErrUnsupported is returned when a source is not available on this
	// operating system (live processes on macOS and the BSDs).
	ErrUnsupported = errors.New("not supported on this system")

	// Parsing text.

	// ErrParse is returned for malformed maps or smaps text, JSON or CSV.
	ErrParse = errors.New("malformed input")
	// ErrSchema is returned by ReadJSON for a document that is not a
	// zebra snapshot or has a schema version this package does not know.
	ErrSchema = errors.New("unknown snapshot schema")
	// ErrRange is returned for an address range that is malformed or
	// empty (LO >= HI).
	ErrRange = errors.New("invalid address range")
)
