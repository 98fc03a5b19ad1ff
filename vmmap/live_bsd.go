//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package vmmap

import "fmt"

// Process is not available here: these systems have no /proc/PID/maps
// (FreeBSD's procstat and macOS's vmmap use kernel interfaces this package
// does not implement). Snapshots read elsewhere can still be loaded with
// ReadJSON.
func Process(pid int) (*Snapshot, error) {
	return nil, fmt.Errorf("pid %d: live process maps: %w", pid, ErrUnsupported)
}

// Self is not available here; see Process.
func Self() (*Snapshot, error) {
	return nil, fmt.Errorf("self: live process maps: %w", ErrUnsupported)
}

// Layout is not available here; see Process.
func Layout(pid int) (*Snapshot, error) { return Process(pid) }
