package vmmap

import "fmt"

// maxCount bounds the counts a snapshot holds (VMAs, vm.max_map_count,
// the pid): the kernel keeps them in an int, so a larger one is not a
// reading of a process.
const maxCount = 1<<31 - 1

// Validate checks the invariants every snapshot of this package keeps:
// regions are non-empty, in address order and do not overlap; their types
// and states are known; free regions are in the free state (and only they
// and Unusable ones) and lie within the span; every counter is one a
// reading of the kernel can give (resident, committed, private, shared
// and swapped memory within the region, the proportional and huge-page
// parts within the resident, private dirty within private), and the counts (VMAs,
// vm.max_map_count, pid) and the granularity are what a kernel reports. It
// returns an error wrapping ErrParse that names the first value breaking
// them. Tests run it after every constructor; ReadJSON runs it on every
// document, so a file (a snapshot, a timeline) passes the checks that a
// reading of /proc does.
func (s *Snapshot) Validate() error {
	switch {
	case s.VMAs < 0 || s.VMAs > maxCount:
		return fmt.Errorf("%w: %d VMAs (want 0 to %d)", ErrParse, s.VMAs, maxCount)
	case s.MaxMapCount < 0 || s.MaxMapCount > maxCount:
		return fmt.Errorf("%w: vm.max_map_count %d (want 0 to %d)", ErrParse, s.MaxMapCount, maxCount)
	case s.PID < 0 || s.PID > maxCount:
		return fmt.Errorf("%w: pid %d (want 0 to %d)", ErrParse, s.PID, maxCount)
	case s.Granularity&(s.Granularity-1) != 0 || s.Granularity > 1<<30:
		return fmt.Errorf("%w: granularity %d is not a power of two up to 1 GiB", ErrParse, s.Granularity)
	case s.Span.Start > s.Span.End:
		return fmt.Errorf("%w: span %v ends before it starts", ErrParse, s.Span)
	}
	if err := s.checkRegionOrder(); err != nil {
		return err
	}
	for i, r := range s.Regions {
		if err := r.checkCounters(); err != nil {
			return fmt.Errorf("%w: region %d %#x-%#x: %s", ErrParse, i, r.Start, r.End, err)
		}
		switch {
		case int(r.Type) >= len(typeNames):
			return fmt.Errorf("%w: region %d has unknown type %d", ErrParse, i, r.Type)
		case r.State > StateCommitted:
			return fmt.Errorf("%w: region %d has unknown state %d", ErrParse, i, r.State)
		case r.Type == Free && r.State != StateFree,
			r.Type != Free && r.Type != Unusable && r.State == StateFree:
			return fmt.Errorf("%w: region %d is %v but %v", ErrParse, i, r.Type, r.State)
		case r.Type == Free && (r.Start < s.Span.Start || r.End > s.Span.End):
			return fmt.Errorf("%w: free region %d %#x-%#x lies outside the span %v", ErrParse, i, r.Start, r.End, s.Span)
		}
	}
	return nil
}

// checkRegionOrder checks the part of Validate that every consumer relies
// on: regions are non-empty, in address order and do not overlap.
func (s *Snapshot) checkRegionOrder() error {
	for i, r := range s.Regions {
		switch {
		case r.Start >= r.End:
			return fmt.Errorf("%w: region %d %#x-%#x is empty", ErrParse, i, r.Start, r.End)
		case i > 0 && r.Start < s.Regions[i-1].End:
			return fmt.Errorf("%w: region %d %#x-%#x overlaps or precedes the one before (ending %#x)",
				ErrParse, i, r.Start, r.End, s.Regions[i-1].End)
		}
	}
	return nil
}

// checkCounters says which counter of r no reading of smaps (or of a
// Windows working set) can give, or returns nil.
func (r Region) checkCounters() error {
	size := r.Size()
	part := func(name string, v uint64, whole string, of uint64) error {
		if v > of {
			return fmt.Errorf("%s %d B exceeds its %s %d B", name, v, whole, of)
		}
		return nil
	}
	for _, err := range []error{
		part("resident", r.RSS, "size", size),
		part("committed", r.Committed, "size", size),
		part("swap", r.Swap, "size", size),
		part("proportional (PSS)", r.PSS, "resident", r.RSS),
		// Private and Shared are resident bytes on Linux (their sum is
		// RSS) but committed ones on Windows (VMMap's Private): both
		// lie within the region.
		part("private", r.Private, "size", size),
		part("shared", r.Shared, "size", size),
		part("private and shared", r.Private+r.Shared, "size", size), // each within size, so no overflow
		part("private dirty", r.PrivateDirty, "private", r.Private),
		part("huge-page", r.AnonHuge, "resident", r.RSS),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
