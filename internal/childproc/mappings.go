package childproc

import "github.com/zebra-heap/zebra/vmem"

// Mappings makes about n kernel mappings in this process and returns the
// reservations that hold them: n/2 reservations of two pages, the first
// page committed, so that each is two mappings (read-write, then
// inaccessible) that merge with no neighbour. The tests of vmmap and
// cmd/zebra point zebra at such a process to measure it at the scale of
// the incidents (tens of thousands of mappings).
func Mappings(n int) ([]*vmem.Reservation, error) {
	out := make([]*vmem.Reservation, 0, n/2)
	for range n / 2 {
		r, err := Mapping(2)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Mapping makes one reservation of pages pages with the first committed:
// two kernel mappings.
func Mapping(pages int) (*vmem.Reservation, error) {
	page := vmem.OS().Caps().Granularity
	r, err := vmem.OS().Reserve(uintptr(pages)*page, vmem.Options{})
	if err != nil {
		return nil, err
	}
	if err := r.Commit(r.Base(), page); err != nil {
		r.Release()
		return nil, err
	}
	return r, nil
}
