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
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/tenun-chain/tenun/internal/cputime"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
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

// Causes that tell our own time limits apart from the caller's cancellation.
var (
	errWallTime = errors.New("wall time")
	errCPUTime  = errors.New("CPU time")
)

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

type cachedModule struct {
	ready    chan struct{} // closed once mod or err is set
	mod      wazero.CompiledModule
	err      error
	minBytes uint64 // initial linear memory the module asks for
	users    int
	lastUse  uint64
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

// Run executes job and returns its outputs. A non-nil error means the job did
// not complete normally: a limit (ErrMemoryLimit, ErrFuel, ErrTimeout,
// ErrOutputLimit), a bad job or module (ErrInvalidJob, ErrInvalidModule), a
// trap (ErrTrap), a non-zero exit status (ErrExit, with Result.ExitCode set)
// or the caller's cancellation. The Result is filled as far as the run got in
// every case. Reproducible tells which errors every provider would also get.
func (s *Sandbox) Run(ctx context.Context, job Job) (Result, error) {
	res := Result{ModuleHash: sha256.Sum256(job.Module)}
	if err := validateJob(job); err != nil {
		return res, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return res, ErrClosed
	}
	s.running.Add(1)
	s.mu.Unlock()
	defer s.running.Done()
	limits := job.Limits.withDefaults()

	entry, compileTime, err := s.compile(ctx, res.ModuleHash, job.Module)
	res.CompileTime = compileTime
	if err != nil {
		return res, err
	}
	defer s.release(entry)
	if entry.minBytes > limits.MemoryBytes {
		return res, fmt.Errorf("%w: module starts with %d bytes of memory, limit is %d", ErrMemoryLimit, entry.minBytes, limits.MemoryBytes)
	}

	in := newInputFS(job.Inputs)
	out := newMemFS(limits.MaxOutputBytes)
	stdout := &cappedBuffer{limit: limits.MaxLogBytes}
	stderr := &cappedBuffer{limit: limits.MaxLogBytes}
	clock := &detClock{}
	fsConfig := wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(in, InputDir)
	fsConfig = fsConfig.(sysfs.FSConfig).WithSysFSMount(out, OutputDir)
	mc := wazero.NewModuleConfig().
		WithName("").         // anonymous, so concurrent runs of one module do not clash
		WithStartFunctions(). // _start is called below, to tell link errors from traps
		WithArgs(append([]string{"job"}, job.Args...)...).
		WithStdin(bytes.NewReader(nil)).
		WithStdout(stdout).
		WithStderr(stderr).
		WithWalltime(clock.walltime, clockTick).
		WithNanotime(clock.nanotime, clockTick).
		WithNanosleep(clock.nanosleep).
		WithOsyield(func() {}).
		WithRandSource(newDetRand(job.Seed)).
		WithFSConfig(fsConfig)
	for _, k := range slices.Sorted(maps.Keys(job.Env)) {
		mc = mc.WithEnv(k, job.Env[k])
	}

	alloc := &limitedAllocator{limit: limits.MemoryBytes}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(s.closing, func() { cancel(ErrClosed) })()
	wall, wallCause := limits.WallTime, errWallTime
	if limits.CPUTime > 0 && !cputime.ThreadSupported && limits.CPUTime < wall {
		wall, wallCause = limits.CPUTime, errCPUTime
	}
	runCtx, cancelWall := context.WithTimeoutCause(runCtx, wall, wallCause)
	defer cancelWall()
	runCtx = experimental.WithMemoryAllocator(runCtx, alloc)

	ex := s.execute(runCtx, cancel, entry.mod, mc, limits, &res)

	refused, peak := alloc.state()
	res.PeakMemoryBytes = peak
	res.Outputs = out.files()
	res.Stdout, res.Stderr = stdout.buf.Bytes(), stderr.buf.Bytes()
	res.LogTruncated = stdout.truncated || stderr.truncated

	var exitErr *sys.ExitError
	callExit := errors.As(ex.callErr, &exitErr)
	if callExit {
		res.ExitCode = exitErr.ExitCode()
	}
	failed := ex.linkErr != nil || ex.callErr != nil && !(callExit && exitErr.ExitCode() == 0)
	switch {
	case ex.panicked != nil && refused:
		return res, fmt.Errorf("%w: %d bytes", ErrMemoryLimit, limits.MemoryBytes)
	case ex.panicked != nil:
		return res, fmt.Errorf("%w: wazero panicked: %v", errInternal, ex.panicked)
	case ex.stopped != nil:
		// Even a run that finished as the poison landed counts as stopped:
		// its fuel count was overwritten, so its Result is not reproducible.
		switch {
		case errors.Is(ex.stopped, errWallTime):
			return res, fmt.Errorf("%w: wall time %v", ErrTimeout, limits.WallTime)
		case errors.Is(ex.stopped, errCPUTime):
			return res, fmt.Errorf("%w: CPU time %v", ErrTimeout, limits.CPUTime)
		default:
			return res, fmt.Errorf("sandbox: run canceled: %w", ex.stopped)
		}
	case failed && ex.outOfFuel:
		return res, fmt.Errorf("%w: used %d", ErrFuel, res.FuelUsed)
	case failed && refused:
		return res, fmt.Errorf("%w: guest asked for more than %d bytes", ErrMemoryLimit, limits.MemoryBytes)
	case out.overflow:
		return res, fmt.Errorf("%w: more than %d bytes or %d files in %s", ErrOutputLimit, limits.MaxOutputBytes, maxOutputEntries, OutputDir)
	case ex.linkErr != nil:
		return res, fmt.Errorf("%w: instantiate: %w", ErrInvalidModule, ex.linkErr)
	case callExit && res.ExitCode != 0:
		return res, fmt.Errorf("%w: exit code %d", ErrExit, res.ExitCode)
	case ex.callErr != nil && !callExit:
		return res, fmt.Errorf("%w: %w", ErrTrap, ex.callErr)
	}
	return res, nil
}

// execution is how a run ended, for Run to classify.
type execution struct {
	linkErr   error // instantiation failed (not the start function's exit)
	callErr   error // _start or the start function failed or exited
	panicked  any   // wazero panicked; recovered
	stopped   error // why the host stopped the guest (time, cancellation), if it did
	outOfFuel bool  // the guest exhausted its own budget
}

// execute instantiates the module and calls _start on the current goroutine,
// locked to its OS thread so the thread's CPU clock measures the guest.
// A panic inside wazero (which a hostile module should never cause, but a
// memory allocator refusing the initial size does) is recovered and returned.
func (s *Sandbox) execute(ctx context.Context, cancel context.CancelCauseFunc, compiled wazero.CompiledModule,
	mc wazero.ModuleConfig, limits Limits, res *Result,
) (ex execution) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	readCPU := cputime.ThreadClock()
	cpu0, cpuOK := readCPU()
	start := time.Now()
	defer func() {
		res.Duration = time.Since(start)
		if cpu1, ok := readCPU(); ok && cpuOK {
			res.CPUTime = cpu1 - cpu0
		}
		if p := recover(); p != nil {
			ex.panicked = p
		}
	}()

	// The module's start function, if any, runs here on startFuel; if it
	// traps (or runs out), the module counts as invalid.
	mod, err := s.rt.InstantiateModule(ctx, compiled, mc)
	if err != nil {
		if exitErr := (*sys.ExitError)(nil); errors.As(err, &exitErr) {
			ex.callErr = err // the start function called proc_exit
		} else {
			ex.linkErr = err
		}
		return ex
	}
	defer mod.Close(context.Background())
	fuel := mod.ExportedGlobal(fuelExport).(api.MutableGlobal) // meter added it
	res.FuelUsed = startFuel - int64(fuel.Get())
	fuel.Set(uint64(limits.Fuel))

	done := make(chan struct{})
	stopped := make(chan error, 1)
	go watch(ctx, done, stopped, cancel, fuel, readCPU, cpu0, cpuOK, limits.CPUTime)
	finished := false
	finish := func() { // also on panic, so watch never outlives the run
		if !finished {
			finished = true
			close(done)
			ex.stopped = <-stopped // waits for watch to stop writing the counter
		}
	}
	defer finish()

	_, ex.callErr = mod.ExportedFunction("_start").Call(ctx) // checkModule made sure it exists
	finish()
	left := int64(fuel.Get())
	if ex.stopped == nil {
		res.FuelUsed += limits.Fuel - left
		ex.outOfFuel = left < 0
	} else {
		res.FuelUsed = 0 // the counter was overwritten, so the count is lost
	}
	return ex
}

// watch stops the guest when ctx ends (wall time, the caller) or, with a CPU
// limit, when the guest thread has used it: it overwrites the fuel counter
// with poisonFuel so the guest traps at its next loop header. The guest may
// race a single write (its own load, decrement, store), so the poison is
// rewritten until the run ends. watch sends the reason (nil if it did not
// stop the guest) on stopped once it no longer touches the counter.
func watch(ctx context.Context, done <-chan struct{}, stopped chan<- error, cancel context.CancelCauseFunc,
	fuel api.MutableGlobal, readCPU func() (time.Duration, bool), cpu0 time.Duration, cpuOK bool, cpuLimit time.Duration,
) {
	var tick <-chan time.Time
	if cpuOK && cpuLimit > 0 {
		t := time.NewTicker(min(max(cpuLimit/20, time.Millisecond), 50*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	var cause error
wait:
	for {
		select {
		case <-done:
			stopped <- nil
			return
		case <-ctx.Done():
			cause = context.Cause(ctx)
			break wait
		case <-tick:
			if used, ok := readCPU(); ok && used-cpu0 > cpuLimit {
				cause = errCPUTime
				cancel(cause)
				break wait
			}
		}
	}
	poison := time.NewTicker(time.Millisecond)
	defer poison.Stop()
	poisonValue := int64(poisonFuel)
	for {
		fuel.Set(uint64(poisonValue))
		select {
		case <-done:
			stopped <- cause
			return
		case <-poison.C:
		}
	}
}

// compile returns the compiled module for hash, compiling it at most once
// even when several runs ask at the same time. Release the entry after use.
func (s *Sandbox) compile(ctx context.Context, hash [32]byte, module []byte) (*cachedModule, time.Duration, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, 0, ErrClosed
	}
	s.tick++
	if e, ok := s.modules[hash]; ok {
		e.users++
		e.lastUse = s.tick
		s.mu.Unlock()
		<-e.ready
		if e.err != nil {
			s.release(e)
			return nil, 0, e.err
		}
		return e, 0, nil
	}
	e := &cachedModule{ready: make(chan struct{}), users: 1, lastUse: s.tick}
	s.modules[hash] = e
	s.mu.Unlock()

	start := time.Now()
	e.mod, e.minBytes, e.err = s.compileChecked(ctx, module)
	took := time.Since(start)
	if e.err != nil {
		s.mu.Lock()
		delete(s.modules, hash) // do not keep failures: fuzzers and attackers have endless bad modules
		s.mu.Unlock()
	}
	close(e.ready)
	if e.err != nil {
		return nil, took, e.err
	}
	s.evict()
	return e, took, nil
}

// compileChecked compiles module and checks it is a command the sandbox can run.
func (s *Sandbox) compileChecked(ctx context.Context, module []byte) (mod wazero.CompiledModule, minBytes uint64, err error) {
	defer func() {
		if p := recover(); p != nil {
			mod, err = nil, fmt.Errorf("%w: compiler panicked: %v", ErrInvalidModule, p)
		}
	}()
	metered, err := meter(module)
	if err != nil {
		if errors.Is(err, ErrInvalidModule) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	mod, err = s.rt.CompileModule(ctx, metered)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	if err := checkModule(mod); err != nil {
		_ = mod.Close(ctx)
		return nil, 0, err
	}
	return mod, memoryMinBytes(module), nil
}

func checkModule(mod wazero.CompiledModule) error {
	for _, f := range mod.ImportedFunctions() {
		if m, name, _ := f.Import(); m != wasi_snapshot_preview1.ModuleName && m != KernelModule {
			return fmt.Errorf("%w: imports %s.%s; only %s and %s are provided", ErrInvalidModule, m, name, wasi_snapshot_preview1.ModuleName, KernelModule)
		}
	}
	for _, m := range mod.ImportedMemories() {
		mn, name, _ := m.Import()
		return fmt.Errorf("%w: imports memory %s.%s; modules must define their own", ErrInvalidModule, mn, name)
	}
	start, ok := mod.ExportedFunctions()["_start"]
	if !ok {
		return fmt.Errorf("%w: not a WASI command: no _start export", ErrInvalidModule)
	}
	if len(start.ParamTypes()) != 0 || len(start.ResultTypes()) != 0 {
		return fmt.Errorf("%w: _start must take and return nothing", ErrInvalidModule)
	}
	return nil
}

func (s *Sandbox) release(e *cachedModule) {
	s.mu.Lock()
	e.users--
	s.mu.Unlock()
	s.evict()
}

// evict closes the least recently used idle modules beyond maxCached.
func (s *Sandbox) evict() {
	s.mu.Lock()
	var victims []wazero.CompiledModule
	for len(s.modules) > s.maxCached {
		var oldHash [32]byte
		var old *cachedModule
		for h, e := range s.modules {
			if e.users == 0 && e.mod != nil && (old == nil || e.lastUse < old.lastUse) {
				oldHash, old = h, e
			}
		}
		if old == nil {
			break // everything left is in use or still compiling
		}
		delete(s.modules, oldHash)
		victims = append(victims, old.mod)
	}
	s.mu.Unlock()
	for _, m := range victims {
		_ = m.Close(context.Background())
	}
}

func validateJob(job Job) error {
	if len(job.Module) == 0 {
		return fmt.Errorf("%w: empty module", ErrInvalidJob)
	}
	if len(job.Module) > MaxModuleBytes {
		return fmt.Errorf("%w: module is %d bytes, limit is %d", ErrInvalidJob, len(job.Module), MaxModuleBytes)
	}
	for name := range job.Inputs {
		if !fs.ValidPath(name) || name == "." {
			return fmt.Errorf("%w: input name %q is not a clean relative path", ErrInvalidJob, name)
		}
	}
	// A name that is both a file and a directory ("a" and "a/b") cannot be mounted.
	for name := range job.Inputs {
		for dir := name; ; {
			i := strings.LastIndexByte(dir, '/')
			if i < 0 {
				break
			}
			dir = dir[:i]
			if _, clash := job.Inputs[dir]; clash {
				return fmt.Errorf("%w: input %q is also the directory of %q", ErrInvalidJob, dir, name)
			}
		}
	}
	for _, a := range job.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("%w: argument contains NUL", ErrInvalidJob)
		}
	}
	for k, v := range job.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%w: bad environment variable %q", ErrInvalidJob, k)
		}
	}
	return nil
}

// cappedBuffer collects stdout or stderr up to limit bytes and drops the rest
// while telling the guest the write succeeded, so chatty jobs are not failed
// for their logs.
type cappedBuffer struct {
	mu        sync.Mutex
	limit     int
	buf       bytes.Buffer
	truncated bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - c.buf.Len()
	if len(p) > room {
		c.truncated = true
		c.buf.Write(p[:max(room, 0)])
	} else {
		c.buf.Write(p)
	}
	return len(p), nil
}
