package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/sandbox/sandboxtest"
	"github.com/tenun-chain/tenun/compute/sdk/kernels"
)

func matmulModule(calls ...[]sandboxtest.Arg) []byte {
	return sandboxtest.CallModule(sandbox.KernelModule, "matmul", sandboxtest.MatMulParams, nil, calls...)
}

// A call with wrong shapes or pointers traps with an error that names the
// kernel and the problem; the trap is the job's own reproducible failure.
func TestKernelCallsAreChecked(t *testing.T) {
	ctx := context.Background()
	const page = 65536
	mm := sandboxtest.MatMul
	ok := matmulModule(mm(0, 16, 16, 16, 1, 0, 2048, 4096))
	if res, err := sandbox.Run(ctx, sandbox.Job{Module: ok}); err != nil {
		t.Fatalf("a good call failed: %v\n%s", err, res.Stderr)
	}
	for _, tc := range []struct {
		name string
		call []sandboxtest.Arg
		want string
	}{
		{"out of bounds", mm(0, 16, 16, 16, 1, page-8, 0, 4096), "a (16x16, 2048 bytes at 0xfff8) is outside linear memory"},
		{"far out of bounds", mm(0, 1, 1, 1, 1, 0, 0, -8), "c (1x1, 8 bytes at 0xfffffff8) is outside linear memory"},
		{"misaligned", mm(0, 2, 2, 2, 1, 4, 64, 128), "a at 0x4 is not 8-byte aligned"},
		{"negative size", mm(0, -1, 2, 2, 1, 0, 64, 128), "m = -1"},
		{"huge size", mm(0, 1<<25, 1, 1, 1, 0, 64, 128), "sizes must be 0 to"},
		{"too much work", mm(0, 4096, 4096, 4096, 1, 0, 0, 0), "split it"},
		{"overlap", mm(0, 4, 4, 4, 1, 0, 128, 64), "c overlaps a"},
		{"flags", mm(64, 1, 1, 1, 1, 0, 8, 16), "unknown flags"},
	} {
		res, err := sandbox.Run(ctx, sandbox.Job{Module: matmulModule(tc.call)})
		if !errors.Is(err, sandbox.ErrTrap) || !sandbox.Reproducible(err) {
			t.Errorf("%s: got %v, want a reproducible trap", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), "tenun_nn.matmul: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not say %q", tc.name, err, tc.want)
		}
		_ = res
	}

	// Labels are checked against the class count.
	labels := sandboxtest.CallModule(sandbox.KernelModule, "cross_entropy", []byte{sandboxtest.I32, sandboxtest.I32, sandboxtest.I32, sandboxtest.I32},
		[]byte{sandboxtest.F64}, []sandboxtest.Arg{sandboxtest.I32Arg(1), sandboxtest.I32Arg(0), sandboxtest.I32Arg(0), sandboxtest.I32Arg(64)})
	if _, err := sandbox.Run(ctx, sandbox.Job{Module: labels}); !errors.Is(err, sandbox.ErrTrap) || !strings.Contains(err.Error(), "labels[0] = 0 is outside 0..-1") {
		t.Errorf("label out of range: %v", err)
	}
}

// Fuel is charged by the work a call does, and a call the budget cannot pay
// for fails with ErrFuel before doing it.
func TestKernelFuel(t *testing.T) {
	ctx := context.Background()
	empty, err := sandbox.Run(ctx, sandbox.Job{Module: matmulModule()})
	if err != nil {
		t.Fatal(err)
	}
	call := sandboxtest.MatMul(kernels.TransB, 16, 8, 32, 0.5, 0, 8192, 16384)
	one, err := sandbox.Run(ctx, sandbox.Job{Module: matmulModule(call)})
	if err != nil {
		t.Fatal(err)
	}
	three, err := sandbox.Run(ctx, sandbox.Job{Module: matmulModule(call, call, call)})
	if err != nil {
		t.Fatal(err)
	}
	cost := int64(kernels.MatMulCost(16, 8, 32))
	if one.FuelUsed-empty.FuelUsed != cost || three.FuelUsed-empty.FuelUsed != 3*cost {
		t.Errorf("fuel: empty %d, one call %d, three %d; a call costs %d", empty.FuelUsed, one.FuelUsed, three.FuelUsed, cost)
	}
	_, err = sandbox.Run(ctx, sandbox.Job{Module: matmulModule(call, call, call), Limits: sandbox.Limits{Fuel: 2 * cost}})
	if !errors.Is(err, sandbox.ErrFuel) {
		t.Errorf("three calls on the fuel of two: %v", err)
	}
}

// A module importing what the sandbox does not provide is refused by Check
// (which clients run before posting) and by Run.
func TestCheckRefusesUnknownImports(t *testing.T) {
	ok := matmulModule()
	if err := sandbox.Check(ok); err != nil {
		t.Fatalf("Check refused a good module: %v", err)
	}
	for name, module := range map[string][]byte{
		"unknown kernel":  sandboxtest.CallModule(sandbox.KernelModule, "conv2d", sandboxtest.MatMulParams, nil),
		"wrong signature": sandboxtest.CallModule(sandbox.KernelModule, "matmul", []byte{sandboxtest.I32}, nil),
		"unknown module":  sandboxtest.CallModule("env", "now", nil, nil),
		"unknown WASI":    sandboxtest.CallModule("wasi_snapshot_preview1", "sock_open", nil, nil),
		"not wasm":        []byte("hello"),
	} {
		err := sandbox.Check(module)
		if !errors.Is(err, sandbox.ErrInvalidModule) {
			t.Errorf("%s: Check gave %v", name, err)
		}
		if _, err := sandbox.Run(context.Background(), sandbox.Job{Module: module}); !errors.Is(err, sandbox.ErrInvalidModule) {
			t.Errorf("%s: Run gave %v", name, err)
		}
	}
}
