package agent

import (
	"context"
	"fmt"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/sandbox/sandboxtest"
)

// withBody is TinyModule with its _start body replaced (no locals).
func withBody(instrs ...byte) []byte {
	m := append([]byte{}, TinyModule[:len(TinyModule)-6]...)
	fn := append([]byte{0}, instrs...)
	fn = append(fn, 0x0b)
	return append(m, append([]byte{0x0a, byte(len(fn) + 2), 0x01, byte(len(fn))}, fn...)...)
}

func TestExecuteRecordsReproducibleFailures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		module  []byte
		fuel    uint64
		failure string
	}{
		{"ok", TinyModule, compute.FuelPerUnit, ""},
		{"trap", withBody(0x00), compute.FuelPerUnit, "trap"},                    // unreachable
		{"fuel", withBody(0x03, 0x40, 0x0c, 0x00, 0x0b), 1000, "fuel-exhausted"}, // loop forever
		{"invalid", []byte("not wasm"), compute.FuelPerUnit, "invalid-module"},
		// A tenant's kernel call with an out-of-bounds pointer is the job's
		// own failure: every provider reveals "trap" and is paid, none slashed.
		{"kernel trap", sandboxtest.CallModule(sandbox.KernelModule, "matmul", sandboxtest.MatMulParams, nil,
			sandboxtest.MatMul(0, 64, 64, 64, 1, 0, 0, 65536)), compute.FuelPerUnit, "trap"},
	} {
		blobs := map[string][]byte{chain.BlobCID(tc.module): tc.module}
		fetch := func(_ context.Context, cid string) ([]byte, error) {
			if b, ok := blobs[cid]; ok {
				return b, nil
			}
			return nil, fmt.Errorf("no blob %s", cid)
		}
		spec := compute.Spec{Module: chain.BlobCID(tc.module), MemoryBytes: 16 << 20, Fuel: tc.fuel, WallSeconds: 10, MaxOutputBytes: 1 << 20}
		a, err := Execute(ctx, nil, spec, fetch)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, err := Execute(ctx, nil, spec, fetch)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.Failure != tc.failure || a.Digest != b.Digest || a.CID != chain.BlobCID(a.Archive) {
			t.Errorf("%s: failure %q (want %q), digests %s %s", tc.name, a.Failure, tc.failure, a.Digest, b.Digest)
		}
		if d, _ := compute.DigestOfCID(a.CID); d != a.Digest {
			t.Errorf("%s: digest %s is not the CID's %s", tc.name, a.Digest, d)
		}
		if tc.failure != "" {
			files, err := sandbox.UnpackArchive(a.Archive)
			if err != nil || string(files[ErrorFile]) != tc.failure {
				t.Errorf("%s: archive %v %v", tc.name, files, err)
			}
		}
	}
	// A blob the node does not have is this machine's problem, not a result.
	if _, err := Execute(ctx, nil, compute.Spec{Module: "bafkreia"}, func(context.Context, string) ([]byte, error) {
		return nil, fmt.Errorf("404")
	}); err == nil {
		t.Error("a missing module gave a result")
	}
}

func TestParseNvidiaSMI(t *testing.T) {
	n, model := parseNvidiaSMI("NVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA H100 80GB HBM3, 81559 MiB\n")
	if n != 2 || model != "NVIDIA H100 80GB HBM3" {
		t.Errorf("got %d %q", n, model)
	}
	if n, model := parseNvidiaSMI("\n"); n != 0 || model != "" {
		t.Errorf("empty output: %d %q", n, model)
	}
}
