//go:build freebsd

package heap

import "golang.org/x/sys/unix"

const canLimitAddressSpace = true

// limitAddressSpace is ulimit -v for this process. FreeBSD's Rlimit fields
// are signed, unlike Linux's and macOS's.
func limitAddressSpace(n uint64) error {
	return unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: int64(n), Max: int64(n)})
}
