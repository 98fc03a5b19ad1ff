//go:build !race

package vmmap

// raceEnabled: see race_test.go.
const raceEnabled = false
