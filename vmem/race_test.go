//go:build race

package vmem

// The race detector's runtime maps memory of its own, so tests that exhaust
// the process's mappings skip under it.
func init() { raceEnabled = true }
