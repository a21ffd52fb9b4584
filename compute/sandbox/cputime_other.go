//go:build !linux

package sandbox

import "time"

// cpuClockSupported is false off Linux: there Limits.CPUTime is enforced as an
// extra wall-time limit, the closest portable proxy.
const cpuClockSupported = false

func threadCPUClock() func() (time.Duration, bool) {
	return func() (time.Duration, bool) { return 0, false }
}
