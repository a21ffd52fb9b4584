package pipeline

import (
	"encoding/binary"
	"fmt"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// MaxPerBlock bounds the pipelines one end-block step looks at; the rest
// wait for the next block (the scan resumes after the last one seen).
const MaxPerBlock = 64

var keyCursor = []byte("pipeline/cursor")

// endBlock advances running pipelines, each in its own write buffer so that
// one failing cannot hold up the others.
func endBlock(ctx *chain.Context) error {
	cursor := chain.GetUint64(ctx.KV, keyCursor)
	var ids []uint64
	ctx.KV.Iterate(prefixActive, func(k, _ []byte) bool {
		if id := binary.BigEndian.Uint64(k[len(prefixActive):]); id > cursor {
			ids = append(ids, id)
		}
		return len(ids) < MaxPerBlock
	})
	next := uint64(0)
	if len(ids) == MaxPerBlock {
		next = ids[len(ids)-1]
	}
	chain.SetUint64(ctx.KV, keyCursor, next)
	for _, id := range ids {
		if err := ctx.Isolated(func(sub *chain.Context) error { return step(sub, id) }); err != nil {
			ctx.Emit("pipeline_error", "pipeline", chain.U64(id), "error", err.Error())
		}
	}
	return nil
}

func step(ctx *chain.Context, id uint64) error {
	p, err := Get(ctx.KV, id)
	if err != nil || p.Status != StatusRunning {
		ctx.KV.Delete(activeKey(id))
		return nil
	}
	switch p.Stage {
	case StageLabel:
		err = stepLabel(ctx, &p)
	case StageTrain:
		err = stepTrain(ctx, &p)
	case StageProve:
		err = stepProve(ctx, &p)
	}
	if err == nil && p.Status == StatusRunning && p.Stage == StageServe {
		err = stepServe(ctx, &p)
	}
	if err != nil {
		return err
	}
	put(ctx.KV, &p)
	return nil
}

// spent is what a stage paid out: its budget less what came back to the
// pipeline's account.
func (p *Pipeline) settleStage(ctx *chain.Context, refunded uint64) {
	st := p.current()
	st.Ended = ctx.Block.Height
	st.Spent = st.Budget - min(st.Budget, refunded)
}

func stepLabel(ctx *chain.Context, p *Pipeline) error {
	j, err := label.GetJob(ctx.KV, p.LabelJob)
	if err != nil {
		return err
	}
	h := ctx.Block.Height
	if j.Status == label.StatusOpen {
		allIn := h > j.CommitEnd && j.Revealed == j.Committed && j.Committed > 0
		if h <= j.RevealEnd && !allIn {
			return nil
		}
		// The team need not act: the pipeline closes its own job (no gold).
		if err := as(ctx, p, func(sub *chain.Context) error { return label.CloseJob(sub, &label.MsgClose{Job: j.ID}) }); err != nil {
			return fmt.Errorf("close label job %d: %w", j.ID, err)
		}
		if j, err = label.GetJob(ctx.KV, p.LabelJob); err != nil {
			return err
		}
	}
	p.settleStage(ctx, j.Refunded)
	if j.Labelled == 0 {
		return fail(ctx, p, fmt.Sprintf("label job %d produced no labelled data", j.ID))
	}
	p.Labelled = j.Labelled
	_, train, err := stageBudgets(&p.Spec, j.ItemCount)
	if err != nil {
		return err
	}
	if err := chain.Release(ctx, EscrowID(p.ID), p.Account, train); err != nil {
		return err
	}
	var job uint64
	err = as(ctx, p, func(sub *chain.Context) error {
		var err error
		job, err = compute.PostJob(sub, TrainMsg(&p.Spec, p.Labelled))
		return err
	})
	if err != nil {
		return fail(ctx, p, fmt.Sprintf("training job refused: %v", err))
	}
	// The labelled dataset is the team's; the job's scoped grant stays.
	if err := data.TransferDataset(ctx, p.Labelled, p.Account, p.Owner); err != nil {
		return err
	}
	p.ComputeJob = job
	p.begin(ctx, StageTrain, compute.Scope(job), train)
	return data.RecordEdge(ctx, compute.Scope(job), Ref(p.ID), "stage")
}

func stepTrain(ctx *chain.Context, p *Pipeline) error {
	j, err := compute.GetJob(ctx.KV, p.ComputeJob)
	if err != nil {
		return err
	}
	switch j.Status {
	case compute.StatusSettled:
	case compute.StatusExpired, compute.StatusFailed:
		p.settleStage(ctx, j.Budget-spentOf(&j))
		return fail(ctx, p, fmt.Sprintf("training job %d %s: %s", j.ID, j.Status, j.Note))
	default:
		return nil
	}
	p.settleStage(ctx, j.Budget-spentOf(&j))
	p.Deadline = ctx.Block.Height + p.Spec.Prove.DeadlineBlocks
	p.begin(ctx, StageProve, "blob/"+j.Result.Output, 0)
	return nil
}

// spentOf is what a compute job paid its providers.
func spentOf(j *compute.Job) uint64 {
	var s uint64
	for _, a := range j.Assignments {
		s += a.Paid
	}
	return min(s, j.Budget)
}

func stepProve(ctx *chain.Context, p *Pipeline) error {
	m, ok := registry.ModelOfJob(ctx.KV, p.ComputeJob)
	best, untrusted := uint32(0), ""
	if ok {
		p.Model = m.ID
		for _, c := range registry.Claims(ctx.KV, m.ID) {
			if c.Kind != registry.KindAccuracy || c.Accuracy == nil || c.AccuracyBps == nil || c.Accuracy.TestSet != p.Spec.Prove.TestSet {
				continue
			}
			if err := trusted(ctx, p, c); err != nil {
				untrusted = err.Error()
				continue
			}
			if *c.AccuracyBps >= p.Spec.Prove.MinAccuracyBps {
				p.Claim, p.Accuracy, p.Trust = c.Seq, *c.AccuracyBps, c.Trust
				p.current().Ref = registry.ClaimRef(m.ID, c.Seq)
				p.settleStage(ctx, 0)
				if err := data.RecordEdge(ctx, registry.ClaimRef(m.ID, c.Seq), Ref(p.ID), "stage"); err != nil {
					return err
				}
				if p.Spec.Serves() {
					p.begin(ctx, StageServe, "", 0)
					return nil
				}
				return finish(ctx, p, StatusCompleted, "")
			}
			best = max(best, *c.AccuracyBps)
		}
	}
	if ctx.Block.Height < p.Deadline {
		return nil
	}
	p.settleStage(ctx, 0)
	if best > 0 {
		return fail(ctx, p, fmt.Sprintf("accuracy target unmet: best proven %d bps on the test set, target %d bps", best, p.Spec.Prove.MinAccuracyBps))
	}
	if untrusted != "" {
		return fail(ctx, p, "no accuracy claim under a trusted setup: "+untrusted)
	}
	return fail(ctx, p, fmt.Sprintf("no verified accuracy claim on the test set by block %d", p.Deadline))
}

// trusted applies the spec's setup rule to a claim.
func trusted(ctx *chain.Context, p *Pipeline, c registry.Claim) error {
	if p.Spec.Prove.AllowSingleParty {
		return nil
	}
	need := int(p.Spec.Prove.MinContributors)
	if need == 0 {
		need = DefaultMinContributors
	}
	return registry.RequireTrustedClaim(ctx.KV, c, need)
}

// stepServe enters the verified model into the spec's subnet as the
// pipeline, its owner receiving the owner's part of the royalties. It
// takes one step: the subnet takes the model or says why not.
func stepServe(ctx *chain.Context, p *Pipeline) error {
	sv := p.Spec.Serve
	var seq uint64
	err := as(ctx, p, func(sub *chain.Context) error {
		var err error
		seq, err = subnet.EnterModel(sub, subnet.Entry{Subnet: sv.Subnet, Model: p.Model, Claim: p.Claim,
			RoyaltyBps: sv.RoyaltyBps, DataBps: sv.DataBps, Owner: p.Owner})
		return err
	})
	p.settleStage(ctx, 0)
	if err != nil {
		return fail(ctx, p, "subnet "+chain.U64(sv.Subnet)+" refused the model: "+err.Error())
	}
	p.Served = seq
	p.current().Ref = subnet.ModelRef(sv.Subnet, seq)
	return finish(ctx, p, StatusCompleted, "")
}

func fail(ctx *chain.Context, p *Pipeline, reason string) error {
	return finish(ctx, p, StatusFailed, reason)
}

// finish ends a pipeline and refunds what it did not spend: the escrow's
// rest and whatever the stages returned to the pipeline's account.
func finish(ctx *chain.Context, p *Pipeline, status, reason string) error {
	fromEscrow, err := chain.Refund(ctx, EscrowID(p.ID))
	if err != nil {
		return err
	}
	back := chain.Balance(ctx.KV, p.Account)
	if err := chain.Send(ctx, p.Account, p.Owner, back); err != nil {
		return err
	}
	p.Refunded = fromEscrow + back
	p.Status, p.Reason, p.Ended = status, reason, ctx.Block.Height
	ctx.KV.Delete(activeKey(p.ID))
	ctx.Emit("pipeline_end", "pipeline", chain.U64(p.ID), "status", status, "reason", reason, "refunded", chain.U64(p.Refunded))
	return nil
}
