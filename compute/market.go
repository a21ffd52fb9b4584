// Package compute is the compute market's chain domain: providers stake and
// offer capacity at a price, tenants post WebAssembly jobs with escrowed
// budgets, providers are matched deterministically from block randomness,
// commit and then reveal output digests, and results are verified by
// majority (redundancy >= 2), by challenge and referee re-execution
// (redundancy 1), and by spot checks the chain plants. Providers that
// compute wrong results or abandon jobs are slashed.
//
// It is consensus code: pure functions of the store and the block, no
// floats, no map iteration, no clock, no goroutines (see
// internal/determinism). The provider agent, challenger and sandbox runs
// live in compute/agent.
package compute

import (
	"encoding/binary"

	"github.com/tenun-chain/tenun/chain"
)

// Domain is the compute market's chain domain.
type Domain struct{}

func (Domain) Name() string { return "compute" }

func (Domain) Register(r *chain.Router) {
	chain.Handle(r, register)
	chain.Handle(r, heartbeat)
	chain.Handle(r, postJob)
	chain.Handle(r, decline)
	chain.Handle(r, commit)
	chain.Handle(r, reveal)
	chain.Handle(r, challenge)
}

func register(ctx *chain.Context, m *MsgRegister) error {
	params := LoadParams(ctx.KV)
	if m.Stake > 0 {
		if err := chain.Bond(ctx, ctx.Sender, Pool, m.Stake); err != nil {
			return err
		}
	}
	if have := chain.Bonded(ctx, ctx.Sender, Pool); have < params.MinStake {
		return chain.Wrap(chain.ErrInsufficientFunds, "a provider needs %d%s bonded in pool %q, %s would have %d",
			params.MinStake, chain.Denom, Pool, ctx.Sender, have)
	}
	p, ok := GetProvider(ctx.KV, ctx.Sender)
	if !ok {
		p = Provider{Address: ctx.Sender, Registered: ctx.Block.Height}
	}
	p.CPUCores, p.MemoryMB, p.GPUs, p.GPUModel, p.Price = m.CPUCores, m.MemoryMB, m.GPUs, m.GPUModel, m.Price
	p.LastSeen = ctx.Block.Height
	putProvider(ctx.KV, p)
	ctx.Emit("compute_register", "provider", ctx.Sender.String(), "price", chain.U64(m.Price),
		"cpu_cores", chain.U64(uint64(m.CPUCores)), "gpus", chain.U64(uint64(m.GPUs)), "stake", chain.U64(chain.Bonded(ctx, ctx.Sender, Pool)))
	return nil
}

func heartbeat(ctx *chain.Context, _ *MsgHeartbeat) error {
	if _, ok := GetProvider(ctx.KV, ctx.Sender); !ok {
		return chain.Wrap(chain.ErrNotFound, "%s is not a registered compute provider", ctx.Sender)
	}
	touch(ctx)
	return nil
}

// touch records that the sender, a provider, is alive.
func touch(ctx *chain.Context) {
	updateProvider(ctx.KV, ctx.Sender, func(p *Provider) { p.LastSeen = ctx.Block.Height })
}

// mulU64 multiplies with an overflow check.
func mulU64(a, b uint64) (uint64, error) {
	if a != 0 && b > ^uint64(0)/a {
		return 0, chain.Wrap(chain.ErrOverflow, "%d x %d", a, b)
	}
	return a * b, nil
}

// reserveSlots is the extra results a job's budget must cover beyond its
// redundancy: tie-breakers, and for an optimistic job the referees a
// challenge brings in (with their tie-breakers).
func reserveSlots(redundancy uint32) uint64 {
	if redundancy == 1 {
		return RefereeCount + TieBreakers
	}
	return TieBreakers
}

// Budget is what posting m escrows: (redundancy + reserve) x MaxPrice x units.
func Budget(m *MsgPostJob) (uint64, error) {
	perResult, err := mulU64(m.MaxPrice, m.Spec.Units())
	if err != nil {
		return 0, err
	}
	return mulU64(perResult, uint64(m.Redundancy)+reserveSlots(m.Redundancy))
}

func postJob(ctx *chain.Context, m *MsgPostJob) error {
	mod, err := chain.RequireBlob(ctx, m.Spec.Module)
	if err != nil {
		return chain.Wrap(chain.ErrNotFound, "module: %v", err)
	}
	if mod.Size > MaxModuleBytes {
		return chain.Wrap(chain.ErrInvalidRequest, "module %s is %d bytes, over the limit of %d", m.Spec.Module, mod.Size, MaxModuleBytes)
	}
	var inputBytes uint64
	for _, in := range m.Spec.Inputs {
		rec, err := chain.RequireBlob(ctx, in.CID)
		if err != nil {
			return chain.Wrap(chain.ErrNotFound, "input %q: %v", in.Name, err)
		}
		inputBytes += rec.Size // at most MaxInputs x MaxBlobBytes: no overflow
	}
	if inputBytes > MaxInputBytes {
		return chain.Wrap(chain.ErrInvalidRequest, "inputs total %d bytes, over the limit of %d", inputBytes, MaxInputBytes)
	}
	budget, err := Budget(m)
	if err != nil {
		return err
	}
	if have := chain.Balance(ctx.KV, ctx.Sender); have < budget {
		return chain.Wrap(chain.ErrInsufficientFunds, "job budget is %d%s ((redundancy %d + reserve %d) x max price %d x %d units); %s has %d%s",
			budget, chain.Denom, m.Redundancy, reserveSlots(m.Redundancy), m.MaxPrice, m.Spec.Units(), ctx.Sender, have, chain.Denom)
	}
	id := chain.NextSeq(ctx.KV, keyNextJob)
	if err := chain.Lock(ctx, ctx.Sender, EscrowID(id), budget); err != nil {
		return err
	}
	j := Job{
		ID: id, Tenant: ctx.Sender, Spec: m.Spec, MaxPrice: m.MaxPrice, Redundancy: m.Redundancy,
		Timeout: m.Timeout, DeadlineBlocks: m.DeadlineBlocks, ChallengeBlocks: m.ChallengeBlocks,
		Units: m.Spec.Units(), Budget: budget, Posted: ctx.Block.Height, Deadline: ctx.Block.Height + m.DeadlineBlocks,
		Status: StatusRunning, Stage: StageWork, Want: m.Redundancy, Assignments: []Assignment{}, Data: m.Data,
	}
	if err := openDataInputs(ctx, &j); err != nil {
		return err
	}
	ctx.Emit("compute_job", "id", chain.U64(id), "tenant", ctx.Sender.String(), "budget", chain.U64(budget),
		"redundancy", chain.U64(uint64(m.Redundancy)))
	if err := advance(ctx, &j); err != nil {
		return err
	}
	saveJob(ctx, &j)
	return nil
}

// loadLive reads a job a provider acts on: it must exist, not have ended,
// and its stage deadline must not have passed.
func loadLive(ctx *chain.Context, id uint64) (Job, error) {
	j, err := GetJob(ctx.KV, id)
	if err != nil {
		return j, err
	}
	if j.final() {
		return j, chain.Wrap(chain.ErrConflict, "job %d has ended (%s)", id, j.Status)
	}
	if j.Status == StatusRunning && ctx.Block.Height >= j.Deadline {
		return j, chain.Wrap(chain.ErrTooLate, "job %d: its deadline, height %d, has passed", id, j.Deadline)
	}
	return j, nil
}

func decline(ctx *chain.Context, m *MsgDecline) error {
	j, err := loadLive(ctx, m.Job)
	if err != nil {
		return err
	}
	i, err := j.awaitingCommit(ctx.Sender, "; it must reveal")
	if err != nil {
		return err
	}
	a := &j.Assignments[i]
	a.Status = AssignDeclined
	release(ctx, &j, a)
	updateProvider(ctx.KV, ctx.Sender, func(p *Provider) { p.Declined++; p.LastSeen = ctx.Block.Height })
	ctx.Emit("compute_decline", "job", chain.U64(j.ID), "provider", ctx.Sender.String())
	if err := advance(ctx, &j); err != nil {
		return err
	}
	saveJob(ctx, &j)
	return nil
}

func commit(ctx *chain.Context, m *MsgCommit) error {
	j, err := loadLive(ctx, m.Job)
	if err != nil {
		return err
	}
	i, err := j.awaitingCommit(ctx.Sender, "")
	if err != nil {
		return err
	}
	a := &j.Assignments[i]
	if ctx.Block.Height >= a.Deadline {
		return chain.Wrap(chain.ErrTooLate, "job %d: the commitment was due before height %d", m.Job, a.Deadline)
	}
	a.Status, a.Commit = AssignCommitted, m.Commit
	touch(ctx)
	ctx.Emit("compute_commit", "job", chain.U64(j.ID), "provider", ctx.Sender.String())
	if err := advance(ctx, &j); err != nil {
		return err
	}
	saveJob(ctx, &j)
	return nil
}

func reveal(ctx *chain.Context, m *MsgReveal) error {
	j, err := GetJob(ctx.KV, m.Job)
	if err != nil {
		return err
	}
	// Checked before the job's own state so that a second reveal is named
	// as such even when the first one ended the job.
	if j.assignmentOf(ctx.Sender, AssignCommitted) < 0 && j.assignmentOf(ctx.Sender, AssignRevealed) >= 0 {
		return chain.Wrap(chain.ErrConflict, "job %d: %s has already revealed", m.Job, ctx.Sender)
	}
	if j, err = loadLive(ctx, m.Job); err != nil {
		return err
	}
	i := j.assignmentOf(ctx.Sender, AssignCommitted)
	if i < 0 {
		return chain.Wrap(chain.ErrUnauthorized, "job %d: %s holds no commitment to reveal", m.Job, ctx.Sender)
	}
	if !j.Revealing {
		return chain.Wrap(chain.ErrTooEarly, "job %d: reveals open once all %d assignees have committed", m.Job, j.Want)
	}
	if ctx.Block.Height >= j.RevealEnd {
		return chain.Wrap(chain.ErrTooLate, "job %d: reveals closed at height %d", m.Job, j.RevealEnd)
	}
	a := &j.Assignments[i]
	if CommitHash(j.ID, ctx.Sender, m.Digest, m.Output, m.Salt) != a.Commit {
		return chain.Wrap(chain.ErrInvalidRequest, "job %d: the reveal does not match %s's commitment %s", m.Job, ctx.Sender, a.Commit)
	}
	if _, err := chain.RequireBlob(ctx, m.Output); err != nil {
		return chain.Wrap(chain.ErrNotFound, "output: %v", err)
	}
	a.Status, a.Digest, a.Output, a.Revealed = AssignRevealed, m.Digest, m.Output, ctx.Block.Height
	release(ctx, &j, a)
	touch(ctx)
	ctx.Emit("compute_reveal", "job", chain.U64(j.ID), "provider", ctx.Sender.String(), "digest", m.Digest.String(), "output", m.Output)
	if err := advance(ctx, &j); err != nil {
		return err
	}
	saveJob(ctx, &j)
	return nil
}

// ChallengeBond is what challenging j costs up front: enough to pay the
// referees, and at least MinChallengeBond.
func ChallengeBond(params Params, j *Job) uint64 {
	return max(params.MinChallengeBond, RefereeCount*j.MaxCost())
}

func challenge(ctx *chain.Context, m *MsgChallenge) error {
	j, err := GetJob(ctx.KV, m.Job)
	if err != nil {
		return err
	}
	h := ctx.Block.Height
	switch {
	case j.Redundancy != 1 || j.Spot != nil:
		return chain.Wrap(chain.ErrInvalidRequest, "job %d was verified by its %d providers' majority; only optimistic (redundancy 1) results can be challenged", m.Job, j.Redundancy)
	case j.Challenge != nil:
		return chain.Wrap(chain.ErrConflict, "job %d is already challenged by %s", m.Job, j.Challenge.Challenger)
	case j.Status == StatusChallenge && h < j.ChallengeEnd:
	case j.Status == StatusRunning:
		return chain.Wrap(chain.ErrTooEarly, "job %d has no result to challenge yet", m.Job)
	case j.Result == nil:
		return chain.Wrap(chain.ErrConflict, "job %d ended without a result (%s)", m.Job, j.Status)
	default:
		return chain.Wrap(chain.ErrTooLate, "job %d: the challenge window closed at height %d", m.Job, j.ChallengeEnd)
	}
	w := j.worker()
	if w == nil {
		return chain.Wrap(chain.ErrInternal, "job %d in challenge without a result", m.Job)
	}
	if w.Provider == ctx.Sender {
		return chain.Wrap(chain.ErrUnauthorized, "job %d: a provider cannot challenge its own result", m.Job)
	}
	if m.Digest == j.Result.Digest {
		return chain.Wrap(chain.ErrConflict, "job %d: the challenge claims the published result %s", m.Job, m.Digest)
	}
	if _, err := chain.RequireBlob(ctx, m.Output); err != nil {
		return chain.Wrap(chain.ErrNotFound, "output: %v", err)
	}
	bond := ChallengeBond(LoadParams(ctx.KV), &j)
	if have := chain.Balance(ctx.KV, ctx.Sender); have < bond {
		return chain.Wrap(chain.ErrInsufficientFunds, "job %d: a challenge bond is %d%s; %s has %d%s", m.Job, bond, chain.Denom, ctx.Sender, have, chain.Denom)
	}
	if err := chain.Lock(ctx, ctx.Sender, BondEscrowID(j.ID), bond); err != nil {
		return err
	}
	j.Challenge = &Challenge{Challenger: ctx.Sender, Bond: bond, Digest: m.Digest, Output: m.Output, Height: h}
	j.Status, j.Stage, j.Want, j.Revealing = StatusRunning, StageDispute, RefereeCount, false
	j.Deadline = h + j.DeadlineBlocks
	ctx.Emit("compute_challenge", "job", chain.U64(j.ID), "challenger", ctx.Sender.String(), "bond", chain.U64(bond), "digest", m.Digest.String())
	if err := advance(ctx, &j); err != nil {
		return err
	}
	saveJob(ctx, &j)
	return nil
}

// EndBlock applies what time alone changes: commit and reveal deadlines,
// challenge windows, job deadlines, and matching jobs still waiting for
// providers. Only jobs due at this height are read. Each job runs in its
// own write buffer, so a job that fails (a bug) cannot hold up the others;
// it is retried next block and reported as an event.
func (Domain) EndBlock(ctx *chain.Context) error {
	h := ctx.Block.Height
	var ids []uint64
	var keys [][]byte
	ctx.KV.Iterate(prefixDue, func(k, _ []byte) bool {
		rest := k[len(prefixDue):]
		if len(rest) != 16 || int64(binary.BigEndian.Uint64(rest[:8])) > h || len(ids) == maxDuePerBlock {
			return false
		}
		keys = append(keys, append([]byte{}, k...))
		ids = append(ids, binary.BigEndian.Uint64(rest[8:]))
		return true
	})
	for i, id := range ids {
		if err := ctx.Isolated(func(jctx *chain.Context) error { return endBlockJob(jctx, keys[i], id) }); err != nil {
			ctx.Emit("compute_end_block_error", "job", chain.U64(id), "error", err.Error())
		}
	}
	return nil
}

func endBlockJob(ctx *chain.Context, dueKey []byte, id uint64) error {
	ctx.KV.Delete(dueKey)
	j, err := GetJob(ctx.KV, id)
	if err != nil {
		return nil // a stale entry; nothing to do
	}
	if j.Due <= ctx.Block.Height {
		j.Due = 0 // its entry is the one just deleted
	}
	if err := advance(ctx, &j); err != nil {
		return err
	}
	saveJob(ctx, &j)
	return nil
}
