//go:build !linux

package cputime

import "time"

// ThreadSupported is false off Linux: there is no portable per-thread CPU
// clock, and callers fall back to wall time.
const ThreadSupported = false

// Thread is not measured off Linux.
func Thread() (time.Duration, bool) { return 0, false }

// ThreadClock returns a reader that always reports ok == false.
func ThreadClock() func() (time.Duration, bool) {
	return func() (time.Duration, bool) { return 0, false }
}
