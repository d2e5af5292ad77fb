//go:build !unix

package cputime

import "time"

const supported = false

// Process returns 0: no CPU time on this system.
func Process() time.Duration { return 0 }
