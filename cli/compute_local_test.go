package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/sandbox/sandboxtest"
	"github.com/tenun-chain/tenun/internal/testnode"
)

// run-local runs a module as a provider would (the digest a provider would
// commit), prices it at the node's live providers, says so when there is no
// node, and refuses a module with an unknown import before running it.
func TestComputeRunLocal(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "tiny.wasm")
	if err := os.WriteFile(mod, agent.TinyModule, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "compute", "run-local", mod, "--node", "127.0.0.1:1", "--fuel", "3000000")
	if err != nil || !strings.Contains(out, "succeeded") || !strings.Contains(out, "no node reachable") {
		t.Fatalf("without a node: %v\n%s", err, out)
	}

	net := testnode.Start(t, 2)
	ctx := context.Background()
	reg := &compute.MsgRegister{CPUCores: 2, MemoryMB: 1024, Price: 7, Stake: 2_000_000}
	if _, err := net.Client.Submit(ctx, net.Keys[1], reg, client.Options{}); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "compute", "run-local", mod, "--node", net.Node.APIAddr(), "--fuel", "3000000", "--memory-mb", "64", "-o", "json")
	if err != nil {
		t.Fatalf("run-local: %v\n%s", err, out)
	}
	var rep runLocalReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := agent.NewOutcome(map[string][]byte{})
	if rep.Digest != want.Digest || rep.Price == nil || rep.Price.MinPrice != 7 || rep.UnitsLimit != 3 || rep.Price.PerResult != 21 {
		t.Fatalf("report %+v (price %+v), want digest %s, 3 units at 7", rep, rep.Price, want.Digest)
	}
	if b, err := compute.Budget(&compute.MsgPostJob{Spec: rep.Spec, MaxPrice: 7, Redundancy: 2}); err != nil || rep.Price.Budget != b {
		t.Errorf("budget %d, want %d (%v)", rep.Price.Budget, b, err)
	}

	bad := filepath.Join(dir, "bad.wasm")
	if err := os.WriteFile(bad, sandboxtest.CallModule("env", "now", nil, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "compute", "run-local", bad, "--node", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "only wasi_snapshot_preview1 and "+sandbox.KernelModule) {
		t.Errorf("unknown import: %v", err)
	}

	// At post time the same module is refused before anything is uploaded
	// or paid: the tenant's balance and the job list are unchanged.
	home := t.TempDir()
	if err := importDevKeys(filepath.Join(home, "keyring-test"), 2); err != nil {
		t.Fatal(err)
	}
	balance := func() uint64 {
		b, err := net.Client.Balance(ctx, net.Addr(0))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := balance()
	_, err = run(t, "tx", "compute", "post-job", "--module", bad, "--from", "alice", "--yes", "--max-price", "7utnn",
		"--home", home, "--node", net.Node.APIAddr(), "--keyring-backend", "test")
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "only wasi_snapshot_preview1 and "+sandbox.KernelModule) {
		t.Errorf("post-job with an unknown import: %v", err)
	}
	var jobs []compute.Job
	if err := net.Client.Query(ctx, "compute", "jobs", nil, &jobs); err != nil || len(jobs) != 0 {
		t.Errorf("jobs after a refused post: %v %v", jobs, err)
	}
	if after := balance(); after != before {
		t.Errorf("a refused post cost the tenant %d", before-after)
	}
	outputFormat = "text"
}
