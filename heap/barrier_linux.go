//go:build linux

package heap

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// Commands of membarrier(2), from include/uapi/linux/membarrier.h (Linux
// 4.14 and later); x/sys does not define them.
const (
	membarrierPrivateExpedited         = 1 << 3
	membarrierRegisterPrivateExpedited = 1 << 4
)

var membarrier struct {
	once sync.Once
	ok   bool
}

// processBarrier makes every thread of the process execute a full memory
// barrier before it returns: membarrier's private expedited command, which
// interrupts the process's running threads (a few microseconds), where the
// kernel has it; else a stop of the world (ReadMemStats, tens of
// microseconds), which synchronises with every P.
func processBarrier() {
	membarrier.once.Do(func() {
		_, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpedited, 0, 0)
		membarrier.ok = e == 0
	})
	if membarrier.ok {
		if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierPrivateExpedited, 0, 0); e == 0 {
			return
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
}
