//go:build linux

package vmmap

import (
	"os"
	"strconv"
)

// Process returns a snapshot of the live process pid, read from /proc. For
// the calling process it also attributes the regions of this process's
// reservations (vmem.Live) to their owners.
func Process(pid int) (*Snapshot, error) { return live(pid, false) }

// Self returns a snapshot of the calling process with its reservations
// attributed to their owners.
func Self() (*Snapshot, error) {
	s, err := NewProc("/proc").Snapshot("self")
	if err != nil {
		return nil, err
	}
	markGoHeap(s.Regions, goHeapAddr())
	Attribute(s, ownInfos())
	return s, nil
}

// Layout returns the layout of the live process pid: a snapshot read as
// Proc.Layout reads it, from maps without smaps counters, attributed like
// Process's.
func Layout(pid int) (*Snapshot, error) { return live(pid, true) }

// live reads pid from /proc, its layout alone if layout is set.
func live(pid int, layout bool) (*Snapshot, error) {
	p := NewProc("/proc")
	p.Layout = layout
	s, err := p.Snapshot(strconv.Itoa(pid))
	if err == nil && pid == os.Getpid() {
		markGoHeap(s.Regions, goHeapAddr())
		Attribute(s, ownInfos())
	}
	return s, err
}
