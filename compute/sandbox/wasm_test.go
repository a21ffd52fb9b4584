package sandbox_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/compute/sandbox"
)

// Hand-assembled modules, so the limit tests need no toolchain. Each has one
// function type, () -> (), and one function of that type.

func section(id byte, body ...byte) []byte {
	return append([]byte{id, byte(len(body))}, body...) // all bodies here are < 128 bytes
}

var (
	typeSection     = section(1, 1, 0x60, 0, 0)            // one type: func () -> ()
	functionSection = section(3, 1, 0)                     // one function of type 0
	exportStart     = exportAs("_start")                   // export function 0 as _start
	loopForever     = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop; br 0; end
	unreachable     = []byte{0x00}                         // unreachable
)

func exportAs(name string) []byte {
	body := append([]byte{1, byte(len(name))}, name...)
	return section(7, append(body, 0x00, 0x00)...) // kind func, index 0
}

func memorySection(minPages byte) []byte { return section(5, 1, 0x00, minPages) }

func code(instrs ...byte) []byte {
	fn := append([]byte{0}, instrs...) // no locals
	fn = append(fn, 0x0b)              // end
	return section(10, append([]byte{1, byte(len(fn))}, fn...)...)
}

// module assembles header, type, function, then the given sections, which
// must be in section-id order (memory 5, export 7, code 10).
func module(sections ...[]byte) []byte {
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	m = append(m, typeSection...)
	var rest [][]byte
	for _, s := range sections {
		if s[0] < 3 {
			m = append(m, s...)
		} else {
			rest = append(rest, s)
		}
	}
	m = append(m, functionSection...)
	for _, s := range rest {
		m = append(m, s...)
	}
	return m
}

// moduleImportingEnv imports env.f, which the sandbox does not provide.
func moduleImportingEnv() []byte {
	imp := section(2, 1, 3, 'e', 'n', 'v', 1, 'f', 0x00, 0x00)
	// Function 0 is the import, so the defined function (and _start) is 1.
	start := section(7, 1, 6, '_', 's', 't', 'a', 'r', 't', 0x00, 0x01)
	return module(imp, start, code(loopForever...))
}

func hexDigest(d [32]byte) string { return hex.EncodeToString(d[:]) }

func TestHandAssembledModulesAreValid(t *testing.T) {
	// Sanity check of the helpers: a module that returns at once exits 0.
	res, err := box(t).Run(context.Background(), sandbox.Job{Module: module(exportStart, code())})
	if err != nil || res.ExitCode != 0 || len(res.Outputs) != 0 {
		t.Fatalf("empty _start: res %+v, err %v", res, err)
	}
	// table.grow is fine on a table with a (small) maximum.
	grow := module(section(4, 1, 0x70, 0x01, 0x01, 0x10), exportStart, code(0xd0, 0x70, 0x41, 0x01, 0xfc, 0x0f, 0x00, 0x1a))
	if _, err := box(t).Run(context.Background(), sandbox.Job{Module: grow}); err != nil {
		t.Fatalf("table.grow on a bounded table: %v", err)
	}
}

// FuzzRunModuleBytes feeds arbitrary bytes to the sandbox as a module: it must
// return an error or a result, never panic or hang past its limits.
func FuzzRunModuleBytes(f *testing.F) {
	f.Add(module(exportStart, code()))
	f.Add(module(exportStart, code(loopForever...)))
	f.Add(module(exportStart, code(unreachable...)))
	f.Add(module(memorySection(2), exportStart, code()))
	f.Add(moduleImportingEnv())
	f.Add([]byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00})
	f.Add([]byte("garbage"))
	// Its own sandbox without the disk cache, which fuzzing would fill with junk.
	sb, err := sandbox.New(context.Background(), sandbox.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { sb.Close(context.Background()) })
	f.Fuzz(func(t *testing.T, wasm []byte) {
		start := time.Now()
		_, err := sb.Run(context.Background(), sandbox.Job{
			Module: wasm,
			Limits: sandbox.Limits{WallTime: 50 * time.Millisecond, MemoryBytes: 16 << 20, MaxOutputBytes: 1 << 16},
		})
		if err != nil && !errors.Is(err, sandbox.ErrInvalidJob) && !errors.Is(err, sandbox.ErrInvalidModule) &&
			!errors.Is(err, sandbox.ErrTimeout) && !errors.Is(err, sandbox.ErrTrap) && !errors.Is(err, sandbox.ErrExit) &&
			!errors.Is(err, sandbox.ErrMemoryLimit) && !errors.Is(err, sandbox.ErrOutputLimit) {
			t.Fatalf("unclassified error: %v", err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("run took %v with a 50ms limit", took) // compile time is not limited, but must stay sane
		}
	})
}
