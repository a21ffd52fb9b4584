//go:build unix && !darwin && !ios

package cputime

// maxrssUnit: Linux and the BSDs report ru_maxrss in KiB.
const maxrssUnit = 1024
