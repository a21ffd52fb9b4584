package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/bench"
)

// benchComputeMarketRun is the market half of `tenun bench compute`: jobs
// settled per second on a fresh in-process devnet with simulated providers
// (real agents, a tiny module). Sizes come from --market-jobs and
// --market-providers where the command defines them.
func benchComputeMarketRun(cmd *cobra.Command) (any, func(io.Writer), error) {
	jobs, providers := 500, 4
	if v, err := cmd.Flags().GetInt("market-jobs"); err == nil && v > 0 {
		jobs = v
	}
	if v, err := cmd.Flags().GetInt("market-providers"); err == nil && v > 0 {
		providers = v
	}
	if !jsonOutput() {
		fmt.Fprintf(cmd.ErrOrStderr(), "compute market: %d jobs on a fresh devnet with %d providers...\n", jobs, providers)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := bench.ComputeMarket(ctx, jobs, providers)
	if err != nil {
		return nil, nil, err
	}
	return rep, func(w io.Writer) {
		fmt.Fprintf(w, "compute market: %d of %d jobs (redundancy %d, %d providers, %d ms blocks) settled in %.2f s: %.1f jobs/s, median %d blocks from post to settlement\n",
			rep.JobsSettled, rep.Jobs, rep.Redundancy, rep.Providers, rep.BlockTimeMS, rep.Seconds, rep.JobsPerSec, rep.MedianLatencyBlocks)
		fmt.Fprintf(w, "  baseline: the same job in the sandbox alone, no chain: %.0f jobs/s\n", rep.SandboxJobsPerSec)
	}, nil
}
