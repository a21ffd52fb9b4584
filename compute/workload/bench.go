package workload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	Epochs   int    // training epochs per run of either trainer (30, the trainer's default)
	Reps     int    // timed rounds; each runs every build once (5)
	CacheDir string // where the builds are cached (the user cache dir)
	// KMeans are the C job's parameters (its defaults: k 10, 100
	// iterations, 8 restarts).
	KMeans KMeansOptions
	// Progress, when set, is called after each run with what was run.
	Progress func(done, total int, what string)
}

// The targets of issue 17: the sandboxed kernel trainer at most
// KernelTargetRatio and the sandboxed C job at most CTargetRatio times
// slower than the same source built natively. The pure-wasm trainer is
// measured for the record against TargetRatio, the earlier target.
const (
	KernelTargetRatio = 1.3
	CTargetRatio      = 2.0
	TargetRatio       = 2.0
)

// Timing summarises the timed runs of one build.
type Timing struct {
	BestSeconds      float64   `json:"best_seconds"`
	MedianSeconds    float64   `json:"median_seconds"`
	CPUBestSeconds   float64   `json:"cpu_best_seconds"`
	CPUMedianSeconds float64   `json:"cpu_median_seconds"`
	RunsSeconds      []float64 `json:"runs_seconds"`
	CPURunsSeconds   []float64 `json:"cpu_runs_seconds,omitempty"`
}

// BenchPair is one workload built twice from the same source, timed in the
// sandbox and natively in the same rounds.
type BenchPair struct {
	Workload string `json:"workload"`
	Sandbox  Timing `json:"sandbox"`
	Native   Timing `json:"native"`
	// Plain is the same module under wazero's default compiler with none
	// of the sandbox (no metering, a host directory mounted), measured for
	// the pure-wasm trainer only: it separates what the sandbox costs from
	// what running Go's wasm output costs.
	Plain *Timing `json:"plain,omitempty"`
	// Ratios are sandbox / native: wall time best and median, and median
	// CPU time (the guest's thread against the native process), which a
	// busy machine distorts least.
	RatioBest      float64 `json:"ratio_best"`
	RatioMedian    float64 `json:"ratio_median"`
	RatioCPUMedian float64 `json:"ratio_cpu_median"`
	// SandboxOverhead is sandbox / plain, median CPU time (wall where CPU
	// time is not measured); only with Plain.
	SandboxOverhead float64 `json:"sandbox_overhead,omitempty"`
	TargetRatio     float64 `json:"target_ratio"`
	// TargetMet judges the median CPU ratio, falling back to the median
	// wall ratio where CPU time is not measured.
	TargetMet bool `json:"target_met"`
	// OutputsIdentical: every run, sandboxed, native (and plain), wrote the
	// same bytes; FuelIdentical: every sandboxed run used the same fuel.
	OutputsIdentical bool    `json:"outputs_identical"`
	FuelIdentical    bool    `json:"fuel_identical"`
	OutputDigest     string  `json:"output_digest"`
	FuelUsed         int64   `json:"fuel_used"`
	Quality          string  `json:"quality"` // e.g. "test accuracy 0.9617"
	CompileSeconds   float64 `json:"compile_seconds"`
	ModuleSHA256     string  `json:"module_sha256"`
	ModuleBytes      int     `json:"module_bytes"`
	// Skipped says why the workload was not measured (clang missing).
	Skipped string `json:"skipped,omitempty"`
	// For the kernel trainer, the same job with one epoch, in the same
	// rounds: what starting the module, the Go runtime and loading the data
	// costs, which wasm pays at its own speed. TrainingRatio is the ratio of
	// what is left (median CPU time, all epochs less one epoch), the cost of
	// the training loop itself on the kernels.
	StartupSandbox *Timing `json:"startup_sandbox,omitempty"`
	StartupNative  *Timing `json:"startup_native,omitempty"`
	TrainingRatio  float64 `json:"training_ratio,omitempty"`
}

// Judged is the ratio the target is judged on: median CPU time, or median
// wall time where CPU time is not measured.
func (p BenchPair) Judged() (ratio float64, basis string) {
	if p.RatioCPUMedian > 0 {
		return p.RatioCPUMedian, "median CPU time"
	}
	return p.RatioMedian, "median wall time"
}

// BenchReport is what Bench measured: the kernel trainer, the pure-wasm
// trainer and the C k-means job, each in the sandbox (wazero's compiler,
// fuel-metered) against the same source built natively, in the same rounds.
type BenchReport struct {
	Epochs      int       `json:"epochs"`
	Repetitions int       `json:"repetitions"`
	Engine      string    `json:"engine"`
	Kernels     BenchPair `json:"kernels"`
	Pure        BenchPair `json:"pure"`
	C           BenchPair `json:"c"`
	// Deterministic: every workload measured wrote identical outputs and
	// used identical fuel on every run.
	Deterministic bool   `json:"deterministic"`
	GoVersion     string `json:"go_version"`
	GOOS          string `json:"goos"`
	GOARCH        string `json:"goarch"`
	NumCPU        int    `json:"num_cpu"`
}

// ErrNotDeterministic is returned by Bench (with its report) when two runs
// of a workload wrote different bytes or used different fuel.
var ErrNotDeterministic = errors.New("workload: bench: runs differ in outputs or fuel")

// run is one timed execution of a build.
type run struct {
	wall, cpu time.Duration
	digest    [32]byte
	fuel      int64 // sandboxed runs only
}

type runFunc func(ctx context.Context) (run, error)

// pairRunners are the builds of one workload and how to judge it.
type pairRunners struct {
	pair                   *BenchPair
	module                 []byte
	sandbox, native, plain runFunc
	// startup: the same job's one-epoch runs (kernel trainer only)
	startupSandbox, startupNative runFunc
}

// Bench builds the three workloads for wasm and natively, runs every build
// once untimed (compiling the modules) and then cfg.Reps timed rounds, each
// running every build once, so that a change in the machine's load falls on
// all of them alike. Every run's outputs and every sandboxed run's fuel
// must be the same: when they are not, Bench returns the report with
// ErrNotDeterministic. The C job is skipped (Skipped says why) where clang
// cannot build for wasm32-wasi.
func Bench(ctx context.Context, cfg BenchConfig) (BenchReport, error) {
	if cfg.Epochs <= 0 {
		cfg.Epochs = 30
	}
	if cfg.Reps <= 0 {
		cfg.Reps = 5
	}
	rep := BenchReport{
		Epochs: cfg.Epochs, Repetitions: cfg.Reps, Engine: engineName(),
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
		Kernels: BenchPair{Workload: "digits MLP trainer on the tensor kernels (Go, -tags tenunkernels), 64-64-10, batch 16", TargetRatio: KernelTargetRatio},
		Pure:    BenchPair{Workload: "digits MLP trainer, pure wasm (Go, its own loops), 64-64-10, batch 16", TargetRatio: TargetRatio},
		C:       BenchPair{Workload: "k-means on the digits (C, clang -O2 -ffp-contract=off)", TargetRatio: CTargetRatio},
	}
	if cfg.DataPath == "" {
		p, err := FindDigits(".")
		if err != nil {
			return rep, fmt.Errorf("%w (give the path of digits.csv.gz)", err)
		}
		cfg.DataPath = p
	}
	data, err := os.ReadFile(cfg.DataPath)
	if err != nil {
		return rep, fmt.Errorf("workload: read data set: %w", err)
	}
	csv, err := PlainDigits(data)
	if err != nil {
		return rep, err
	}

	// A sandbox of its own without the disk cache, so the compile times
	// reported are real compiles.
	sb, err := sandbox.New(ctx, sandbox.Config{})
	if err != nil {
		return rep, err
	}
	defer sb.Close(ctx)
	limits := sandbox.Limits{WallTime: 30 * time.Minute}
	opts := TrainerOptions{Epochs: cfg.Epochs}

	var pairs []pairRunners
	// The kernel trainer.
	kwasm, knative, err := buildPair(func(native bool) (string, error) { return BuildTrainerKernels(cfg.CacheDir, native) })
	if err != nil {
		return rep, err
	}
	oneEpoch := TrainerOptions{Epochs: 1}
	var startupPair BenchPair // compile time and quality of the one-epoch job are not reported
	pairs = append(pairs, pairRunners{pair: &rep.Kernels, module: kwasm,
		sandbox:        sandboxRunner(sb, TrainerJob(kwasm, data, opts, limits), &rep.Kernels),
		native:         trainerNativeRunner(knative, data, opts),
		startupSandbox: sandboxRunner(sb, TrainerJob(kwasm, data, oneEpoch, limits), &startupPair),
		startupNative:  trainerNativeRunner(knative, data, oneEpoch)})
	// The pure-wasm trainer, with plain wazero beside it.
	pwasm, pnative, err := buildPair(func(native bool) (string, error) {
		if native {
			return BuildTrainerNative(cfg.CacheDir)
		}
		return BuildTrainer(cfg.CacheDir)
	})
	if err != nil {
		return rep, err
	}
	plain, err := newPlainRunner(ctx, pwasm, data)
	if err != nil {
		return rep, err
	}
	defer plain.close(ctx)
	pairs = append(pairs, pairRunners{pair: &rep.Pure, module: pwasm,
		sandbox: sandboxRunner(sb, TrainerJob(pwasm, data, opts, limits), &rep.Pure),
		native:  trainerNativeRunner(pnative, data, opts),
		plain:   func(ctx context.Context) (run, error) { return plain.run(ctx, opts) }})
	// The C job.
	cwasm, cnative, err := buildPair(func(native bool) (string, error) { return BuildKMeans(cfg.CacheDir, native) })
	switch {
	case errors.Is(err, ErrNoClang):
		rep.C.Skipped = err.Error()
	case err != nil:
		return rep, err
	default:
		inputs := map[string][]byte{KMeansDataName: csv}
		pairs = append(pairs, pairRunners{pair: &rep.C, module: cwasm,
			sandbox: sandboxRunner(sb, KMeansJob(cwasm, csv, cfg.KMeans, limits), &rep.C),
			native: func(ctx context.Context) (run, error) {
				res, err := RunNative(ctx, cnative, inputs, cfg.KMeans.Args())
				if err != nil {
					return run{}, err
				}
				return run{wall: res.Duration, cpu: res.CPUTime, digest: sandbox.OutputDigest(res.Outputs)}, nil
			}})
	}
	for _, p := range pairs {
		p.pair.ModuleBytes = len(p.module)
		sum := sha256.Sum256(p.module)
		p.pair.ModuleSHA256 = hex.EncodeToString(sum[:])
	}

	total := 0
	for _, p := range pairs {
		total += 2
		if p.plain != nil {
			total++
		}
		if p.startupSandbox != nil {
			total += 2
		}
	}
	total *= cfg.Reps + 1
	done := 0
	step := func(what string) {
		done++
		if cfg.Progress != nil {
			cfg.Progress(done, total, what)
		}
	}

	all := make([]struct {
		sandbox, native, plain, startupSandbox, startupNative []run
	}, len(pairs))
	for round := 0; round <= cfg.Reps; round++ { // round 0 is the untimed warm-up
		for i, p := range pairs {
			for _, r := range []struct {
				name string
				f    runFunc
				into *[]run
			}{{"sandbox", p.sandbox, &all[i].sandbox}, {"native", p.native, &all[i].native}, {"plain", p.plain, &all[i].plain},
				{"sandbox (one epoch)", p.startupSandbox, &all[i].startupSandbox}, {"native (one epoch)", p.startupNative, &all[i].startupNative}} {
				if r.f == nil {
					continue
				}
				res, err := r.f(ctx)
				if err != nil {
					return rep, fmt.Errorf("workload: bench %s, %s build: %w", p.pair.Workload, r.name, err)
				}
				step(r.name + " " + p.pair.Workload)
				*r.into = append(*r.into, res)
			}
		}
	}

	rep.Deterministic = true
	for i, p := range pairs {
		s := all[i]
		bp := p.pair
		want := s.sandbox[0].digest
		bp.OutputDigest = hex.EncodeToString(want[:])
		bp.FuelUsed = s.sandbox[0].fuel
		bp.OutputsIdentical, bp.FuelIdentical = true, true
		for _, runs := range [][]run{s.sandbox, s.native, s.plain} {
			for _, r := range runs {
				bp.OutputsIdentical = bp.OutputsIdentical && r.digest == want
			}
		}
		for _, r := range s.sandbox {
			bp.FuelIdentical = bp.FuelIdentical && r.fuel == bp.FuelUsed
		}
		rep.Deterministic = rep.Deterministic && bp.OutputsIdentical && bp.FuelIdentical
		bp.Sandbox, bp.Native = summarise(s.sandbox[1:]), summarise(s.native[1:])
		bp.RatioBest = bp.Sandbox.BestSeconds / bp.Native.BestSeconds
		bp.RatioMedian = bp.Sandbox.MedianSeconds / bp.Native.MedianSeconds
		if bp.Sandbox.CPUMedianSeconds > 0 && bp.Native.CPUMedianSeconds > 0 {
			bp.RatioCPUMedian = bp.Sandbox.CPUMedianSeconds / bp.Native.CPUMedianSeconds
		}
		judged, _ := bp.Judged()
		bp.TargetMet = judged <= bp.TargetRatio
		if len(s.startupSandbox) > 1 && len(s.startupNative) > 1 {
			ss, sn := summarise(s.startupSandbox[1:]), summarise(s.startupNative[1:])
			bp.StartupSandbox, bp.StartupNative = &ss, &sn
			if d := bp.Native.CPUMedianSeconds - sn.CPUMedianSeconds; d > 0 {
				bp.TrainingRatio = (bp.Sandbox.CPUMedianSeconds - ss.CPUMedianSeconds) / d
			}
		}
		if len(s.plain) > 0 {
			t := summarise(s.plain[1:])
			bp.Plain = &t
			bp.SandboxOverhead = bp.Sandbox.MedianSeconds / t.MedianSeconds
			if bp.Sandbox.CPUMedianSeconds > 0 && t.CPUMedianSeconds > 0 {
				bp.SandboxOverhead = bp.Sandbox.CPUMedianSeconds / t.CPUMedianSeconds
			}
		}
	}
	if !rep.Deterministic {
		return rep, ErrNotDeterministic
	}
	return rep, nil
}

// buildPair builds a workload for wasm and natively and reads the module.
func buildPair(build func(native bool) (string, error)) (module []byte, native string, err error) {
	wasmPath, err := build(false)
	if err != nil {
		return nil, "", err
	}
	if module, err = os.ReadFile(wasmPath); err != nil {
		return nil, "", fmt.Errorf("workload: read module: %w", err)
	}
	if native, err = build(true); err != nil {
		return nil, "", err
	}
	return module, native, nil
}

// sandboxRunner runs job in sb; the first run (the warm-up, which compiles)
// records the compile time and the job's own quality figure in bp.
func sandboxRunner(sb *sandbox.Sandbox, job sandbox.Job, bp *BenchPair) runFunc {
	return func(ctx context.Context) (run, error) {
		res, err := sb.Run(ctx, job)
		if err != nil {
			return run{}, fmt.Errorf("%w\n%s", err, res.Stderr)
		}
		if res.CompileTime > 0 {
			bp.CompileSeconds = res.CompileTime.Seconds()
		}
		if bp.Quality == "" {
			bp.Quality = quality(res.Outputs[MetricsFile])
		}
		return run{wall: res.Duration, cpu: res.CPUTime, digest: res.Digest(), fuel: res.FuelUsed}, nil
	}
}

func trainerNativeRunner(bin string, data []byte, opts TrainerOptions) runFunc {
	return func(ctx context.Context) (run, error) {
		res, err := RunTrainerNative(ctx, bin, data, opts)
		if err != nil {
			return run{}, err
		}
		return run{wall: res.Duration, cpu: res.CPUTime, digest: sandbox.OutputDigest(res.Outputs)}, nil
	}
}

// quality reads the figure a job's metrics.json reports about its model:
// the trainers' test accuracy, the k-means job's purity.
func quality(metrics []byte) string {
	var m struct {
		TestAccuracy *float64 `json:"test_accuracy"`
		Purity       *float64 `json:"purity"`
	}
	if err := json.Unmarshal(metrics, &m); err != nil {
		return ""
	}
	switch {
	case m.TestAccuracy != nil:
		return fmt.Sprintf("test accuracy %.4f", *m.TestAccuracy)
	case m.Purity != nil:
		return fmt.Sprintf("purity %.4f", *m.Purity)
	}
	return ""
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

func (p *plainRunner) run(ctx context.Context, opts TrainerOptions) (r run, err error) {
	out := filepath.Join(p.dir, "out")
	if err := os.RemoveAll(out); err != nil {
		return r, fmt.Errorf("workload: clear output dir: %w", err)
	}
	if err := os.Mkdir(out, 0o755); err != nil {
		return r, fmt.Errorf("workload: create output dir: %w", err)
	}
	args := append([]string{"job"}, opts.Args("/d/"+TrainerDataName, "/d/out")...)
	cfg := wazero.NewModuleConfig().WithName("").WithArgs(args...).
		WithFSConfig(wazero.NewFSConfig().WithDirMount(p.dir, "/d"))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuOK := cputime.Thread()
	start := time.Now()
	mod, err := p.rt.InstantiateModule(ctx, p.mod, cfg)
	r.wall = time.Since(start)
	if cpu1, ok := cputime.Thread(); ok && cpuOK {
		r.cpu = cpu1 - cpu0
	}
	if mod != nil {
		_ = mod.Close(ctx)
	}
	if err != nil {
		return r, fmt.Errorf("workload: plain wazero run: %w", err)
	}
	outputs, err := readTree(out)
	if err != nil {
		return r, err
	}
	r.digest = sandbox.OutputDigest(outputs)
	return r, nil
}

func (p *plainRunner) close(ctx context.Context) {
	_ = p.rt.Close(ctx)
	_ = os.RemoveAll(p.dir)
}

func summarise(runs []run) Timing {
	var t Timing
	var wall, cpu []time.Duration
	for _, r := range runs {
		wall, cpu = append(wall, r.wall), append(cpu, r.cpu)
		t.RunsSeconds = append(t.RunsSeconds, r.wall.Seconds())
		t.CPURunsSeconds = append(t.CPURunsSeconds, r.cpu.Seconds())
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
