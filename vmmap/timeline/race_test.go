//go:build race

package timeline

// raceEnabled: the race detector slows everything several times and
// grows the heap, so the tests of size and memory do not run under it.
const raceEnabled = true
