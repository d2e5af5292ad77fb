//go:build unix

package teamperm_test

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuLoop runs f b.N times like b.Loop and reports cpu-ns/op, the CPU
// time the process spent per operation (the garbage collector's included):
// on a shared, loaded machine it is steadier than wall time, which also
// counts the time other processes hold the CPU.
func cpuLoop(b *testing.B, f func()) {
	b.Helper()
	start := processCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(n), "cpu-ns/op")
	}
}

// reportCPU reports cpu-ns/op for a loop that started when processCPU
// returned start, for loops too short for cpuLoop's indirect call.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
