//go:build !race

package bench

// underRace is true in a -race build (see race_test.go).
const underRace = false
