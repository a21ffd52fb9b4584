//go:build linux

package sandbox

import (
	"syscall"
	"time"
	"unsafe"
)

// cpuClockSupported reports that Limits.CPUTime is measured as real thread CPU
// time here rather than approximated by wall time.
const cpuClockSupported = true

// threadCPUClock returns a reader of the CPU time consumed by the calling OS
// thread, usable from any goroutine. Run locks the guest's goroutine to its
// thread, so this is the guest's CPU time (plus the host functions it calls).
func threadCPUClock() func() (time.Duration, bool) {
	// The Linux clock id of one thread's CPU clock, as glibc's
	// pthread_getcpuclockid builds it: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
	clock := (^int64(syscall.Gettid()) << 3) | 6
	return func() (time.Duration, bool) {
		var ts syscall.Timespec
		_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0)
		if errno != 0 {
			return 0, false
		}
		return time.Duration(ts.Nano()), true
	}
}
