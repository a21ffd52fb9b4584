// Package yumabench times the fixed-point Yuma epoch (package yuma) on
// synthetic subnets, beside a float64 reference of the consensus step
// (package yuma/floatref). It backs `tenun bench yuma` and is not part of
// consensus.
package yumabench

import (
	"fmt"
	"github.com/tenun-chain/tenun/internal/cputime"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/tenun-chain/tenun/yuma"
	"github.com/tenun-chain/tenun/yuma/floatref"
)

// Config selects what to measure.
type Config struct {
	Sizes      []int  // subnet sizes in uids; the smallest is the baseline
	Validators int    // validators with dense weights (also K)
	Runs       int    // timed epochs per size
	Seed       uint64 // seed of the synthetic subnet
	Params     yuma.Params
}

// DefaultConfig is the acceptance benchmark: 256, 1,024 and 4,096 uids,
// 64 validators, new-subnet parameters (Yuma 3).
func DefaultConfig() Config {
	return Config{Sizes: []int{256, 1024, 4096}, Validators: 64, Runs: 7, Seed: 1, Params: yuma.DefaultParams()}
}

// TargetUIDs and TargetMs are the acceptance target: 4,096 uids in under
// 100 ms.
const (
	TargetUIDs = 4096
	TargetMs   = 100.0
)

// Row is the measurement of one size. Times are in milliseconds.
type Row struct {
	UIDs       int    `json:"uids"`
	Validators int    `json:"validators"`
	Mode       string `json:"mode"`
	Liquid     bool   `json:"liquid_alpha"`
	Runs       int    `json:"runs"`
	// EpochMs is the median wall-clock time of one epoch, EpochMinMs the
	// fastest; EpochCPUMs is the median CPU time of the running thread,
	// which other processes on a shared machine do not inflate (0 where
	// the platform lacks a thread clock).
	EpochMs    float64 `json:"epoch_ms"`
	EpochMinMs float64 `json:"epoch_min_ms"`
	EpochCPUMs float64 `json:"epoch_cpu_ms"`
	// Growth is EpochMs over the baseline size's EpochMs and CPUGrowth the
	// same for CPU time; UIDRatio is the matching uid ratio (growth above
	// it means super-linear cost).
	Growth    float64 `json:"growth_vs_baseline"`
	CPUGrowth float64 `json:"cpu_growth_vs_baseline"`
	UIDRatio  float64 `json:"uid_ratio"`
	// FloatConsensusMs is the median wall time of the float64 reference
	// consensus step on the same state; MaxConsensusDiff is the largest
	// |C_fixed − C_float| seen over all uids and runs.
	FloatConsensusMs float64 `json:"float64_consensus_ms"`
	MaxConsensusDiff float64 `json:"max_consensus_diff"`
}

// Report is a whole run.
type Report struct {
	Benchmark    string  `json:"benchmark"`
	Seed         uint64  `json:"seed"`
	BaselineUIDs int     `json:"baseline_uids"`
	BaselineMs   float64 `json:"baseline_epoch_ms"`
	Rows         []Row   `json:"rows"`
	TargetUIDs   int     `json:"target_uids"`
	TargetMs     float64 `json:"target_ms"`
	// TargetMeasured says whether TargetUIDs was among the sizes.
	// TargetMet judges the target on the thread CPU time when available
	// (wall time otherwise); TargetMetWall judges the median wall time.
	TargetMeasured bool   `json:"target_measured"`
	TargetMet      bool   `json:"target_met"`
	TargetMetWall  bool   `json:"target_met_wall"`
	GOMAXPROCS     int    `json:"gomaxprocs"`
	NumCPU         int    `json:"num_cpu"`
	MeasuredAtUTC  string `json:"measured_at_utc"`
}

// Run measures every size in cfg.
func Run(cfg Config) (Report, error) {
	if len(cfg.Sizes) == 0 || cfg.Runs < 1 {
		return Report{}, fmt.Errorf("yumabench: need at least one size and one run")
	}
	sizes := slices.Clone(cfg.Sizes)
	slices.Sort(sizes)
	rep := Report{
		Benchmark:     "yuma epoch (fixed point)",
		Seed:          cfg.Seed,
		BaselineUIDs:  sizes[0],
		TargetUIDs:    TargetUIDs,
		TargetMs:      TargetMs,
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		NumCPU:        runtime.NumCPU(),
		MeasuredAtUTC: time.Now().UTC().Format(time.RFC3339),
	}
	for _, n := range sizes {
		row, err := measure(n, cfg)
		if err != nil {
			return rep, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	base := rep.Rows[0]
	rep.BaselineMs = base.EpochMs
	for k := range rep.Rows {
		r := &rep.Rows[k]
		r.Growth = r.EpochMs / base.EpochMs
		if base.EpochCPUMs > 0 {
			r.CPUGrowth = r.EpochCPUMs / base.EpochCPUMs
		}
		r.UIDRatio = float64(r.UIDs) / float64(base.UIDs)
		if r.UIDs == TargetUIDs {
			judged := r.EpochMs
			if r.EpochCPUMs > 0 {
				judged = r.EpochCPUMs
			}
			rep.TargetMeasured = true
			rep.TargetMet = judged < TargetMs
			rep.TargetMetWall = r.EpochMs < TargetMs
		}
	}
	return rep, nil
}

func measure(n int, cfg Config) (Row, error) {
	p := cfg.Params
	row := Row{UIDs: n, Validators: cfg.Validators, Mode: p.BondsMode.String(), Liquid: p.LiquidAlpha, Runs: cfg.Runs}
	s, err := yuma.SyntheticSubnet(n, cfg.Validators, cfg.Seed)
	if err != nil {
		return row, fmt.Errorf("yumabench: %w", err)
	}
	if cfg.Validators > 0 && cfg.Validators <= math.MaxUint16 {
		p.MaxAllowedValidators = uint16(cfg.Validators)
	}
	const block, amount = yuma.SyntheticBlock, 1_000_000_000
	for k := 0; k < 2; k++ { // warm-up: populate bonds (steady state)
		if _, err := yuma.Epoch(s, p, block, amount); err != nil {
			return row, fmt.Errorf("yumabench: warm-up epoch at %d uids: %w", n, err)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall := make([]float64, cfg.Runs)
	cpu := make([]float64, 0, cfg.Runs)
	flt := make([]float64, cfg.Runs)
	kappa := float64(p.Kappa) / 65535
	for k := 0; k < cfg.Runs; k++ {
		runtime.GC()
		t0 := time.Now()
		ref := floatref.Prepare(s, p, block).Consensus(kappa)
		flt[k] = ms(time.Since(t0))

		runtime.GC()
		c0, cok := cputime.Thread()
		t0 = time.Now()
		res, err := yuma.Epoch(s, p, block, amount)
		wall[k] = ms(time.Since(t0))
		if c1, ok := cputime.Thread(); ok && cok {
			cpu = append(cpu, float64(c1-c0)/1e6)
		}
		if err != nil {
			return row, fmt.Errorf("yumabench: epoch at %d uids: %w", n, err)
		}
		for j, c := range res.Fixed.Consensus {
			d := math.Abs(float64(c.Bits())/(1<<32) - ref[j])
			row.MaxConsensusDiff = math.Max(row.MaxConsensusDiff, d)
		}
	}
	row.EpochMs, row.EpochMinMs = median(wall), slices.Min(wall)
	if len(cpu) > 0 {
		row.EpochCPUMs = median(cpu)
	}
	row.FloatConsensusMs = median(flt)
	return row, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func median(x []float64) float64 {
	c := slices.Clone(x)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}
