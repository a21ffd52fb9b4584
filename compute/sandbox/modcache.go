package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// cachedModule is one compiled module in the sandbox's cache, shared by
// the runs that use it and evicted least recently used.
type cachedModule struct {
	ready    chan struct{} // closed once mod or err is set
	mod      wazero.CompiledModule
	err      error
	minBytes uint64 // initial linear memory the module asks for
	users    int
	lastUse  uint64
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
