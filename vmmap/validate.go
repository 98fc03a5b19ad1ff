package vmmap

import "fmt"

// Validate checks the invariants every snapshot of this package keeps:
// regions are non-empty, in address order and do not overlap; their types
// and states are known; free regions are in the free state (and only they and Unusable ones) and lie within
// the span. It returns an error wrapping ErrParse that names the first
// region breaking them. Tests run it after every constructor; ReadJSON runs
// it on every document.
func (s *Snapshot) Validate() error {
	if err := s.checkRegionOrder(); err != nil {
		return err
	}
	for i, r := range s.Regions {
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
