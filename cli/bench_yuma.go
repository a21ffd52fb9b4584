package cli

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/yuma"
	"github.com/tenun-chain/tenun/yuma/floatref"
)

func init() { benchCmd.AddCommand(newBenchYumaCmd()) }

// yumaTargetMs is the acceptance target for the largest default size.
const yumaTargetMs = 100.0

type benchYumaRow struct {
	UIDs       int     `json:"uids"`
	Validators int     `json:"validators"`
	Mode       string  `json:"mode"`
	Liquid     bool    `json:"liquid_alpha"`
	Runs       int     `json:"runs"`
	EpochMs    float64 `json:"epoch_ms"`     // median of runs
	EpochMinMs float64 `json:"epoch_min_ms"` // fastest run
	// Growth is EpochMs over the baseline row's EpochMs; UIDRatio is the
	// matching ratio of uids, so Growth/UIDRatio > 1 means super-linear.
	Growth   float64 `json:"growth_vs_baseline"`
	UIDRatio float64 `json:"uid_ratio"`
	// FloatConsensusMs times the float64 reference consensus step
	// (yuma/floatref) on the same state; MaxConsensusDiff is the largest
	// |C_fixed − C_float| over all uids.
	FloatConsensusMs float64 `json:"float64_consensus_ms"`
	MaxConsensusDiff float64 `json:"max_consensus_diff"`
}

type benchYumaReport struct {
	Benchmark     string         `json:"benchmark"`
	Seed          uint64         `json:"seed"`
	BaselineUIDs  int            `json:"baseline_uids"`
	BaselineMs    float64        `json:"baseline_epoch_ms"`
	Rows          []benchYumaRow `json:"rows"`
	TargetMs      float64        `json:"target_ms"`
	TargetUIDs    int            `json:"target_uids"`
	TargetMet     bool           `json:"target_met"`
	Goroutines    int            `json:"gomaxprocs"`
	MeasuredAtUTC string         `json:"measured_at_utc"`
}

func newBenchYumaCmd() *cobra.Command {
	var (
		sizes      []int
		validators int
		runs       int
		seed       uint64
		mode       string
		liquid     bool
	)
	cmd := &cobra.Command{
		Use:   "yuma",
		Short: "Time the fixed-point Yuma epoch at 256, 1,024 and 4,096 uids",
		Long: `Times one Yuma epoch (package yuma, fixed point) on synthetic subnets:
64 validators with dense random weights on every uid (deterministic seed),
bonds in steady state after two warm-up epochs. Reports the median epoch
time per size, its growth against the smallest size measured in the same
run (the baseline) beside the uid ratio, and a float64 reference of the
consensus step (yuma/floatref) on the same state with its largest deviation
from the fixed-point consensus. Target: 4,096 uids under 100 ms.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var bm yuma.BondsMode
			if err := bm.UnmarshalText([]byte(mode)); err != nil {
				return fmt.Errorf("bench yuma: --mode: %w", err)
			}
			if len(sizes) == 0 || runs < 1 {
				return fmt.Errorf("bench yuma: need at least one size and one run")
			}
			sort.Ints(sizes)
			p := yuma.DefaultParams()
			p.BondsMode, p.LiquidAlpha = bm, liquid
			rep := benchYumaReport{
				Benchmark:     "yuma epoch (fixed point)",
				Seed:          seed,
				BaselineUIDs:  sizes[0],
				TargetMs:      yumaTargetMs,
				TargetUIDs:    4096,
				Goroutines:    runtime.GOMAXPROCS(0),
				MeasuredAtUTC: time.Now().UTC().Format(time.RFC3339),
			}
			for _, n := range sizes {
				row, err := benchYumaSize(n, validators, runs, seed, p)
				if err != nil {
					return err
				}
				rep.Rows = append(rep.Rows, row)
			}
			rep.BaselineMs = rep.Rows[0].EpochMs
			rep.TargetMet = true
			for k := range rep.Rows {
				r := &rep.Rows[k]
				r.Growth = r.EpochMs / rep.BaselineMs
				r.UIDRatio = float64(r.UIDs) / float64(rep.BaselineUIDs)
				if r.UIDs == rep.TargetUIDs && r.EpochMs >= yumaTargetMs {
					rep.TargetMet = false
				}
			}
			return emit(cmd.OutOrStdout(), rep, func(w io.Writer) { printBenchYuma(w, rep) })
		},
	}
	cmd.Flags().IntSliceVar(&sizes, "sizes", []int{256, 1024, 4096}, "subnet sizes (uids); the smallest is the baseline")
	cmd.Flags().IntVar(&validators, "validators", 64, "validators with dense weights (also max_allowed_validators)")
	cmd.Flags().IntVar(&runs, "runs", 7, "timed epochs per size (the median is reported)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the synthetic weights and stakes")
	cmd.Flags().StringVar(&mode, "mode", "yuma3", "bonds mode: yuma3 or original")
	cmd.Flags().BoolVar(&liquid, "liquid-alpha", false, "enable liquid alpha (Yuma 3 only)")
	return cmd
}

func benchYumaSize(n, validators, runs int, seed uint64, p yuma.Params) (benchYumaRow, error) {
	row := benchYumaRow{UIDs: n, Validators: validators, Mode: p.BondsMode.String(), Liquid: p.LiquidAlpha, Runs: runs}
	s, err := yuma.SyntheticSubnet(n, validators, seed)
	if err != nil {
		return row, fmt.Errorf("bench yuma: %w", err)
	}
	if validators > 0 && validators <= math.MaxUint16 {
		p.MaxAllowedValidators = uint16(validators)
	}
	const block, amount = yuma.SyntheticBlock, 1_000_000_000
	for k := 0; k < 2; k++ { // warm-up: populate bonds
		if _, err := yuma.Epoch(s, p, block, amount); err != nil {
			return row, fmt.Errorf("bench yuma: warm-up epoch at %d uids: %w", n, err)
		}
	}
	epochTimes := make([]float64, runs)
	floatTimes := make([]float64, runs)
	var last yuma.Result
	for k := 0; k < runs; k++ {
		runtime.GC()
		// The float reference reads the same state the epoch is about to see.
		t0 := time.Now()
		ref := floatref.Prepare(s, p, block).Consensus(float64(p.Kappa) / 65535)
		floatTimes[k] = msSince(t0)
		runtime.GC()
		t0 = time.Now()
		res, err := yuma.Epoch(s, p, block, amount)
		epochTimes[k] = msSince(t0)
		if err != nil {
			return row, fmt.Errorf("bench yuma: epoch at %d uids: %w", n, err)
		}
		last = res
		for j, c := range res.Fixed.Consensus {
			d := math.Abs(float64(c.Bits())/(1<<32) - ref[j])
			row.MaxConsensusDiff = math.Max(row.MaxConsensusDiff, d)
		}
	}
	_ = last
	row.EpochMs, row.EpochMinMs = median(epochTimes), minOf(epochTimes)
	row.FloatConsensusMs = median(floatTimes)
	return row, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

func median(x []float64) float64 {
	c := append([]float64(nil), x...)
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func minOf(x []float64) float64 {
	m := math.Inf(1)
	for _, v := range x {
		m = math.Min(m, v)
	}
	return m
}

func printBenchYuma(w io.Writer, rep benchYumaReport) {
	r0 := rep.Rows[0]
	la := "off"
	if r0.Liquid {
		la = "on"
	}
	fmt.Fprintf(w, "Yuma epoch, fixed point: mode %s, liquid alpha %s, %d validators with dense weights, seed %d, median of %d runs (GOMAXPROCS %d)\n\n",
		r0.Mode, la, r0.Validators, rep.Seed, r0.Runs, rep.Goroutines)
	fmt.Fprintf(w, "%8s  %10s  %10s  %12s  %9s  %14s  %12s\n",
		"uids", "epoch ms", "fastest ms", "vs baseline", "uid ratio", "float64 C ms", "max |ΔC|")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "%8d  %10.2f  %10.2f  %11.2fx  %8.0fx  %14.2f  %12.2g\n",
			r.UIDs, r.EpochMs, r.EpochMinMs, r.Growth, r.UIDRatio, r.FloatConsensusMs, r.MaxConsensusDiff)
	}
	fmt.Fprintf(w, "\nbaseline: the %d-uid epoch, %.2f ms, measured in this run.\n", rep.BaselineUIDs, rep.BaselineMs)
	fmt.Fprintf(w, "float64 C: yuma/floatref consensus step (stake, masks, row normalisation, sort-based κ-median) on the same state; not consensus-safe, reference only.\n")
	verdict := "met"
	if !rep.TargetMet {
		verdict = "NOT met"
	}
	for _, r := range rep.Rows {
		if r.UIDs == rep.TargetUIDs {
			fmt.Fprintf(w, "target: %d uids under %.0f ms: %s (%.2f ms)\n", rep.TargetUIDs, rep.TargetMs, verdict, r.EpochMs)
		}
	}
}
