//go:build !race

package zebrahttp

// raceEnabled: see race_test.go.
const raceEnabled = false
