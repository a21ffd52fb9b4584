package pipeline

import (
	"fmt"
	"math/bits"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// Statuses.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)

// StageRecord is what one stage did: the object it created, when it
// started and ended, and what it spent of the budget.
type StageRecord struct {
	Stage   string `json:"stage" cbor:"1,keyasint"`
	Ref     string `json:"ref,omitempty" cbor:"2,keyasint,omitempty"` // label-job/N, compute-job/N, claim/M.S
	Started int64  `json:"started" cbor:"3,keyasint"`
	Ended   int64  `json:"ended,omitempty" cbor:"4,keyasint,omitempty"`
	Budget  uint64 `json:"budget" cbor:"5,keyasint"` // released to the stage
	Spent   uint64 `json:"spent" cbor:"6,keyasint"`  // paid out by it (the rest came back)
}

// Pipeline is a pipeline's on-chain record.
type Pipeline struct {
	ID         uint64        `json:"id" cbor:"1,keyasint"`
	Owner      chain.Address `json:"owner" cbor:"2,keyasint"`
	Account    chain.Address `json:"account" cbor:"3,keyasint"` // acts in the markets for the pipeline
	Spec       Spec          `json:"spec" cbor:"4,keyasint"`
	Budget     uint64        `json:"budget" cbor:"5,keyasint"`
	Status     string        `json:"status" cbor:"6,keyasint"`
	Stage      string        `json:"stage" cbor:"7,keyasint"`
	Deadline   int64         `json:"deadline" cbor:"8,keyasint"` // of the prove stage
	Reason     string        `json:"reason,omitempty" cbor:"9,keyasint,omitempty"`
	LabelJob   uint64        `json:"label_job,omitempty" cbor:"10,keyasint,omitempty"`
	Labelled   uint64        `json:"labelled,omitempty" cbor:"11,keyasint,omitempty"` // dataset id (version 1)
	ComputeJob uint64        `json:"compute_job,omitempty" cbor:"12,keyasint,omitempty"`
	Model      uint64        `json:"model,omitempty" cbor:"13,keyasint,omitempty"`
	Claim      uint64        `json:"claim,omitempty" cbor:"14,keyasint,omitempty"` // claim seq of Model
	Accuracy   uint32        `json:"accuracy_bps,omitempty" cbor:"15,keyasint,omitempty"`
	Stages     []StageRecord `json:"stages" cbor:"16,keyasint"`
	Refunded   uint64        `json:"refunded" cbor:"17,keyasint"`
	Created    int64         `json:"created" cbor:"18,keyasint"`
	Ended      int64         `json:"ended,omitempty" cbor:"19,keyasint,omitempty"`
	// Trust is the accepted claim's circuit trust (registry.TrustCeremony
	// or, where the spec allowed it, TrustSingleParty).
	Trust string `json:"trust,omitempty" cbor:"20,keyasint,omitempty"`
	// Served is the model's seq in the serve stage's subnet.
	Served uint64 `json:"served,omitempty" cbor:"21,keyasint,omitempty"`
}

// EscrowID names a pipeline's escrow.
func EscrowID(id uint64) string { return "pipeline/" + chain.U64(id) }

// Ref is the pipeline's lineage reference.
func Ref(id uint64) string { return "pipeline/" + chain.U64(id) }

var (
	keySeq       = []byte("pipeline/seq")
	prefixPipe   = []byte("pipeline/p/")
	prefixActive = []byte("pipeline/active/")
)

func pipeKey(id uint64) []byte {
	return append(append([]byte{}, prefixPipe...), chain.Uint64Bytes(id)...)
}
func activeKey(id uint64) []byte {
	return append(append([]byte{}, prefixActive...), chain.Uint64Bytes(id)...)
}

// Get loads a pipeline.
func Get(kv store.KV, id uint64) (Pipeline, error) {
	var p Pipeline
	if !chain.Get(kv, pipeKey(id), &p) {
		return p, chain.Wrap(chain.ErrNotFound, "pipeline %d", id)
	}
	return p, nil
}

func put(kv store.KV, p *Pipeline) { chain.Put(kv, pipeKey(p.ID), p) }

// LabelMsg is the labelling job the pipeline posts for a spec over items
// records (a team may post the same one by hand).
func LabelMsg(s *Spec, items uint32) *label.MsgCreateJob {
	l := s.Label
	return &label.MsgCreateJob{
		Title: l.Title, Labels: l.Labels, ItemKind: l.ItemKind, ItemCount: items,
		Redundancy: l.Redundancy, MaxRedundancy: l.MaxRedundancy, ConfidencePPM: l.ConfidencePPM, Reward: l.Reward, Stake: l.Stake,
		DeadlineBlocks: l.DeadlineBlocks, RevealBlocks: l.RevealBlocks, GraceBlocks: l.GraceBlocks, QualityPPM: l.QualityPPM,
		BatchSize: l.BatchSize, MaxPerWorker: min(l.MaxPerWorker, items),
		Source: &label.DataSource{Dataset: s.Dataset.Dataset, Version: s.Dataset.Version, Columns: s.Dataset.Columns,
			Name: l.DatasetName, Price: l.Price, CuratorBps: l.CuratorBps, AnnotatorBps: l.AnnotatorBps},
	}
}

// TrainMsg is the training job the pipeline posts over labelled dataset
// labelled (version 1).
func TrainMsg(s *Spec, labelled uint64) *compute.MsgPostJob {
	t := s.Train
	return &compute.MsgPostJob{
		Spec: compute.Spec{Module: t.Module, Args: t.Args, Seed: t.Seed, MemoryBytes: t.MemoryBytes, Fuel: t.Fuel,
			WallSeconds: t.WallSeconds, MaxOutputBytes: t.MaxOutputBytes},
		MaxPrice: t.MaxPrice, Redundancy: t.Redundancy, Timeout: t.Timeout, DeadlineBlocks: t.DeadlineBlocks, ChallengeBlocks: t.ChallengeBlocks,
		Data: []compute.DataInput{{Name: t.InputName, Dataset: labelled, Version: 1, Columns: t.Columns}},
	}
}

// stageBudgets is what the labelling and training stages may spend at most:
// the label job's budget (items x max redundancy x reward) and the compute
// job's (compute.Budget).
func stageBudgets(s *Spec, items uint32) (lab, train uint64, err error) {
	hi, lab := bits.Mul64(uint64(items)*uint64(s.Label.MaxRedundancy), s.Label.Reward)
	if hi != 0 {
		return 0, 0, chain.Wrap(chain.ErrOverflow, "label budget")
	}
	train, err = compute.Budget(TrainMsg(s, 1))
	return lab, train, err
}

func create(ctx *chain.Context, m *MsgCreate) error {
	s := &m.Spec
	_, v, err := data.CanUse(ctx.KV, s.Dataset.Dataset, s.Dataset.Version, ctx.Sender)
	if err != nil {
		return err
	}
	if v.Count == 0 || v.Count > label.MaxInlineItems {
		return chain.Wrap(chain.ErrInvalidRequest, "dataset %d version %d has %d records; a pipeline labels 1 to %d", v.Dataset, v.Version, v.Count, label.MaxInlineItems)
	}
	if _, err := chain.RequireBlob(ctx, s.Train.Module); err != nil {
		return chain.Wrap(chain.ErrNotFound, "training module: %v", err)
	}
	if _, err := registry.GetTestSetHead(ctx.KV, s.Prove.TestSet); err != nil { // the rows are not needed
		return err
	}
	if s.Serve != nil {
		if _, err := subnet.GetSubnet(ctx.KV, s.Serve.Subnet); err != nil {
			return err
		}
	}
	items := uint32(v.Count)
	lab, train, err := stageBudgets(s, items)
	if err != nil {
		return err
	}
	need, err := chain.AddU64(lab, train)
	if err != nil {
		return err
	}
	if m.Budget < need {
		return chain.Wrap(chain.ErrInsufficientFunds, "budget %d utnn is below the stages' sum %d (label %d + train %d)", m.Budget, need, lab, train)
	}
	id := chain.NextSeq(ctx.KV, keySeq)
	p := Pipeline{ID: id, Owner: ctx.Sender, Account: chain.ModuleAddress(EscrowID(id)), Spec: *s, Budget: m.Budget,
		Status: StatusRunning, Created: ctx.Block.Height, Stages: []StageRecord{}}
	if err := chain.Lock(ctx, ctx.Sender, EscrowID(id), m.Budget); err != nil {
		return fmt.Errorf("lock the budget of pipeline %d: %w", id, err)
	}
	ctx.Emit("pipeline_create", "pipeline", chain.U64(id), "owner", ctx.Sender.String(), "budget", chain.U64(m.Budget))
	if err := startLabel(ctx, &p, items, lab); err != nil {
		return err
	}
	put(ctx.KV, &p)
	ctx.KV.Set(activeKey(id), []byte{1})
	return nil
}

// as runs f as the pipeline's account.
func as(ctx *chain.Context, p *Pipeline, f func(sub *chain.Context) error) error {
	prev := ctx.Sender
	ctx.Sender = p.Account
	defer func() { ctx.Sender = prev }()
	return f(ctx)
}

func (p *Pipeline) begin(ctx *chain.Context, stage, ref string, budget uint64) {
	p.Stage = stage
	p.Stages = append(p.Stages, StageRecord{Stage: stage, Ref: ref, Started: ctx.Block.Height, Budget: budget})
	ctx.Emit("pipeline_stage", "pipeline", chain.U64(p.ID), "stage", stage, "ref", ref)
}

func (p *Pipeline) current() *StageRecord { return &p.Stages[len(p.Stages)-1] }

func startLabel(ctx *chain.Context, p *Pipeline, items uint32, budget uint64) error {
	if err := chain.Release(ctx, EscrowID(p.ID), p.Account, budget); err != nil {
		return err
	}
	// The pipeline's account acts for the team: it may use what the team may.
	if err := data.DelegateGrant(ctx, p.Spec.Dataset.Dataset, p.Spec.Dataset.Version, p.Owner, p.Account); err != nil {
		return err
	}
	var job uint64
	err := as(ctx, p, func(sub *chain.Context) error {
		var err error
		job, err = label.CreateJob(sub, LabelMsg(&p.Spec, items))
		return err
	})
	if err != nil {
		return fmt.Errorf("pipeline %d: labelling stage: %w", p.ID, err)
	}
	p.LabelJob = job
	p.begin(ctx, StageLabel, "label-job/"+chain.U64(job), budget)
	return data.RecordEdge(ctx, "label-job/"+chain.U64(job), Ref(p.ID), "stage")
}
