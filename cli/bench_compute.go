package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/compute/workload"
	"github.com/tenun-chain/tenun/internal/progress"
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
	var skipMarket bool
	cmd := &cobra.Command{
		Use:   "compute",
		Short: "Sandbox overhead: the kernel trainer, the pure-wasm trainer and the C k-means in wazero against the same sources built natively",
		Long: `Measures what the compute market's sandbox costs, on three reference jobs,
each built twice from the same source, for the sandbox and for this machine:

  kernels  the digits MLP trainer (compute/workload/trainer) built with
           -tags tenunkernels: its products, activations, softmax and loss
           are calls to the tensor kernels, host functions in the sandbox
           (tenun_nn) and the same Go code natively. Target: at most 1.3x.
  pure     the same trainer with its own loops, as pure wasm (for the
           record; Go's wasm code under wazero's bounds checks is the floor
           here). Also run under plain wazero, without the sandbox.
  c        k-means on the digits in C (compute/workload/kmeans), clang for
           wasm32-wasi and natively with the same flags. Target: at most 2x.

Every build runs once untimed (compiling the modules), then --rounds timed
rounds each run every build once, so the machine's load falls on all alike.
The sandbox figure covers instantiation and execution (compilation happens
once and is reported apart); the native figure covers process start to exit.
It prints the best and median wall time and the median CPU time of each
(the guest's thread against the native process; a busy machine distorts it
least, and the targets are judged on it), and checks that every run of a
job wrote the same bytes and every sandboxed run used the same fuel: if not
the command fails. Then, unless --skip-market, the market half: jobs settled
per second on a fresh in-process devnet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if cfg.DataPath == "" {
				p, err := dataFile("")
				if err != nil {
					return err
				}
				cfg.DataPath = p
			}
			if !jsonOutput() {
				fmt.Fprintln(cmd.ErrOrStderr(), "building the trainers and the k-means job, native and for the sandbox...")
			}
			var bar *progress.Bar
			cfg.Progress = func(done, total int, what string) {
				if bar == nil {
					bar = progress.New(cmd.ErrOrStderr(), int64(total), "bench compute", "runs")
				}
				bar.Add(1)
			}
			sb, err := workload.Bench(ctx, cfg)
			if bar != nil {
				bar.Finish()
			}
			if err != nil && !errors.Is(err, workload.ErrNotDeterministic) {
				return fmt.Errorf("bench compute: %w", err)
			}
			benchErr := err
			rep := benchComputeReport{Sandbox: sb}
			var marketHuman func(io.Writer)
			if benchComputeMarket != nil && !skipMarket && benchErr == nil {
				if rep.Market, marketHuman, err = benchComputeMarket(cmd); err != nil {
					return fmt.Errorf("bench compute: market: %w", err)
				}
			}
			if err := emit(cmd.OutOrStdout(), rep, func(w io.Writer) {
				printBenchComputeSandbox(w, sb)
				if marketHuman != nil {
					fmt.Fprintln(w)
					marketHuman(w)
				}
			}); err != nil {
				return err
			}
			if benchErr != nil {
				return fmt.Errorf("bench compute: %w", benchErr)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.DataPath, "data", "", "digits data set (default: the set embedded in tenun)")
	cmd.Flags().IntVar(&cfg.Epochs, "epochs", 30, "training epochs per run of either trainer")
	cmd.Flags().IntVar(&cfg.Reps, "rounds", 5, "timed rounds; each runs every build once")
	cmd.Flags().IntVar(&cfg.KMeans.Restarts, "kmeans-restarts", 0, "k-means restarts per run (0: the job's default, 8)")
	cmd.Flags().IntVar(&cfg.KMeans.Iters, "kmeans-iters", 0, "k-means iterations per restart (0: the job's default, 100)")
	cmd.Flags().StringVar(&cfg.CacheDir, "cache-dir", "", "where the builds are cached (default: the user cache dir)")
	cmd.Flags().BoolVar(&skipMarket, "skip-market", false, "measure the sandbox only, not jobs per second on a devnet")
	cmd.Flags().Int("market-jobs", 500, "jobs the market half posts")
	cmd.Flags().Int("market-providers", 4, "provider agents in the market half")
	return cmd
}

func printBenchComputeSandbox(w io.Writer, r workload.BenchReport) {
	fmt.Fprintf(w, "Compute sandbox overhead: %d epochs per trainer run, %d timed rounds (%s/%s, %d CPUs, %s)\n",
		r.Epochs, r.Repetitions, r.GOOS, r.GOARCH, r.NumCPU, r.GoVersion)
	fmt.Fprintf(w, "engine: %s\n", r.Engine)
	for _, p := range []struct {
		name, target string
		p            workload.BenchPair
	}{{"kernels", "target", r.Kernels}, {"pure", "the earlier target, for the record", r.Pure}, {"c", "target", r.C}} {
		fmt.Fprintf(w, "\n%s: %s\n", p.name, p.p.Workload)
		if p.p.Skipped != "" {
			fmt.Fprintf(w, "  SKIPPED: %s\n", p.p.Skipped)
			continue
		}
		printBenchPair(w, p.p, p.target)
	}
	verdict := "every run of each job wrote identical outputs and used identical fuel"
	if !r.Deterministic {
		verdict = "RUNS DIFFER (see outputs_identical and fuel_identical)"
	}
	fmt.Fprintf(w, "\ndeterminism: %s\n", verdict)
}

func printBenchPair(w io.Writer, p workload.BenchPair, target string) {
	fmt.Fprintf(w, "  module %.2f MB, compiled once in %.2f s; %s\n", float64(p.ModuleBytes)/1e6, p.CompileSeconds, p.Quality)
	fmt.Fprintf(w, "  %-8s  %9s  %9s  %9s  %9s\n", "", "best s", "median s", "cpu best", "cpu med")
	rows := []struct {
		name string
		t    workload.Timing
	}{{"sandbox", p.Sandbox}, {"native", p.Native}}
	if p.Plain != nil {
		rows = append(rows, struct {
			name string
			t    workload.Timing
		}{"plain", *p.Plain})
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-8s  %9.3f  %9.3f  %9.3f  %9.3f\n",
			row.name, row.t.BestSeconds, row.t.MedianSeconds, row.t.CPUBestSeconds, row.t.CPUMedianSeconds)
	}
	fmt.Fprintf(w, "  %-8s  %8.2fx  %8.2fx  %9s  %8.2fx   sandbox / native\n", "ratio", p.RatioBest, p.RatioMedian, "", p.RatioCPUMedian)
	if p.Plain != nil {
		fmt.Fprintf(w, "  plain: the module under plain wazero (no metering, host directory); the sandbox costs %.2fx of that\n", p.SandboxOverhead)
	}
	if p.StartupSandbox != nil && p.StartupNative != nil {
		fmt.Fprintf(w, "  one epoch (start-up: module, Go runtime, data): sandbox %.3f s, native %.3f s cpu median; the training itself, all epochs less one: %.2fx\n",
			p.StartupSandbox.CPUMedianSeconds, p.StartupNative.CPUMedianSeconds, p.TrainingRatio)
	}
	same := "identical across all runs"
	if !p.OutputsIdentical || !p.FuelIdentical {
		same = fmt.Sprintf("DIFFER (outputs identical %v, fuel identical %v)", p.OutputsIdentical, p.FuelIdentical)
	}
	fmt.Fprintf(w, "  outputs sha256 %s, fuel %d: %s\n", p.OutputDigest, p.FuelUsed, same)
	verdict := "met"
	if !p.TargetMet {
		verdict = "NOT met"
	}
	judged, basis := p.Judged()
	fmt.Fprintf(w, "  %s: at most %.1fx: %s (%.2fx on %s)\n", target, p.TargetRatio, verdict, judged, basis)
}
