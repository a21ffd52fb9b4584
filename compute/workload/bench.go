package workload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/internal/cputime"
)

// BenchConfig configures Bench. Zero fields take the defaults in parentheses.
type BenchConfig struct {
	DataPath string // the digits CSV (FindDigits from the working directory)
	Epochs   int    // training epochs per run (30, the trainer's default)
	Reps     int    // timed runs of each build (5)
	CacheDir string // where the builds are cached (the user cache dir)
}

// TargetRatio is the sandbox overhead Tenun aims for: the sandboxed trainer
// at most this many times slower than the native one.
const TargetRatio = 2.0

// Timing summarises the timed runs of one build.
type Timing struct {
	BestSeconds      float64   `json:"best_seconds"`
	MedianSeconds    float64   `json:"median_seconds"`
	CPUBestSeconds   float64   `json:"cpu_best_seconds"`
	CPUMedianSeconds float64   `json:"cpu_median_seconds"`
	RunsSeconds      []float64 `json:"runs_seconds"`
}

// BenchReport is what Bench measured: the trainer in the sandbox (wazero's
// compiler, fuel-metered) against the same source built natively, timed
// alternately in the same process.
type BenchReport struct {
	Workload    string `json:"workload"`
	Epochs      int    `json:"epochs"`
	Repetitions int    `json:"repetitions"`
	Engine      string `json:"engine"`
	Wazero      Timing `json:"wazero"`
	Native      Timing `json:"native"`
	// WazeroPlain is the same module under wazero's default compiler
	// configuration with none of the sandbox (no metering, a host directory
	// mounted): it separates what the sandbox costs from what running Go's
	// wasm output costs.
	WazeroPlain Timing `json:"wazero_plain"`
	// Ratios are sandbox / native: wall time best and median, and median CPU
	// time (the guest's thread against the native process), which a busy
	// machine distorts least.
	RatioBest      float64 `json:"ratio_best"`
	RatioMedian    float64 `json:"ratio_median"`
	RatioCPUMedian float64 `json:"ratio_cpu_median"`
	// SandboxOverhead is sandbox / plain wazero, median CPU time (median
	// wall time where CPU time is not measured).
	SandboxOverhead float64 `json:"sandbox_overhead"`
	TargetRatio     float64 `json:"target_ratio"`
	// TargetMet judges the median CPU ratio, falling back to the median wall
	// ratio where CPU time is not measured.
	TargetMet        bool    `json:"target_met"`
	OutputsIdentical bool    `json:"outputs_identical"`
	OutputDigest     string  `json:"output_digest"`
	FuelUsed         int64   `json:"fuel_used"`
	TestAccuracy     float64 `json:"test_accuracy"`
	CompileSeconds   float64 `json:"compile_seconds"`
	ModuleSHA256     string  `json:"module_sha256"`
	ModuleBytes      int     `json:"module_bytes"`
	GoVersion        string  `json:"go_version"`
	GOOS             string  `json:"goos"`
	GOARCH           string  `json:"goarch"`
	NumCPU           int     `json:"num_cpu"`
}

// Bench builds the trainer for wasm and natively, runs each cfg.Reps times
// (alternating, after one untimed warm-up run each) on the digits data set,
// and checks that every run wrote the same bytes.
func Bench(ctx context.Context, cfg BenchConfig) (BenchReport, error) {
	if cfg.Epochs <= 0 {
		cfg.Epochs = 30
	}
	if cfg.Reps <= 0 {
		cfg.Reps = 5
	}
	if cfg.DataPath == "" {
		p, err := FindDigits(".")
		if err != nil {
			return BenchReport{}, fmt.Errorf("%w (give the path of digits.csv.gz)", err)
		}
		cfg.DataPath = p
	}
	data, err := os.ReadFile(cfg.DataPath)
	if err != nil {
		return BenchReport{}, fmt.Errorf("workload: read data set: %w", err)
	}
	wasmPath, err := BuildTrainer(cfg.CacheDir)
	if err != nil {
		return BenchReport{}, err
	}
	module, err := os.ReadFile(wasmPath)
	if err != nil {
		return BenchReport{}, fmt.Errorf("workload: read trainer module: %w", err)
	}
	nativePath, err := BuildTrainerNative(cfg.CacheDir)
	if err != nil {
		return BenchReport{}, err
	}

	// A sandbox of its own without the disk cache, so the compile time
	// reported is a real compile.
	sb, err := sandbox.New(ctx, sandbox.Config{})
	if err != nil {
		return BenchReport{}, err
	}
	defer sb.Close(ctx)

	opts := TrainerOptions{Epochs: cfg.Epochs}
	job := TrainerJob(module, data, opts, sandbox.Limits{WallTime: 30 * time.Minute})
	moduleHash := sha256.Sum256(module)
	rep := BenchReport{
		Workload:    "digits MLP trainer (Go, GOOS=wasip1), 64-64-10, batch 16",
		Epochs:      cfg.Epochs,
		Repetitions: cfg.Reps,
		Engine:      engineName(),
		TargetRatio: TargetRatio,
		// The first run (the warm-up) compiles; later ones reuse the module.
		ModuleSHA256: hex.EncodeToString(moduleHash[:]),
		ModuleBytes:  len(module),
		GoVersion:    runtime.Version(),
		GOOS:         runtime.GOOS,
		GOARCH:       runtime.GOARCH,
		NumCPU:       runtime.NumCPU(),
	}

	warm, err := sb.Run(ctx, job)
	if err != nil {
		return rep, fmt.Errorf("workload: sandboxed trainer: %w\n%s", err, warm.Stderr)
	}
	rep.CompileSeconds = warm.CompileTime.Seconds()
	rep.FuelUsed = warm.FuelUsed
	want := warm.Digest()
	rep.OutputDigest = hex.EncodeToString(want[:])
	var metrics struct {
		TestAccuracy float64 `json:"test_accuracy"`
	}
	if err := json.Unmarshal(warm.Outputs[MetricsFile], &metrics); err != nil {
		return rep, fmt.Errorf("workload: trainer metrics: %w", err)
	}
	rep.TestAccuracy = metrics.TestAccuracy
	nat, err := RunTrainerNative(ctx, nativePath, data, opts)
	if err != nil {
		return rep, err
	}
	identical := sandbox.OutputDigest(nat.Outputs) == want
	plain, err := newPlainRunner(ctx, module, data)
	if err != nil {
		return rep, err
	}
	defer plain.close(ctx)
	_, _, digest, err := plain.run(ctx, opts) // warm-up
	if err != nil {
		return rep, err
	}
	identical = identical && digest == want

	var wasmWall, wasmCPU, natWall, natCPU, plainWall, plainCPU []time.Duration
	for range cfg.Reps {
		res, err := sb.Run(ctx, job)
		if err != nil {
			return rep, fmt.Errorf("workload: sandboxed trainer: %w\n%s", err, res.Stderr)
		}
		identical = identical && res.Digest() == want && res.FuelUsed == rep.FuelUsed
		wasmWall, wasmCPU = append(wasmWall, res.Duration), append(wasmCPU, res.CPUTime)

		nat, err := RunTrainerNative(ctx, nativePath, data, opts)
		if err != nil {
			return rep, err
		}
		identical = identical && sandbox.OutputDigest(nat.Outputs) == want
		natWall, natCPU = append(natWall, nat.Duration), append(natCPU, nat.CPUTime)

		wall, cpu, digest, err := plain.run(ctx, opts)
		if err != nil {
			return rep, err
		}
		identical = identical && digest == want
		plainWall, plainCPU = append(plainWall, wall), append(plainCPU, cpu)
	}
	rep.OutputsIdentical = identical
	rep.Wazero = summarise(wasmWall, wasmCPU)
	rep.Native = summarise(natWall, natCPU)
	rep.WazeroPlain = summarise(plainWall, plainCPU)
	rep.RatioBest = rep.Wazero.BestSeconds / rep.Native.BestSeconds
	rep.RatioMedian = rep.Wazero.MedianSeconds / rep.Native.MedianSeconds
	judged := rep.RatioMedian
	if rep.Wazero.CPUMedianSeconds > 0 && rep.Native.CPUMedianSeconds > 0 {
		rep.RatioCPUMedian = rep.Wazero.CPUMedianSeconds / rep.Native.CPUMedianSeconds
		judged = rep.RatioCPUMedian
	}
	rep.TargetMet = judged <= TargetRatio
	rep.SandboxOverhead = rep.Wazero.MedianSeconds / rep.WazeroPlain.MedianSeconds
	if rep.Wazero.CPUMedianSeconds > 0 && rep.WazeroPlain.CPUMedianSeconds > 0 {
		rep.SandboxOverhead = rep.Wazero.CPUMedianSeconds / rep.WazeroPlain.CPUMedianSeconds
	}
	return rep, nil
}

// plainRunner runs the trainer module under wazero without the sandbox; see
// BenchReport.WazeroPlain. Only for our own trusted module: nothing stops it.
type plainRunner struct {
	rt   wazero.Runtime
	mod  wazero.CompiledModule
	dir  string
	data []byte
}

func newPlainRunner(ctx context.Context, module, data []byte) (*plainRunner, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("workload: plain wazero: %w", err)
	}
	mod, err := rt.CompileModule(ctx, module)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("workload: plain wazero: compile: %w", err)
	}
	dir, err := os.MkdirTemp("", "tenun-trainer-plain-")
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("workload: temp dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, TrainerDataName), data, 0o644); err != nil {
		_ = rt.Close(ctx)
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("workload: write data set: %w", err)
	}
	return &plainRunner{rt: rt, mod: mod, dir: dir, data: data}, nil
}

func (p *plainRunner) run(ctx context.Context, opts TrainerOptions) (wall, cpu time.Duration, digest [32]byte, err error) {
	out := filepath.Join(p.dir, "out")
	if err := os.RemoveAll(out); err != nil {
		return 0, 0, digest, fmt.Errorf("workload: clear output dir: %w", err)
	}
	if err := os.Mkdir(out, 0o755); err != nil {
		return 0, 0, digest, fmt.Errorf("workload: create output dir: %w", err)
	}
	args := append([]string{"job"}, opts.Args("/d/"+TrainerDataName, "/d/out")...)
	cfg := wazero.NewModuleConfig().WithName("").WithArgs(args...).
		WithFSConfig(wazero.NewFSConfig().WithDirMount(p.dir, "/d"))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuOK := cputime.Thread()
	start := time.Now()
	mod, err := p.rt.InstantiateModule(ctx, p.mod, cfg)
	wall = time.Since(start)
	if cpu1, ok := cputime.Thread(); ok && cpuOK {
		cpu = cpu1 - cpu0
	}
	if mod != nil {
		_ = mod.Close(ctx)
	}
	if err != nil {
		return wall, cpu, digest, fmt.Errorf("workload: plain wazero run: %w", err)
	}
	outputs, err := readTree(out)
	if err != nil {
		return wall, cpu, digest, err
	}
	return wall, cpu, sandbox.OutputDigest(outputs), nil
}

func (p *plainRunner) close(ctx context.Context) {
	_ = p.rt.Close(ctx)
	_ = os.RemoveAll(p.dir)
}

func summarise(wall, cpu []time.Duration) Timing {
	var t Timing
	for _, d := range wall {
		t.RunsSeconds = append(t.RunsSeconds, d.Seconds())
	}
	t.BestSeconds, t.MedianSeconds = bestMedian(wall)
	t.CPUBestSeconds, t.CPUMedianSeconds = bestMedian(cpu)
	return t
}

func bestMedian(ds []time.Duration) (best, median float64) {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0, 0
	}
	mid := s[len(s)/2]
	if len(s)%2 == 0 {
		mid = (s[len(s)/2-1] + mid) / 2
	}
	return s[0].Seconds(), mid.Seconds()
}

// engineName describes the engine with wazero's version from the build info.
func engineName() string {
	version := "(unknown version)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/tetratelabs/wazero" {
				version = dep.Version
			}
		}
	}
	return "wazero " + version + " compiler, fuel-metered (tenun sandbox)"
}
