// Command tenun is the single Tenun binary: node, devnet, client, agents and benchmarks.
package main

import (
	"os"
	"runtime/debug"

	"github.com/tenun-chain/tenun/cli"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// A node allocates a lot of short-lived garbage per transaction (CometBFT's
// events and index batches, decoded transactions); collecting at 4x the live
// heap instead of 2x cuts the collector's CPU by about a tenth of a node's
// total under load, for a heap that stays in the hundreds of megabytes.
// The soft memory limit makes the collector work harder instead of letting
// the heap run away on a small machine.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 4 << 30
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if err := cli.Execute(); err != nil {
		os.Exit(1)
	}
}
