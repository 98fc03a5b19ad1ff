package zebrahttp

import (
	"time"
	"unsafe"

	"github.com/zebra-heap/zebra/vmmap"
)

// The ring: the samples a Handler keeps, capped in number (Options.Keep)
// and in bytes (Options.MaxBytes).

// sample is a snapshot in the ring with its estimated size.
type sample struct {
	snap  *vmmap.Snapshot
	bytes int64
}

// snapshotBytes estimates the memory s holds: its regions' array and the
// bytes of their strings and flags (each counted, though a parser may
// share some), plus the snapshot itself. TestRingBytes checks it against
// the Go heap's growth.
func snapshotBytes(s *vmmap.Snapshot) int64 {
	const (
		region = int64(unsafe.Sizeof(vmmap.Region{}))
		str    = int64(unsafe.Sizeof(""))
	)
	n := int64(unsafe.Sizeof(*s)) + int64(len(s.Source)+len(s.Command)) + int64(cap(s.Regions))*region
	for _, r := range s.Regions {
		n += int64(len(r.Perms)+len(r.Path)+len(r.Owner)) + int64(cap(r.Flags))*str
		for _, f := range r.Flags {
			n += int64(len(f))
		}
	}
	return n
}

// Sample takes one snapshot into the ring, then drops the oldest while the
// ring holds more than Keep snapshots or more than MaxBytes (the newest
// always stays). The sampler calls it every Options.Every; each sample
// starts a new generation of the drawn pages.
func (h *Handler) Sample() error {
	h.work <- struct{}{}
	s, err := h.take()
	<-h.work
	if err != nil {
		return err
	}
	smp := sample{s, snapshotBytes(s)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ring = append(h.ring, smp)
	h.bytes += smp.bytes
	drop := 0
	for len(h.ring)-drop > 1 && (len(h.ring)-drop > h.opt.Keep || h.bytes > h.opt.MaxBytes) {
		h.bytes -= h.ring[drop].bytes
		drop++
	}
	clear(h.ring[:drop]) // no longer reachable from the array
	h.ring = h.ring[drop:]
	h.gen++
	for _, p := range h.pages {
		p.body = nil // drawn from the previous generation: freed now
	}
	return nil
}

// Ring returns the snapshots in the ring, oldest first.
func (h *Handler) Ring() []*vmmap.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*vmmap.Snapshot, len(h.ring))
	for i, s := range h.ring {
		out[i] = s.snap
	}
	return out
}

// RingBytes returns the ring's estimated size in bytes, which
// Options.MaxBytes caps.
func (h *Handler) RingBytes() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bytes
}

// sampler fills the ring until Stop. A failed snapshot is skipped (the
// next tick tries again).
func (h *Handler) sampler() {
	defer close(h.stopped)
	t := time.NewTicker(h.opt.Every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		default:
		}
		h.Sample()
		select {
		case <-t.C:
		case <-h.stop:
			return
		}
	}
}
