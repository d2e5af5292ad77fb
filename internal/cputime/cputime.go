// Package cputime reports the CPU time per operation of Go benchmarks
// (cpu-ns/op beside ns/op): on a shared, loaded machine it is steadier
// than wall time, which also counts the time other processes hold the
// CPU. The root module's and bench/'s benchmarks share it.
package cputime

import (
	"testing"
	"time"
)

// Loop runs f b.N times like b.Loop and reports cpu-ns/op, the CPU time
// the process spent per operation (the garbage collector's included),
// where the system gives CPU time.
func Loop(b *testing.B, f func()) {
	b.Helper()
	start := Process()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if n > 0 && supported {
		b.ReportMetric(float64(Process()-start)/float64(n), "cpu-ns/op")
	}
}

// Report reports cpu-ns/op for a loop that started when Process returned
// start, for loops too short for Loop's indirect call. It reports nothing
// where the system gives no CPU time.
func Report(b *testing.B, start time.Duration) {
	if b.N > 0 && supported {
		b.ReportMetric(float64(Process()-start)/float64(b.N), "cpu-ns/op")
	}
}
