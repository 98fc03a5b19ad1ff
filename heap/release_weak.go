//go:build !(amd64 || 386)

package heap

import "sync/atomic"

// setIdle clears a cache slot's busy mark after the goroutine's last write
// to the slot, with a release store: on weakly ordered processors (arm64,
// riscv64, ...) a plain store could become visible before the writes to
// the magazine it follows, and closeGate would drain a magazine still
// being written. See release_tso.go.
func setIdle(busy *uint32) { atomic.StoreUint32(busy, 0) }
