package cputime

import (
	"syscall"
	"time"
	"unsafe"
)

// ThreadSupported reports that Thread and ThreadClock measure real thread
// CPU time on this platform.
const ThreadSupported = true

// clockThreadCPUTimeID is CLOCK_THREAD_CPUTIME_ID from <time.h>.
const clockThreadCPUTimeID = 3

// Thread is the CPU time of the calling OS thread; the caller holds
// runtime.LockOSThread, or the figure mixes threads.
func Thread() (time.Duration, bool) { return clockTime(clockThreadCPUTimeID) }

// ThreadClock returns a reader of the calling OS thread's CPU time that any
// goroutine may call (a watchdog, say), for as long as that thread lives.
func ThreadClock() func() (time.Duration, bool) {
	// The clock id of one thread's CPU clock, as glibc's
	// pthread_getcpuclockid builds it: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
	clock := (^int64(syscall.Gettid()) << 3) | 6
	return func() (time.Duration, bool) { return clockTime(clock) }
}

func clockTime(clock int64) (time.Duration, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
