package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"

	"github.com/tenun-chain/tenun/internal/cputime"
)

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

// validateJob refuses a job the sandbox cannot run as given, before any
// module is compiled.
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
