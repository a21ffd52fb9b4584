package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/zkml/model"
)

// A model out of a compute job. Anyone holding a settled compute job's
// output may commit the model its trainer quantized inside the job, on the
// tenant's behalf (the tenant owns the record, once): the message carries the
// job's output archive, the chain checks that it hashes to the job's
// verified output digest, reads the quantized model file in it, recomputes
// its commitment and refuses the model unless the commitment is that one.
// The model then records the job and the output CID, every claim about it
// names them, and a claim that names another job's output is refused.

// QuantizedFile is the file of a job's output archive that holds the
// quantized model (compute/workload's trainer writes it).
const QuantizedFile = "quantized.json"

// MaxArchiveBytes bounds the output archive a commit-model message carries.
const MaxArchiveBytes = 512 << 10

// ArchiveFeePerKiB pays for hashing the archive and decoding the model in
// it; ModelCommitFee for recomputing the Poseidon2 commitment.
const (
	ArchiveFeePerKiB = 4
	ModelCommitFee   = 200
)

// ModelSource names the compute job a model came out of, with the job's
// output archive (the bytes whose SHA-256 is the job's result digest).
type ModelSource struct {
	ComputeJob uint64 `json:"compute_job" cbor:"1,keyasint"`
	Archive    []byte `json:"archive" cbor:"2,keyasint"`
}

func (s *ModelSource) validate() error {
	if s.ComputeJob == 0 {
		return chain.Wrap(chain.ErrInvalidRequest, "source: compute job id is missing")
	}
	if len(s.Archive) == 0 || len(s.Archive) > MaxArchiveBytes {
		return chain.Wrap(chain.ErrInvalidRequest, "source: output archive of %d bytes, want 1 to %d", len(s.Archive), MaxArchiveBytes)
	}
	return nil
}

// ModelRef is the lineage reference of a committed model.
func ModelRef(id uint64) string { return "model/" + chain.U64(id) }

// ClaimRef is the lineage reference of a claim.
func ClaimRef(modelID, seq uint64) string {
	return "claim/" + chain.U64(modelID) + "." + chain.U64(seq)
}

// archiveFile returns one file of an output archive (compute/sandbox's
// layout: magic, count, then sorted name/content pairs with big-endian
// lengths), refusing anything malformed.
func archiveFile(archive []byte, want string) ([]byte, error) {
	const magic = "tenun-outputs/v1\n"
	rest, ok := bytes.CutPrefix(archive, []byte(magic))
	bad := chain.Wrap(chain.ErrInvalidRequest, "source: malformed output archive")
	if !ok {
		return nil, bad
	}
	next := func() ([]byte, bool) {
		if len(rest) < 8 {
			return nil, false
		}
		n := binary.BigEndian.Uint64(rest)
		rest = rest[8:]
		if n > uint64(len(rest)) {
			return nil, false
		}
		b := rest[:n]
		rest = rest[n:]
		return b, true
	}
	if len(rest) < 8 {
		return nil, bad
	}
	count := binary.BigEndian.Uint64(rest)
	rest = rest[8:]
	var found []byte
	var prev []byte
	for i := uint64(0); i < count; i++ {
		name, ok1 := next()
		content, ok2 := next()
		if !ok1 || !ok2 || (i > 0 && bytes.Compare(name, prev) <= 0) {
			return nil, bad
		}
		prev = name
		if string(name) == want {
			found = content
		}
	}
	if len(rest) != 0 {
		return nil, bad
	}
	if found == nil {
		return nil, chain.Wrap(chain.ErrNotFound, "source: the job's output has no %s", want)
	}
	return found, nil
}

// quantizedFile is the part of a model file that is committed; decoding
// into it keeps free-form metadata (and any float in it) out of consensus.
type quantizedFile struct {
	Format string        `json:"format"`
	Arch   model.Arch    `json:"arch"`
	Layers []model.Layer `json:"layers"`
}

// checkSource verifies that m's commitment is the model inside the compute
// job's verified output, and returns the job's output CID.
func checkSource(ctx *chain.Context, m *MsgCommitModel) (string, error) {
	s := m.Source
	j, err := compute.GetJob(ctx.KV, s.ComputeJob)
	if err != nil {
		return "", err
	}
	switch {
	case j.Status != compute.StatusSettled || j.Result == nil:
		return "", chain.Wrap(chain.ErrTooEarly, "compute job %d has no verified result (status %s)", j.ID, j.Status)
	case chain.Hash(sha256.Sum256(s.Archive)) != j.Result.Digest:
		return "", chain.Wrap(chain.ErrInvalidRequest, "the archive is not compute job %d's output (digest %s)", j.ID, j.Result.Digest)
	}
	raw, err := archiveFile(s.Archive, QuantizedFile)
	if err != nil {
		return "", err
	}
	var q quantizedFile
	if err := json.Unmarshal(raw, &q); err != nil {
		return "", chain.Wrap(chain.ErrInvalidRequest, "source: %s: %v", QuantizedFile, err)
	}
	mdl := model.Model{Format: q.Format, Arch: q.Arch, Layers: q.Layers}
	if err := mdl.Validate(); err != nil {
		return "", chain.Wrap(chain.ErrInvalidRequest, "source: %v", err)
	}
	arch, err := ArchOf(mdl.Arch)
	if err != nil || !arch.Equal(m.Arch) {
		return "", chain.Wrap(chain.ErrInvalidRequest, "compute job %d's model has arch %s, the message says %s", j.ID, mdl.Arch, m.Arch)
	}
	c, err := mdl.ComputeCommitment()
	if err != nil {
		return "", chain.Wrap(chain.ErrInvalidRequest, "source: %v", err)
	}
	if c != m.Commitment {
		return "", chain.Wrap(chain.ErrInvalidRequest, "commitment %s does not match compute job %d's output model (%s)", m.Commitment, j.ID, c)
	}
	return j.Result.Output, nil
}

func byJobKey(job uint64) []byte { return chain.Key([]byte("zkml/byjob/"), chain.Uint64Bytes(job)) }

// ModelOfJob returns the model committed out of compute job job.
func ModelOfJob(kv store.KV, job uint64) (Model, bool) {
	raw := kv.Get(byJobKey(job))
	if len(raw) != 8 {
		return Model{}, false
	}
	m, err := GetModel(kv, binary.BigEndian.Uint64(raw))
	return m, err == nil
}

// recordSourceLineage indexes the model by its job and writes the edges
// job -> output blob -> model.
func recordSourceLineage(ctx *chain.Context, job uint64, output string, modelID uint64) error {
	ctx.KV.Set(byJobKey(job), chain.Uint64Bytes(modelID))
	if err := data.RecordEdge(ctx, compute.Scope(job), "blob/"+output, data.RelOutput); err != nil {
		return err
	}
	return data.RecordEdge(ctx, "blob/"+output, ModelRef(modelID), data.RelModel)
}
