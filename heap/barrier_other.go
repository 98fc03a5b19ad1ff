//go:build !linux

package heap

// processBarrier makes every thread of the process execute a full memory
// barrier before it returns: here by a stop of the world. (Linux uses
// membarrier, barrier_linux.go.)
func processBarrier() { stopTheWorld() }
