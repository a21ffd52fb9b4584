// Package cputime is the one reader of CPU time and peak memory for the
// benchmarks, the compute sandbox's CPU limit and the tests that report
// handler costs. Each reader says whether the platform could answer (ok):
// process CPU time on Unix and Windows, one thread's CPU time on Linux, peak
// resident memory on Unix. Callers print only wall-clock figures where ok is
// false rather than a zero that reads like a measurement.
package cputime

import "os"

// ChildPeakRSS is the peak resident set, in bytes, of a finished child
// process; ok is false where the platform does not report it.
func ChildPeakRSS(ps *os.ProcessState) (bytes int64, ok bool) {
	if ps == nil {
		return 0, false
	}
	return childPeakRSS(ps)
}
