//go:build race

package vmmap

// raceEnabled: the race detector's shadow memory multiplies RSS, so
// memory targets are not checked under it.
const raceEnabled = true
