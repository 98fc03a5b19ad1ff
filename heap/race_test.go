//go:build race

package heap

func init() { raceEnabled = true }
