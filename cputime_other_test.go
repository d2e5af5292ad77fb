//go:build !unix

package teamperm_test

import (
	"testing"
	"time"
)

// cpuLoop runs f b.N times like b.Loop; on this system it reports no CPU
// time.
func cpuLoop(b *testing.B, f func()) {
	b.Helper()
	for b.Loop() {
		f()
	}
}

// processCPU returns 0: no CPU time on this system.
func processCPU() time.Duration { return 0 }

// reportCPU reports nothing on this system.
func reportCPU(*testing.B, time.Duration) {}
