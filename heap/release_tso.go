//go:build amd64 || 386

package heap

// setIdle clears a cache slot's busy mark after the goroutine's last write
// to the slot. On x86 stores become visible in program order (TSO), so a
// plain store releases the writes before it; the compiler keeps stores in
// program order. See release_weak.go for other processors.
func setIdle(busy *uint32) { *busy = 0 }
