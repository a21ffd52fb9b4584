// Package agent is the client side of the compute market: the provider
// agent (watches its assignments, runs jobs in the wazero sandbox, stores
// the output archive as a blob, commits, then reveals), which also serves
// as a referee when the chain draws it for a dispute; the challenger, which
// re-runs optimistic results and challenges those that differ; and the
// market benchmark.
package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/sandbox"
)

// ErrorFile is the single file of the output archive of a job that failed
// reproducibly (fuel, memory, trap, non-zero exit...): its content names the
// failure class, so every honest provider reveals the same digest and is
// paid for running a job that was itself broken.
const ErrorFile = ".tenun-error"

// Outcome is a job run as the market sees it.
type Outcome struct {
	Archive []byte // the output archive, revealed as a blob
	Digest  compute.Hash
	CID     string
	// Failure is the reproducible failure class recorded in the archive,
	// "" when the job succeeded.
	Failure string
	Run     sandbox.Result
}

// SandboxJob turns a job spec and its fetched blobs into a sandbox job.
func SandboxJob(spec compute.Spec, module []byte, inputs map[string][]byte) sandbox.Job {
	return sandbox.Job{
		Module: module,
		Inputs: inputs,
		Args:   spec.Args,
		Seed:   spec.Seed,
		Limits: sandbox.Limits{
			MemoryBytes:    spec.MemoryBytes,
			WallTime:       time.Duration(spec.WallSeconds) * time.Second,
			Fuel:           int64(min(spec.Fuel, uint64(sandbox.MaxFuel))),
			MaxOutputBytes: int64(spec.MaxOutputBytes),
		},
	}
}

// failureClass names a reproducible sandbox failure; "" for an error that
// depends on the machine (time limits, cancellation), which no provider may
// reveal as a result.
func failureClass(res sandbox.Result, err error) string {
	if !sandbox.Reproducible(err) {
		return ""
	}
	for _, c := range []struct {
		err  error
		name string
	}{
		{sandbox.ErrInvalidJob, "invalid-job"},
		{sandbox.ErrInvalidModule, "invalid-module"},
		{sandbox.ErrMemoryLimit, "memory-limit"},
		{sandbox.ErrFuel, "fuel-exhausted"},
		{sandbox.ErrOutputLimit, "output-limit"},
		{sandbox.ErrTrap, "trap"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	if errors.Is(err, sandbox.ErrExit) {
		return "exit " + strconv.FormatUint(uint64(res.ExitCode), 10)
	}
	return "failed"
}

// NewOutcome archives outputs.
func NewOutcome(outputs map[string][]byte) Outcome {
	archive := sandbox.ArchiveOutputs(outputs)
	d := sandbox.OutputDigest(outputs)
	return Outcome{Archive: archive, Digest: compute.Hash(d), CID: chain.BlobCID(archive)}
}

// Execute runs spec in sb (the default sandbox when nil) with blobs fetched
// through fetch. An error means this machine could not produce a result to
// stand behind (a blob missing, a time limit, cancellation); a reproducible
// failure of the job itself is a result (see ErrorFile).
func Execute(ctx context.Context, sb *sandbox.Sandbox, spec compute.Spec, fetch func(context.Context, string) ([]byte, error)) (Outcome, error) {
	return ExecuteJob(ctx, sb, compute.Job{Spec: spec}, fetch, nil)
}

// DataFetcher fetches one dataset input of job (compute-to-data: through
// the signed gateway under the job's scoped grant).
type DataFetcher func(ctx context.Context, job uint64, in compute.DataInput) ([]byte, error)

// ExecuteJob is Execute for a whole job: its dataset inputs are fetched
// through fetchData and mounted under their names beside the blob inputs.
func ExecuteJob(ctx context.Context, sb *sandbox.Sandbox, j compute.Job, fetch func(context.Context, string) ([]byte, error), fetchData DataFetcher) (Outcome, error) {
	spec := j.Spec
	module, err := fetch(ctx, spec.Module)
	if err != nil {
		return Outcome{}, fmt.Errorf("fetch module %s: %w", spec.Module, err)
	}
	inputs := make(map[string][]byte, len(spec.Inputs)+len(j.Data))
	for _, in := range spec.Inputs {
		b, err := fetch(ctx, in.CID)
		if err != nil {
			return Outcome{}, fmt.Errorf("fetch input %q (%s): %w", in.Name, in.CID, err)
		}
		inputs[in.Name] = b
	}
	for _, in := range j.Data {
		if fetchData == nil {
			return Outcome{}, fmt.Errorf("job %d reads dataset %d version %d as %q: this runner has no access to data inputs", j.ID, in.Dataset, in.Version, in.Name)
		}
		b, err := fetchData(ctx, j.ID, in)
		if err != nil {
			return Outcome{}, fmt.Errorf("fetch dataset input %q (dataset %d version %d): %w", in.Name, in.Dataset, in.Version, err)
		}
		inputs[in.Name] = b
	}
	if sb == nil {
		if sb, err = sandbox.Default(); err != nil {
			return Outcome{}, fmt.Errorf("start sandbox: %w", err)
		}
	}
	res, runErr := sb.Run(ctx, SandboxJob(spec, module, inputs))
	return OutcomeOf(res, runErr)
}

// OutcomeOf is the result a provider stands behind for a sandbox run: its
// outputs, or the archive naming a reproducible failure; an error when the
// failure depends on this machine (time limits, cancellation).
func OutcomeOf(res sandbox.Result, runErr error) (Outcome, error) {
	if runErr == nil {
		o := NewOutcome(res.Outputs)
		o.Run = res
		return o, nil
	}
	class := failureClass(res, runErr)
	if class == "" {
		return Outcome{}, fmt.Errorf("run job: %w", runErr)
	}
	o := NewOutcome(map[string][]byte{ErrorFile: []byte(class)})
	o.Failure, o.Run = class, res
	return o, nil
}

// blobCache keeps fetched blobs (modules, inputs) in memory up to a byte
// budget, so a provider running many jobs of one module fetches it once.
type blobCache struct {
	c     *client.Client
	limit int

	mu    sync.Mutex
	size  int
	order []string // insertion order, oldest first
	blobs map[string][]byte
}

func newBlobCache(c *client.Client, limit int) *blobCache {
	return &blobCache{c: c, limit: limit, blobs: map[string][]byte{}}
}

func (b *blobCache) get(ctx context.Context, cid string) ([]byte, error) {
	b.mu.Lock()
	data, ok := b.blobs[cid]
	b.mu.Unlock()
	if ok {
		return data, nil
	}
	data, err := b.c.BlobGet(ctx, cid) // verified against the CID
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.blobs[cid]; !dup && len(data) <= b.limit {
		for b.size+len(data) > b.limit && len(b.order) > 0 {
			old := b.order[0]
			b.order = b.order[1:]
			b.size -= len(b.blobs[old])
			delete(b.blobs, old)
		}
		b.blobs[cid] = data
		b.order = append(b.order, cid)
		b.size += len(data)
	}
	return data, nil
}
