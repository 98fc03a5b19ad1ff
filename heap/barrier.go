package heap

import "runtime"

// stopTheWorld returns after a stop of the world (ReadMemStats, tens of
// microseconds), which every P joins: each thread passes a full memory
// barrier, and a goroutine pinned with procPin, which the runtime cannot
// stop, has unpinned first.
func stopTheWorld() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
}
