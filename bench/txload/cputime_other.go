//go:build !unix

package txload

import "time"

// processCPU is unavailable here; only wall-clock figures are shown.
func processCPU() (time.Duration, bool) { return 0, false }
