//go:build !race

package timeline

// raceEnabled: see race_test.go.
const raceEnabled = false
