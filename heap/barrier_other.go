//go:build !linux

package heap

import "runtime"

// processBarrier makes every thread of the process execute a full memory
// barrier before it returns: here by a stop of the world (ReadMemStats,
// tens of microseconds), which synchronises with every P. (Linux uses
// membarrier, barrier_linux.go.)
func processBarrier() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
}
