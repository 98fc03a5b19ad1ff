//go:build darwin || freebsd || windows

package heap

import "github.com/zebra-heap/zebra/vmem"

// anonHugePages is Linux's AnonHugePages; other systems do not report
// transparent huge pages per mapping.
func anonHugePages([]vmem.Range) uint64 { return 0 }

func thpAlways() bool { return false }
