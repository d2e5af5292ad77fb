//go:build race

package bench

// underRace is true in a -race build, where the engines run several times
// slower: the correctness tests then check fewer cases, to stay within a
// few seconds in CI.
const underRace = true
