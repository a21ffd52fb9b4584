package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
)

func init() {
	// `tenun compute` is made in compute.go, whose init runs first (files
	// initialise in name order).
	for _, c := range rootCmd.Commands() {
		if c.Name() == "compute" {
			c.AddCommand(newRunLocalCmd())
		}
	}
}

// runLocalReport is the JSON shape of `tenun compute run-local`.
type runLocalReport struct {
	Module       string             `json:"module"`
	ModuleSHA256 string             `json:"module_sha256"`
	Failure      string             `json:"failure,omitempty"` // a reproducible failure, revealed as the result
	Digest       compute.Hash       `json:"output_digest"`
	OutputCID    string             `json:"output_cid"`
	Outputs      map[string]int     `json:"outputs"` // name -> bytes
	FuelUsed     int64              `json:"fuel_used"`
	FuelLimit    uint64             `json:"fuel_limit"`
	UnitsUsed    uint64             `json:"units_used"`
	UnitsLimit   uint64             `json:"units_limit"` // what a job with these limits is priced on
	Seconds      float64            `json:"seconds"`
	CPUSeconds   float64            `json:"cpu_seconds"`
	CompileSecs  float64            `json:"compile_seconds"`
	PeakMemory   uint64             `json:"peak_memory_bytes"`
	Price        *runLocalPrice     `json:"price,omitempty"`
	PriceError   string             `json:"price_error,omitempty"`
	Stdout       string             `json:"stdout,omitempty"`
	Stderr       string             `json:"stderr,omitempty"`
	Spec         compute.Spec       `json:"spec"`
	Limits       runLocalLimitsJSON `json:"limits"`
}

type runLocalLimitsJSON struct {
	MemoryBytes    uint64 `json:"memory_bytes"`
	WallSeconds    uint32 `json:"wall_seconds"`
	MaxOutputBytes uint64 `json:"max_output_bytes"`
}

// runLocalPrice is what the job would cost at the live providers' prices.
type runLocalPrice struct {
	Node          string `json:"node"`
	LiveProviders int    `json:"live_providers"`
	MinPrice      uint64 `json:"min_price"`    // utnn per unit
	MedianPrice   uint64 `json:"median_price"` // utnn per unit
	PerResult     uint64 `json:"per_result"`   // units_limit x min_price
	Redundancy    uint32 `json:"redundancy"`
	Budget        uint64 `json:"budget"` // escrowed when posted with max price = min_price
}

func newRunLocalCmd() *cobra.Command {
	var inputs []string
	var outDir string
	var spec compute.Spec
	var memMB uint64
	var wall time.Duration
	var redundancy uint32
	var showLogs bool
	cmd := &cobra.Command{
		Use:   "run-local MODULE [--input NAME=FILE ...] [-- ARGS...]",
		Short: "Run a WASI module exactly as a provider would, and price it",
		Long: `Runs MODULE (a WASI command, e.g. built with GOOS=wasip1 or clang
--target=wasm32-wasi, optionally using the tensor kernels) in the provider's
sandbox with the limits a posted job would have: the same fuel budget,
memory and output limits, in-memory /in and /out, deterministic clocks and
random stream, and the same output archive and digest a provider would
commit. A reproducible failure (trap, fuel, exit code) is shown as the result
a provider would reveal.

It prints the fuel used, the time taken, and what a job with these limits
would cost at the current prices of the live providers of the node
(--node / TENUN_NODE); if no node answers it says so and prints no price.`,
		Example: `  tenun compute run-local job.wasm --input data.csv=./data.csv --out ./result
  tenun compute run-local trainer.wasm --input digits.csv.gz=datasets/digits/digits.csv.gz --fuel 2000000000 -- -quick
  tenun compute run-local kmeans.wasm --input digits.csv=digits.csv -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			modPath := args[0]
			spec.Args = args[1:]
			module, err := os.ReadFile(modPath)
			if err != nil {
				return fmt.Errorf("run-local: read module: %w", err)
			}
			// What a client does before posting: refuse a module that cannot run.
			if err := sandbox.Check(module); err != nil {
				return fmt.Errorf("run-local: %s: %w", modPath, err)
			}
			files := map[string][]byte{}
			for _, in := range inputs {
				name, path, ok := strings.Cut(in, "=")
				if !ok || name == "" {
					return fmt.Errorf("run-local: --input %q: want NAME=FILE", in)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("run-local: input %s: %w", name, err)
				}
				files[name] = b
			}
			spec.MemoryBytes = memMB << 20
			spec.WallSeconds = uint32(wall / time.Second)
			if spec.Fuel == 0 || spec.Fuel > compute.MaxJobFuel {
				return fmt.Errorf("run-local: --fuel must be 1 to %d", uint64(compute.MaxJobFuel))
			}
			if !jsonOutput() {
				fmt.Fprintf(cmd.ErrOrStderr(), "running %s in the sandbox (fuel %d, memory %d MiB, wall %v)...\n", modPath, spec.Fuel, memMB, wall)
			}
			sb, err := sandbox.Default()
			if err != nil {
				return fmt.Errorf("run-local: %w", err)
			}
			// The provider's own path (agent.Execute), with the blobs at hand.
			res, runErr := sb.Run(ctx, agent.SandboxJob(spec, module, files))
			out, err := agent.OutcomeOf(res, runErr)
			if err != nil {
				return fmt.Errorf("run-local: %w\n%s", err, res.Stderr)
			}
			rep := runLocalReport{
				Module: modPath, ModuleSHA256: fmt.Sprintf("%x", res.ModuleHash), Failure: out.Failure,
				Digest: out.Digest, OutputCID: out.CID, Outputs: map[string]int{},
				FuelUsed: res.FuelUsed, FuelLimit: spec.Fuel,
				UnitsUsed: ceilDiv(uint64(max(res.FuelUsed, 0)), compute.FuelPerUnit), UnitsLimit: spec.Units(),
				Seconds: res.Duration.Seconds(), CPUSeconds: res.CPUTime.Seconds(), CompileSecs: res.CompileTime.Seconds(),
				PeakMemory: res.PeakMemoryBytes, Spec: spec,
				Limits: runLocalLimitsJSON{MemoryBytes: spec.MemoryBytes, WallSeconds: spec.WallSeconds, MaxOutputBytes: spec.MaxOutputBytes},
			}
			for name, b := range res.Outputs {
				rep.Outputs[name] = len(b)
			}
			if showLogs || jsonOutput() {
				rep.Stdout, rep.Stderr = string(res.Stdout), string(res.Stderr)
			}
			if outDir != "" && out.Failure == "" {
				if err := writeOutputs(outDir, res.Outputs); err != nil {
					return fmt.Errorf("run-local: %w", err)
				}
			}
			rep.Price, err = priceLocal(ctx, spec, redundancy)
			if err != nil {
				rep.PriceError = err.Error()
			}
			return emit(cmd.OutOrStdout(), rep, func(w io.Writer) { printRunLocal(w, rep, outDir) })
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&inputs, "input", nil, "input NAME=FILE, mounted read-only at /in/NAME (repeatable)")
	fl.StringVar(&outDir, "out", "", "directory to write the job's output files into (default: not written)")
	fl.Uint64Var(&spec.Fuel, "fuel", 1_000_000_000, "fuel budget in loop iterations and kernel work units (a job's size: fuel / 1e6 units)")
	fl.Uint64Var(&memMB, "memory-mb", 512, "memory limit in MiB")
	fl.DurationVar(&wall, "wall", 5*time.Minute, "wall-time limit")
	fl.Uint64Var(&spec.MaxOutputBytes, "max-output", 64<<20, "largest total size of the files in /out")
	fl.Uint64Var(&spec.Seed, "seed", 0, "seed of the job's deterministic random stream")
	fl.Uint32Var(&redundancy, "redundancy", 2, "redundancy to price the job at")
	fl.BoolVar(&showLogs, "logs", false, "print the job's stdout and stderr")
	return cmd
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }

func writeOutputs(dir string, files map[string][]byte) error {
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write output %s: %w", name, err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("write output %s: %w", name, err)
		}
	}
	return nil
}

// priceLocal prices spec at the live providers' prices of the node, as
// post-job would escrow it with max price = the cheapest live provider's.
func priceLocal(ctx context.Context, spec compute.Spec, redundancy uint32) (*runLocalPrice, error) {
	c := newClient()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("no node reachable at %s (%v): no price", apiAddr(), err)
	}
	var ps []compute.ProviderInfo
	if err := c.Query(ctx, "compute", "providers", map[string][]string{"height": {strconv.FormatInt(st.Height, 10)}}, &ps); err != nil {
		return nil, fmt.Errorf("node %s: providers: %w", apiAddr(), err)
	}
	var prices []uint64
	for _, p := range ps {
		if p.Live && uint64(p.CPUCores) >= spec.Cores() && p.GPUs >= spec.GPUs && p.MemoryMB<<20 >= spec.MemoryBytes {
			prices = append(prices, p.Price)
		}
	}
	if len(prices) == 0 {
		return nil, fmt.Errorf("node %s has no live provider that can take this job: no price", apiAddr())
	}
	slices.Sort(prices)
	pr := &runLocalPrice{Node: apiAddr(), LiveProviders: len(prices), MinPrice: prices[0], MedianPrice: prices[len(prices)/2], Redundancy: redundancy}
	m := &compute.MsgPostJob{Spec: spec, MaxPrice: prices[0], Redundancy: redundancy}
	pr.PerResult = prices[0] * spec.Units()
	if pr.Budget, err = compute.Budget(m); err != nil {
		return nil, fmt.Errorf("price: %w", err)
	}
	return pr, nil
}

func printRunLocal(w io.Writer, r runLocalReport, outDir string) {
	result := "succeeded"
	if r.Failure != "" {
		result = "failed reproducibly (" + r.Failure + "); a provider reveals that failure as the result and is paid"
	}
	fmt.Fprintf(w, "%s %s\n", r.Module, result)
	names := make([]string, 0, len(r.Outputs))
	for n := range r.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  /out/%s  %d bytes\n", n, r.Outputs[n])
	}
	if outDir != "" && r.Failure == "" {
		fmt.Fprintf(w, "  written to %s\n", outDir)
	}
	fmt.Fprintf(w, "output digest %s (archive %s)\n", r.Digest, r.OutputCID)
	fmt.Fprintf(w, "fuel %d of %d (%d units used; a job with this budget is %d units)\n", r.FuelUsed, r.FuelLimit, r.UnitsUsed, r.UnitsLimit)
	fmt.Fprintf(w, "time %.3f s (CPU %.3f s, compile %.3f s), peak memory %.1f MiB\n", r.Seconds, r.CPUSeconds, r.CompileSecs, float64(r.PeakMemory)/(1<<20))
	if r.Price != nil {
		p := r.Price
		fmt.Fprintf(w, "price at node %s: %d live providers, cheapest %s/unit (median %s): %s per result; posting with redundancy %d escrows %s\n",
			p.Node, p.LiveProviders, formatAmount(p.MinPrice), formatAmount(p.MedianPrice), formatAmount(p.PerResult), p.Redundancy, formatAmount(p.Budget))
	} else {
		fmt.Fprintf(w, "price: %s\n", r.PriceError)
	}
	if r.Stdout != "" {
		fmt.Fprintf(w, "--- stdout\n%s", r.Stdout)
	}
	if r.Stderr != "" {
		fmt.Fprintf(w, "--- stderr\n%s", r.Stderr)
	}
}

// checkModuleArg runs sandbox.Check on a module given as a file or a CID
// (fetched from the node).
func checkModuleArg(ctx context.Context, c *client.Client, arg string) error {
	var module []byte
	if _, err := chain.ParseBlobCID(arg); err == nil {
		if module, err = c.BlobGet(ctx, arg); err != nil {
			return fmt.Errorf("module %s: %w", arg, err)
		}
	} else if module, err = os.ReadFile(arg); err != nil {
		return fmt.Errorf("module %s: %w", arg, err)
	}
	if err := sandbox.Check(module); err != nil {
		return fmt.Errorf("module %s refused: %w", arg, err)
	}
	return nil
}
