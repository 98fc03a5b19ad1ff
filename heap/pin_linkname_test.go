//go:build !zebra_nopin

package heap

import "runtime"

// slotLimit bounds the slots pin returns: P ids.
func slotLimit() int { return runtime.GOMAXPROCS(0) }
