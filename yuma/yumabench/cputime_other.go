//go:build !linux

package yumabench

// threadCPUNanos is unavailable off Linux; only wall-clock times are shown.
func threadCPUNanos() (int64, bool) { return 0, false }
