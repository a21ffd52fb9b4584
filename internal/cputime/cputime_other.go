//go:build !unix && !windows

package cputime

import (
	"os"
	"time"
)

// Process is not available here (wasm, plan9).
func Process() (time.Duration, bool) { return 0, false }

// PeakRSS is not available here.
func PeakRSS() (int64, bool) { return 0, false }

func childPeakRSS(*os.ProcessState) (int64, bool) { return 0, false }
