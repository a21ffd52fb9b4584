package agent_test

import (
	"strconv"
	"testing"

	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/sandbox/sandboxtest"
)

// A tenant's module calls a kernel with an output pointer outside its
// linear memory (one that passes the post-time check: its imports are
// right). Both providers run it, trap the same way, reveal the same
// "trap" archive and are paid; nobody is slashed for the tenant's bug.
func TestScenarioTenantKernelBugPaysProviders(t *testing.T) {
	s := newScenario(t, 3)
	tenant, p1, p2 := 0, 1, 2
	s.startProvider(p1, agent.CheatNone)
	s.startProvider(p2, agent.CheatNone)
	module := sandboxtest.CallModule(sandbox.KernelModule, "matmul", sandboxtest.MatMulParams, nil,
		sandboxtest.MatMul(0, 64, 64, 64, 1, 0, 0, 1<<20))
	if err := sandbox.Check(module); err != nil {
		t.Fatalf("the buggy module should pass the post-time check: %v", err)
	}
	cid, err := s.net.Client.RegisterBlob(s.ctx, s.net.Keys[tenant], module)
	if err != nil {
		t.Fatal(err)
	}
	msg := &compute.MsgPostJob{
		Spec:     compute.Spec{Module: cid, MemoryBytes: 16 << 20, Fuel: compute.FuelPerUnit, WallSeconds: 30, MaxOutputBytes: 1 << 20},
		MaxPrice: jobPrice, Redundancy: 2, Timeout: 200, DeadlineBlocks: 4000,
	}
	res, err := s.net.Client.Submit(s.ctx, s.net.Keys[tenant], msg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var id uint64
	for _, e := range res.Events {
		for _, a := range e.Attrs {
			if e.Type == "compute_job" && a.Key == "id" {
				id, _ = strconv.ParseUint(a.Value, 10, 64)
			}
		}
	}
	if id == 0 {
		t.Fatalf("no job id in %+v", res.Events)
	}
	j := s.waitJob(id, compute.StatusSettled)
	files, err := sandbox.UnpackArchive(mustBlob(s, j.Result.Output))
	if err != nil || string(files[agent.ErrorFile]) != "trap" {
		t.Fatalf("result archive %v (err %v), want the recorded trap", files, err)
	}
	for _, p := range []int{p1, p2} {
		as := assignmentOf(j, s.net.Addr(p))
		if len(as) != 1 || as[0].Verdict != compute.VerdictPaid || as[0].Paid == 0 {
			t.Errorf("provider %d: %+v, want paid", p, as)
		}
		if sl := s.slashes(p); len(sl) != 0 {
			t.Errorf("provider %d slashed for the tenant's bug: %+v", p, sl)
		}
	}
}

func mustBlob(s *scenario, cid string) []byte {
	s.t.Helper()
	b, err := s.net.Client.BlobGet(s.ctx, cid)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}
