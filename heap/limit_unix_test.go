//go:build linux || darwin

package heap

import "golang.org/x/sys/unix"

const canLimitAddressSpace = true

// limitAddressSpace is ulimit -v for this process.
func limitAddressSpace(n uint64) error {
	return unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: n, Max: n})
}
