package cputime

import (
	"os"
	"syscall"
	"time"
)

// Process is the CPU time (user + kernel) the whole process has used so far.
func Process() (time.Duration, bool) {
	var creation, exit, kernel, user syscall.Filetime
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, false
	}
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return 0, false
	}
	return filetime(kernel) + filetime(user), true
}

// filetime is a FILETIME duration (100 ns units).
func filetime(ft syscall.Filetime) time.Duration {
	return time.Duration(int64(ft.HighDateTime)<<32|int64(ft.LowDateTime)) * 100
}

// PeakRSS is not read on Windows (it needs psapi, outside package syscall).
func PeakRSS() (int64, bool) { return 0, false }

func childPeakRSS(*os.ProcessState) (int64, bool) { return 0, false }
