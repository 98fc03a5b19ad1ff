//go:build !zebra_nopin

package heap

import _ "unsafe" // for go:linkname

// The per-P caches (pcache.go) are lock-free because a goroutine cannot
// lose its P while pinned: runtime.procPin raises the M's lock count, so the
// scheduler neither preempts nor moves it, exactly as sync.Pool does. The
// runtime keeps procPin and procUnpin reachable by linkname for widely used
// packages (go.dev/issue/67401). While pinned the heap never locks, makes a
// system call, allocates Go memory or panics: every index it uses is
// checked before it pins. Build with -tags zebra_nopin for the fallback
// (pin_mutex.go), which passes the same tests with a mutex per slot.

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// pinned reports which pin implementation is built, for tests and docs.
const pinned = "procPin"

// pin pins the calling goroutine to its P and returns the P's id: the
// cache slot the goroutine may use until unpin.
func pin() int { return procPin() }

// unpin ends what pin began; slot is pin's result.
func unpin(slot int) { procUnpin() }

// quiesce returns once every goroutine that was pinned when it was called
// has unpinned (stopTheWorld waits for them), so that Destroy can release
// the caches no goroutine can reach any more.
func quiesce() { stopTheWorld() }
