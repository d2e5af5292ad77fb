//go:build !unix

package bench

import "testing"

// cpuLoop runs f b.N times like b.Loop; on this system it reports no CPU
// time.
func cpuLoop(b *testing.B, f func()) {
	b.Helper()
	for b.Loop() {
		f()
	}
}
