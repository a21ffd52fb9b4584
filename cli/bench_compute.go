package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/compute/workload"
)

func init() { benchCmd.AddCommand(newBenchComputeCmd()) }

// benchComputeMarket is the hook for the compute market's half of
// `tenun bench compute`: jobs settled per second on a devnet. The market's
// bench file sets it from its own init function; while it is nil only the
// sandbox is measured. Its report goes under "market" in the JSON output,
// beside "sandbox", and human prints it in text mode.
var benchComputeMarket func(cmd *cobra.Command) (report any, human func(io.Writer), err error)

// benchComputeReport is the JSON shape of `tenun bench compute`.
type benchComputeReport struct {
	Sandbox workload.BenchReport `json:"sandbox"`
	Market  any                  `json:"market,omitempty"`
}

func newBenchComputeCmd() *cobra.Command {
	var cfg workload.BenchConfig
	cmd := &cobra.Command{
		Use:   "compute",
		Short: "Sandbox overhead: the training job in wazero against the same program built natively",
		Long: `Measures what the compute market's sandbox costs. The reference job (an MLP
trained on the 8x8 digits data set, compute/workload/trainer) is built twice
from the same source, for GOOS=wasip1 GOARCH=wasm and for this machine, and
each build runs --reps times, alternating, after one untimed warm-up run: the
wasm one in the sandbox (wazero's optimizing compiler, fuel-metered, in-memory
files, deterministic clocks), the native one as a plain process. The wasm
module also runs under plain wazero (no sandbox), to show how much of the gap
is the sandbox and how much is Go's wasm code.

It prints the best and median wall time of each and their ratio (the sandbox
figure covers instantiation and execution; compilation happens once and is
reported apart; the native figure covers process start to exit), the median
CPU time ratio, which a busy machine distorts least, and whether every run of
both builds wrote bit-identical model and metrics files. Target: the sandbox
at most 2x slower than native.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if !jsonOutput() {
				fmt.Fprintln(cmd.ErrOrStderr(), "building the trainer and compiling it for the sandbox...")
			}
			if cfg.DataPath == "" {
				p, err := dataFile("")
				if err != nil {
					return err
				}
				cfg.DataPath = p
			}
			sb, err := workload.Bench(ctx, cfg)
			if err != nil {
				return fmt.Errorf("bench compute: %w", err)
			}
			rep := benchComputeReport{Sandbox: sb}
			var marketHuman func(io.Writer)
			if benchComputeMarket != nil {
				if rep.Market, marketHuman, err = benchComputeMarket(cmd); err != nil {
					return fmt.Errorf("bench compute: market: %w", err)
				}
			}
			return emit(cmd.OutOrStdout(), rep, func(w io.Writer) {
				printBenchComputeSandbox(w, sb)
				if marketHuman != nil {
					fmt.Fprintln(w)
					marketHuman(w)
				}
			})
		},
	}
	cmd.Flags().StringVar(&cfg.DataPath, "data", "", "digits data set (default: the set embedded in tenun)")
	cmd.Flags().IntVar(&cfg.Epochs, "epochs", 30, "training epochs per run")
	cmd.Flags().IntVar(&cfg.Reps, "reps", 5, "timed runs of each build")
	cmd.Flags().StringVar(&cfg.CacheDir, "cache-dir", "", "where the trainer builds are cached (default: the user cache dir)")
	return cmd
}

func printBenchComputeSandbox(w io.Writer, r workload.BenchReport) {
	fmt.Fprintf(w, "Compute sandbox overhead: %s, %d epochs, %d runs each (%s/%s, %d CPUs, %s)\n",
		r.Workload, r.Epochs, r.Repetitions, r.GOOS, r.GOARCH, r.NumCPU, r.GoVersion)
	fmt.Fprintf(w, "engine: %s; module %.1f MB, compiled once in %.2f s\n\n", r.Engine, float64(r.ModuleBytes)/1e6, r.CompileSeconds)
	fmt.Fprintf(w, "%-8s  %9s  %9s  %9s  %9s\n", "", "best s", "median s", "cpu best", "cpu med")
	for _, row := range []struct {
		name string
		t    workload.Timing
	}{{"sandbox", r.Wazero}, {"native", r.Native}, {"plain", r.WazeroPlain}} {
		fmt.Fprintf(w, "%-8s  %9.3f  %9.3f  %9.3f  %9.3f\n",
			row.name, row.t.BestSeconds, row.t.MedianSeconds, row.t.CPUBestSeconds, row.t.CPUMedianSeconds)
	}
	fmt.Fprintf(w, "%-8s  %8.2fx  %8.2fx  %9s  %8.2fx   sandbox / native\n", "ratio", r.RatioBest, r.RatioMedian, "", r.RatioCPUMedian)
	fmt.Fprintf(w, "\nplain: the same module under plain wazero (default compiler, no metering, host directory):\n"+
		"the sandbox itself costs %.2fx of that (median CPU); the rest is Go's wasm code under wazero.\n", r.SandboxOverhead)

	identical := "bit-identical across all runs, wazero and native"
	if !r.OutputsIdentical {
		identical = "DIFFER between runs"
	}
	fmt.Fprintf(w, "\noutputs: %s (sha256 %s); test accuracy %.4f; fuel %d loop iterations\n",
		identical, r.OutputDigest, r.TestAccuracy, r.FuelUsed)
	verdict := "met"
	if !r.TargetMet {
		verdict = "NOT met"
	}
	judged, basis := r.RatioCPUMedian, "median CPU time"
	if judged == 0 {
		judged, basis = r.RatioMedian, "median wall time"
	}
	fmt.Fprintf(w, "target: at most %.1fx slower than native: %s (%.2fx on %s)\n", r.TargetRatio, verdict, judged, basis)
}
