package vmem

// osSpace is the host operating system's address space. Its primitives live
// in one file per OS (mmap_unix.go with os_linux.go, os_darwin.go and
// os_freebsd.go; os_windows.go), each implementing the prims contract in
// vmem.go.
type osSpace struct{ p prims }

var host = &osSpace{p: hostPrims{}}

// OS returns the host operating system's address space.
func OS() Space { return host }

func (s *osSpace) Name() string { return hostName }

func (s *osSpace) Caps() Caps { return s.p.caps() }

func (s *osSpace) Reserve(size uintptr, o Options) (*Reservation, error) {
	return reserve(s.p, hostName, size, o)
}
