package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/internal/progress"
	"github.com/tenun-chain/tenun/yuma"
	"github.com/tenun-chain/tenun/yuma/yumabench"
)

func init() { benchCmd.AddCommand(newBenchYumaCmd()) }

func newBenchYumaCmd() *cobra.Command {
	cfg := yumabench.DefaultConfig()
	var mode string
	var liquid bool
	cmd := &cobra.Command{
		Use:   "yuma",
		Short: "Time the fixed-point Yuma epoch at 256, 1,024 and 4,096 uids",
		Long: `Times one Yuma epoch (package yuma, fixed point) on synthetic subnets:
64 validators with dense random weights on every uid (deterministic seed),
bonds in steady state after two warm-up epochs, new-subnet parameters.

For each size it prints the median and fastest wall-clock epoch time, the
median CPU time of the running thread (not inflated by other processes on a
shared machine), the growth against the smallest size measured in the same
run (the baseline) beside the uid ratio, and a float64 reference of the
consensus step (yuma/floatref) on the same state with its largest deviation
from the fixed-point consensus. Target: 4,096 uids under 100 ms.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Params.BondsMode.UnmarshalText([]byte(mode)); err != nil {
				return fmt.Errorf("bench yuma: --mode: %w", err)
			}
			cfg.Params.LiquidAlpha = liquid
			bar := progress.Phases(cmd.ErrOrStderr(), "bench yuma", 1)
			bar.Phase(fmt.Sprintf("timing epochs at %v uids", cfg.Sizes))
			rep, err := yumabench.Run(cfg)
			bar.Finish()
			if err != nil {
				return fmt.Errorf("bench yuma: %w", err)
			}
			return emit(cmd.OutOrStdout(), rep, func(w io.Writer) { printBenchYuma(w, rep) })
		},
	}
	cmd.Flags().IntSliceVar(&cfg.Sizes, "sizes", cfg.Sizes, "subnet sizes in uids; the smallest is the baseline")
	cmd.Flags().IntVar(&cfg.Validators, "validators", cfg.Validators, "validators with dense weights (also max_allowed_validators)")
	cmd.Flags().IntVar(&cfg.Runs, "runs", cfg.Runs, "timed epochs per size (medians are reported)")
	cmd.Flags().Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the synthetic stakes and weights")
	cmd.Flags().StringVar(&mode, "mode", yuma.ModeYuma3.String(), "bonds mode: yuma3 or original")
	cmd.Flags().BoolVar(&liquid, "liquid-alpha", false, "enable liquid alpha (Yuma 3 only)")
	return cmd
}

func printBenchYuma(w io.Writer, rep yumabench.Report) {
	r0 := rep.Rows[0]
	la := "off"
	if r0.Liquid {
		la = "on"
	}
	fmt.Fprintf(w, "Yuma epoch, fixed point: bonds mode %s, liquid alpha %s, %d validators with dense weights, seed %d, %d runs per size (GOMAXPROCS %d, %d CPUs)\n\n",
		r0.Mode, la, r0.Validators, rep.Seed, r0.Runs, rep.GOMAXPROCS, rep.NumCPU)
	fmt.Fprintf(w, "%6s  %9s  %9s  %9s  %9s  %9s  %9s  %12s  %9s\n",
		"uids", "wall ms", "fastest", "cpu ms", "growth", "cpu grow", "uid ×", "float64 C ms", "max |ΔC|")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "%6d  %9.2f  %9.2f  %9.2f  %8.2fx  %8.2fx  %8.0fx  %12.2f  %9.1e\n",
			r.UIDs, r.EpochMs, r.EpochMinMs, r.EpochCPUMs, r.Growth, r.CPUGrowth, r.UIDRatio, r.FloatConsensusMs, r.MaxConsensusDiff)
	}
	fmt.Fprintf(w, "\nbaseline: the %d-uid epoch measured in this run (%.2f ms wall); growth = time / baseline time, uid × = uids / baseline uids.\n",
		rep.BaselineUIDs, rep.BaselineMs)
	fmt.Fprintln(w, "cpu ms: median CPU time of the epoch's thread; float64 C: yuma/floatref consensus step (masks, normalisation, sort-based κ-median) on the same state, reference only.")
	for _, r := range rep.Rows {
		if r.UIDs != rep.TargetUIDs {
			continue
		}
		verdict := "met"
		if !rep.TargetMet {
			verdict = "NOT met"
		}
		judged, basis := r.EpochMs, "median wall time"
		if r.EpochCPUMs > 0 {
			judged, basis = r.EpochCPUMs, "median thread CPU time"
		}
		fmt.Fprintf(w, "target: %d uids under %.0f ms: %s (%.2f ms %s; median wall %.2f ms)\n",
			rep.TargetUIDs, rep.TargetMs, verdict, judged, basis, r.EpochMs)
	}
}
