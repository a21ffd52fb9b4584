package registry_test

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// settledJob runs a compute job whose two providers agree on archive and
// returns the job id. tenant is account 1, providers 2 and 3.
func settledJob(t *testing.T, h *harness, archive []byte, seed byte) uint64 {
	t.Helper()
	module := []byte{0, 'a', 's', 'm', seed}
	for _, b := range [][]byte{module, archive} {
		h.mustRun(1, &chain.MsgRegisterBlob{CID: chain.BlobCID(b), Size: uint64(len(b))})
	}
	for p := byte(2); p <= 3; p++ {
		if _, ok := compute.GetProvider(h.KV, addr(p)); !ok {
			h.mustRun(p, &compute.MsgRegister{CPUCores: 4, MemoryMB: 1024, Price: 1, Stake: 1_000_000})
		}
	}
	h.mustRun(1, &compute.MsgPostJob{Spec: compute.Spec{Module: chain.BlobCID(module), MemoryBytes: 1 << 20, Fuel: compute.FuelPerUnit,
		WallSeconds: 10, MaxOutputBytes: 1 << 20}, MaxPrice: 1, Redundancy: 2, Timeout: 10, DeadlineBlocks: 100})
	id := chain.GetUint64(h.KV, []byte("compute/nextjob"))
	digest, cid := chain.Hash(sha256.Sum256(archive)), chain.BlobCID(archive)
	for p := byte(2); p <= 3; p++ {
		h.mustRun(p, &compute.MsgCommit{Job: id, Commit: compute.CommitHash(id, addr(p), digest, cid, chain.Hash{p})})
	}
	for p := byte(2); p <= 3; p++ {
		h.mustRun(p, &compute.MsgReveal{Job: id, Digest: digest, Output: cid, Salt: chain.Hash{p}})
	}
	if j, _ := compute.GetJob(h.KV, id); j.Status != compute.StatusSettled {
		t.Fatalf("compute job %d: %s", id, j.Status)
	}
	return id
}

func quantizedArchive(t *testing.T, m *model.Model) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return sandbox.ArchiveOutputs(map[string][]byte{registry.QuantizedFile: b, "metrics.json": []byte("{}")})
}

// A model out of a compute job: its commitment must be the model inside the
// job's verified output; claims about it name that job and output, and a
// claim naming another job's output is refused.
func TestModelFromComputeJob(t *testing.T) {
	f := getTiny(t)
	h := newHarness(t, 4, 100_000_000, compute.Domain{}, data.Domain{})
	h.mustRun(3, &registry.MsgRegisterCircuit{Spec: f.accSpec, VerifyingKey: f.accVK, Gnark: f.infGnark})
	tsh, err := f.arch.TestSetHash(f.ds)
	if err != nil {
		t.Fatal(err)
	}
	h.mustRun(4, &registry.MsgRegisterTestSet{Hash: tsh, Shape: registry.ShapeOf(f.regArch), Name: "tiny-4", Rows: rows(f.ds)})

	good := quantizedArchive(t, f.m)
	job := settledJob(t, h, good, 1)
	other := settledJob(t, h, quantizedArchive(t, f.other), 2)
	commit := func(c model.Digest, job uint64, archive []byte) *registry.MsgCommitModel {
		return &registry.MsgCommitModel{Commitment: c, Arch: f.regArch, Name: "trained", Source: &registry.ModelSource{ComputeJob: job, Archive: archive}}
	}
	h.mustFail("commitment of another model", 1, commit(f.comm2, job, good), chain.ErrInvalidRequest, "does not match compute job")
	h.mustFail("archive that is not the job's output", 1, commit(f.comm, job, quantizedArchive(t, f.other)), chain.ErrInvalidRequest, "is not compute job")
	h.mustFail("unknown job", 1, commit(f.comm, 99, good), chain.ErrNotFound, "compute job 99")
	// Anyone holding the output may bring it; the model is the tenant's.
	h.mustRun(2, commit(f.comm, job, good))
	h.mustFail("the same job's model twice", 1, commit(f.comm, job, good), chain.ErrConflict, "already committed")
	mdl, err := registry.GetModel(h.KV, 1)
	if byJob, ok := registry.ModelOfJob(h.KV, job); err != nil || !ok || byJob.ID != 1 || mdl.Owner != addr(1) || mdl.ComputeJob != job || mdl.Output != chain.BlobCID(good) {
		t.Fatalf("model %+v %v", mdl, err)
	}

	accID := registry.CircuitID(f.accSpec, f.accVK)
	claim := func(job uint64, out string) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: accID, Model: 1, Proof: f.accProof, ComputeJob: job, Output: out,
			Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: uint32(f.ds.Len()), K: uint32(f.k)}}
	}
	otherJob, _ := compute.GetJob(h.KV, other)
	h.mustFail("claim about another job's output", 1, claim(other, otherJob.Result.Output), chain.ErrInvalidRequest, "came out of compute job")
	h.mustRun(1, claim(job, mdl.Output))
	cl := registry.Claims(h.KV, 1)
	if len(cl) != 1 || cl[0].ComputeJob != job || cl[0].Output != mdl.Output {
		t.Fatalf("claims %+v", cl)
	}
	// The lineage of the claim reaches the job through its output blob.
	edges, _, _ := data.Trace(h.KV, registry.ClaimRef(1, 1))
	reached := map[string]bool{}
	for _, e := range edges {
		reached[e.From] = true
	}
	if !reached[registry.ModelRef(1)] || !reached["blob/"+mdl.Output] || !reached[compute.Scope(job)] {
		t.Fatalf("lineage %+v", edges)
	}
}
