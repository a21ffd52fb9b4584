// Package sandbox runs untrusted WebAssembly jobs for Tenun's compute market.
// A job is a WASI preview1 command module (for example a Go program built with
// GOOS=wasip1 GOARCH=wasm) executed by wazero, isolated from the host and
// deterministic, so that every honest provider produces the same output bytes
// for the same job and verifiers can compare OutputDigest values.
//
// What a job sees:
//
//   - argv = ["job", Job.Args...]; the environment is Job.Env only, in key
//     order; stdin is empty;
//   - InputDir (/in): Job.Inputs, read-only; OutputDir (/out): an empty
//     writable directory whose files become Result.Outputs. Both live in host
//     memory; no host directory is mounted, there are no symlinks, and all
//     timestamps are zero;
//   - no network: WASI preview1 can only accept connections on sockets the
//     host pre-opens, and none are;
//   - clocks that start at FixedEpoch and advance only when read (sleeps
//     return at once), and random bytes derived from Job.Seed.
//
// Limits (see Limits): linear memory, fuel, wall time, an optional CPU-time
// budget, total output size and log size. wazero has no fuel of its own, and
// its way of stopping running code (WithCloseOnContextDone) makes compiled
// code call back into Go at every loop iteration, which measured 50x slower on
// a Go job. So the sandbox rewrites each module before compiling it (see
// meter.go): a counter in a new global is decremented at every loop header
// and the guest traps when it goes negative. That gives a deterministic fuel
// budget (Limits.Fuel, Result.FuelUsed: loop iterations, the same on every
// provider) and a cheap way to stop a job for time: the host overwrites the
// counter with a large negative value. Wall time is enforced that way; on
// Linux Limits.CPUTime is too, measured as the CPU time of the OS thread the
// guest runs on (its goroutine is locked to it), which is the fairer budget on
// a busy machine. Time-limit failures are the only ones that are not
// reproducible; see Reproducible.
//
// Host memory outside the linear memory is bounded as well: modules are at
// most MaxModuleBytes, their tables MaxTableElements, their functions
// MaxFunctionLocals locals, and every count in the binary must be backed by
// bytes before wazero sees it (wazero preallocates by declared counts). The
// guest's call stack is capped by wazero (deep recursion traps). Modules may
// import only wasi_snapshot_preview1 functions and the deterministic tensor
// kernels of KernelModule (kernels.go); Check refuses anything else before a
// job is posted.
//
// Modules are compiled with wazero's optimizing compiler and kept compiled in
// memory by SHA-256 of their bytes, and on disk across processes when
// Config.CacheDir is set, so running the same module again costs only its
// instantiation.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Guest paths of the two mounted directories.
const (
	InputDir  = "/in"
	OutputDir = "/out"
)

// Defaults applied to zero Limits fields, and hard ceilings.
const (
	DefaultMemoryBytes    = 512 << 20
	DefaultWallTime       = 60 * time.Second
	DefaultMaxOutputBytes = 64 << 20
	DefaultMaxLogBytes    = 1 << 20

	// MaxMemoryBytes is all a 32-bit linear memory can address.
	MaxMemoryBytes = 4 << 30
	// MaxModuleBytes bounds the module itself, since compile time grows with
	// it and is not covered by the time limits.
	MaxModuleBytes = 64 << 20
)

// Limits bounds one run. Zero fields take the defaults above.
type Limits struct {
	// MemoryBytes caps the guest's linear memory (rounded down to 64 KiB
	// pages by the engine's growth steps); at most MaxMemoryBytes.
	MemoryBytes uint64
	// WallTime caps instantiation plus execution, not compilation.
	WallTime time.Duration
	// CPUTime, when positive, caps the CPU time of the guest's thread (Linux);
	// elsewhere it is enforced as an extra wall-time limit.
	CPUTime time.Duration
	// Fuel caps the loop iterations the guest may run (0: MaxFuel, no cap).
	// It is checked every 65,536 iterations, so a job stops at most that far
	// past its budget, at the same point on every provider: unlike the time
	// limits, running out of fuel is reproducible.
	Fuel int64
	// MaxOutputBytes caps the total size of the files in OutputDir at any moment.
	MaxOutputBytes int64
	// MaxLogBytes caps stdout and stderr each; the excess is dropped and
	// Result.LogTruncated set, which is not an error.
	MaxLogBytes int
}

func (l Limits) withDefaults() Limits {
	if l.MemoryBytes == 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	l.MemoryBytes = min(l.MemoryBytes, MaxMemoryBytes)
	if l.WallTime <= 0 {
		l.WallTime = DefaultWallTime
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if l.MaxLogBytes <= 0 {
		l.MaxLogBytes = DefaultMaxLogBytes
	}
	if l.Fuel <= 0 || l.Fuel > MaxFuel {
		l.Fuel = MaxFuel
	}
	return l
}

// Job is one module run.
type Job struct {
	// Module is the WebAssembly binary; it must export "_start" (a WASI command).
	Module []byte
	// Inputs are mounted read-only under InputDir, keyed by slash-separated
	// relative path ("digits.csv.gz", "data/train.csv").
	Inputs map[string][]byte
	// Args follow argv[0], which is always "job".
	Args []string
	// Env is the guest's whole environment, passed in key order.
	Env map[string]string
	// Seed selects the guest's deterministic random byte stream.
	Seed uint64
	Limits
}

// Result is what a run produced. Run returns it, filled as far as the run got,
// with errors too, so stderr can explain a failure.
type Result struct {
	// Outputs are the regular files left in OutputDir, keyed by slash path.
	Outputs        map[string][]byte
	Stdout, Stderr []byte
	LogTruncated   bool
	ExitCode       uint32
	// Duration is the wall time of instantiation and execution.
	Duration time.Duration
	// CPUTime is the guest thread's CPU time (Linux; zero elsewhere).
	CPUTime time.Duration
	// FuelUsed counts the loop iterations run, including the module's start
	// function; the same on every provider.
	FuelUsed int64
	// CompileTime is zero when the compiled module came from the cache.
	CompileTime     time.Duration
	PeakMemoryBytes uint64
	// ModuleHash is the SHA-256 of Job.Module.
	ModuleHash [32]byte
}

// Errors Run returns, wrapped with details; test with errors.Is.
var (
	ErrInvalidJob    = errors.New("sandbox: invalid job")
	ErrInvalidModule = errors.New("sandbox: invalid module")
	ErrMemoryLimit   = errors.New("sandbox: memory limit exceeded")
	ErrTimeout       = errors.New("sandbox: time limit exceeded")
	ErrFuel          = errors.New("sandbox: fuel exhausted")
	ErrOutputLimit   = errors.New("sandbox: output limit exceeded")
	ErrTrap          = errors.New("sandbox: module trapped")
	ErrExit          = errors.New("sandbox: module exited with non-zero status")
	ErrClosed        = errors.New("sandbox: closed")
	errInternal      = errors.New("sandbox: internal error")
)

// Reproducible reports whether a Run error is a property of the job itself,
// so every honest provider gets the same one and verifiers may settle on it.
// Time limits, cancellation and internal errors depend on the machine.
func Reproducible(err error) bool {
	for _, e := range []error{ErrInvalidJob, ErrInvalidModule, ErrMemoryLimit, ErrFuel, ErrOutputLimit, ErrTrap, ErrExit} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Config configures a Sandbox.
type Config struct {
	// CacheDir, when set, keeps compiled machine code on disk (wazero's
	// file compilation cache) so a new process does not recompile a module.
	CacheDir string
	// MaxCachedModules bounds the compiled modules kept in memory (default 8).
	MaxCachedModules int
	// Interpreter selects wazero's interpreter instead of its compiler: much
	// slower, for platforms without compiler support. The compiler is used by
	// default on amd64 and arm64, the interpreter elsewhere.
	Interpreter bool
}

// Sandbox owns a wazero runtime and its compiled modules. It is safe for
// concurrent use; each Run gets its own instance, file systems and limits.
type Sandbox struct {
	rt        wazero.Runtime
	cache     wazero.CompilationCache
	maxCached int

	mu      sync.Mutex
	modules map[[32]byte]*cachedModule
	tick    uint64
	closed  bool

	// Close cancels closing to stop runs in progress, and waits for running
	// before closing the runtime: freeing compiled code under a running guest
	// would crash the process.
	closing  context.Context
	shutdown context.CancelFunc
	running  sync.WaitGroup
}

// New starts a sandbox. Close it to release the runtime and compiled code.
func New(ctx context.Context, cfg Config) (*Sandbox, error) {
	rc := wazero.NewRuntimeConfigInterpreter()
	if !cfg.Interpreter && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
		rc = wazero.NewRuntimeConfigCompiler()
	}
	rc = rc.
		WithCloseOnContextDone(false). // fuel metering stops running code instead; see meter.go
		WithDebugInfoEnabled(false).   // DWARF parsing slows compiles (meter drops custom sections anyway)
		WithMemoryLimitPages(1 << 16). // the per-job limit is the allocator in Run
		WithCoreFeatures(api.CoreFeaturesV2)
	s := &Sandbox{modules: map[[32]byte]*cachedModule{}, maxCached: cfg.MaxCachedModules}
	s.closing, s.shutdown = context.WithCancel(context.Background())
	if s.maxCached <= 0 {
		s.maxCached = 8
	}
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("sandbox: compilation cache in %s: %w", cfg.CacheDir, err)
		}
		s.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	s.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, s.rt); err != nil {
		_ = s.Close(ctx)
		return nil, fmt.Errorf("sandbox: instantiate WASI: %w", err)
	}
	if err := instantiateKernels(ctx, s.rt); err != nil {
		_ = s.Close(ctx)
		return nil, fmt.Errorf("sandbox: instantiate %s: %w", KernelModule, err)
	}
	return s, nil
}

// Close stops runs in progress (they fail wrapping ErrClosed), waits for them
// to return, and releases the runtime and every compiled module.
func (s *Sandbox) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.shutdown()
	s.running.Wait()
	err := s.rt.Close(ctx)
	if s.cache != nil {
		err = errors.Join(err, s.cache.Close(ctx))
	}
	return err
}

var (
	defaultOnce    sync.Once
	defaultSandbox *Sandbox
	defaultErr     error
)

// DefaultCacheDir is where the default sandbox keeps compiled modules:
// <user cache dir>/tenun/wazero, or "" when there is no user cache dir.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "tenun", "wazero")
}

// Default returns the process-wide sandbox Run uses, started on first use
// with DefaultCacheDir (or no disk cache when that cannot be used).
func Default() (*Sandbox, error) {
	defaultOnce.Do(func() {
		ctx := context.Background()
		if dir := DefaultCacheDir(); dir != "" {
			if defaultSandbox, defaultErr = New(ctx, Config{CacheDir: dir}); defaultErr == nil {
				return
			}
		}
		defaultSandbox, defaultErr = New(ctx, Config{})
	})
	return defaultSandbox, defaultErr
}

// Run runs job in the default sandbox; see Sandbox.Run.
func Run(ctx context.Context, job Job) (Result, error) {
	s, err := Default()
	if err != nil {
		return Result{}, err
	}
	return s.Run(ctx, job)
}
