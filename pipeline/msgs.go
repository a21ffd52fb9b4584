// Package pipeline is the chain domain "pipeline": an AI team declares its
// whole workflow once (the raw dataset version, the labelling, the training
// job, the accuracy to prove on a public test set), escrows the whole budget
// in one transaction, and the chain advances stage by stage in end-block as
// each completes, with no action by the team: it closes the labelling job
// when its reveals are in, trains on the labelled dataset the job produced,
// and waits for a verified accuracy claim about the training job's output.
// An unmet accuracy or an expired stage ends the pipeline with a recorded
// reason; whatever the stages did not spend is refunded. Every stage runs
// through the other markets' exported functions (label.CreateJob,
// compute.PostJob, ...) as the pipeline's own account, so each market keeps
// its rules and its state under its own prefix.
//
// It is consensus code: pure functions of the store and the block.
package pipeline

import (
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/zkml/model"
)

// Stages, in the order a spec lists them.
const (
	StageLabel = "label"
	StageTrain = "train"
	StageProve = "prove"
	StageServe = "serve" // optional: the verified model enters a subnet
)

// Limits.
const (
	MaxNameLen     = 128
	MaxStageBlocks = 1_000_000
)

// DatasetSpec names the raw dataset version and the columns annotators see.
type DatasetSpec struct {
	Dataset uint64   `json:"dataset" yaml:"dataset" cbor:"1,keyasint"`
	Version uint64   `json:"version" yaml:"version" cbor:"2,keyasint"`
	Columns []string `json:"columns,omitempty" yaml:"columns,omitempty" cbor:"3,keyasint,omitempty"`
}

// LabelSpec is the labelling job's parameters (label.MsgCreateJob's) and
// the terms of the labelled dataset it produces.
type LabelSpec struct {
	Title          string   `json:"title" yaml:"title" cbor:"1,keyasint"`
	Labels         []string `json:"labels" yaml:"labels" cbor:"2,keyasint"`
	ItemKind       string   `json:"item_kind" yaml:"item_kind" cbor:"3,keyasint"`
	Redundancy     uint32   `json:"redundancy" yaml:"redundancy" cbor:"4,keyasint"`
	MaxRedundancy  uint32   `json:"max_redundancy" yaml:"max_redundancy" cbor:"5,keyasint"`
	ConfidencePPM  uint32   `json:"confidence_ppm" yaml:"confidence_ppm" cbor:"6,keyasint"`
	Reward         uint64   `json:"reward" yaml:"reward" cbor:"7,keyasint"`
	Stake          uint64   `json:"stake" yaml:"stake" cbor:"8,keyasint"`
	DeadlineBlocks int64    `json:"deadline_blocks" yaml:"deadline_blocks" cbor:"9,keyasint"`
	RevealBlocks   int64    `json:"reveal_blocks" yaml:"reveal_blocks" cbor:"10,keyasint"`
	GraceBlocks    int64    `json:"grace_blocks" yaml:"grace_blocks" cbor:"11,keyasint"`
	QualityPPM     uint32   `json:"quality_ppm" yaml:"quality_ppm" cbor:"12,keyasint"`
	BatchSize      uint32   `json:"batch_size" yaml:"batch_size" cbor:"13,keyasint"`
	MaxPerWorker   uint32   `json:"max_per_worker" yaml:"max_per_worker" cbor:"14,keyasint"`
	DatasetName    string   `json:"dataset_name" yaml:"dataset_name" cbor:"15,keyasint"`
	Price          uint64   `json:"price" yaml:"price" cbor:"16,keyasint"`
	CuratorBps     uint32   `json:"curator_bps" yaml:"curator_bps" cbor:"17,keyasint"`
	AnnotatorBps   uint32   `json:"annotator_bps" yaml:"annotator_bps" cbor:"18,keyasint"`
}

// TrainSpec is the training job (compute.MsgPostJob's parameters); the
// labelled dataset is mounted as InputName.
type TrainSpec struct {
	Module          string   `json:"module" yaml:"module" cbor:"1,keyasint"`
	Args            []string `json:"args,omitempty" yaml:"args,omitempty" cbor:"2,keyasint,omitempty"`
	InputName       string   `json:"input_name" yaml:"input_name" cbor:"3,keyasint"`
	MemoryBytes     uint64   `json:"memory_bytes" yaml:"memory_bytes" cbor:"4,keyasint"`
	Fuel            uint64   `json:"fuel" yaml:"fuel" cbor:"5,keyasint"`
	WallSeconds     uint32   `json:"wall_seconds" yaml:"wall_seconds" cbor:"6,keyasint"`
	MaxOutputBytes  uint64   `json:"max_output_bytes" yaml:"max_output_bytes" cbor:"7,keyasint"`
	MaxPrice        uint64   `json:"max_price" yaml:"max_price" cbor:"8,keyasint"`
	Redundancy      uint32   `json:"redundancy" yaml:"redundancy" cbor:"9,keyasint"`
	Timeout         int64    `json:"timeout" yaml:"timeout" cbor:"10,keyasint"`
	DeadlineBlocks  int64    `json:"deadline_blocks" yaml:"deadline_blocks" cbor:"11,keyasint"`
	ChallengeBlocks int64    `json:"challenge_blocks,omitempty" yaml:"challenge_blocks,omitempty" cbor:"12,keyasint,omitempty"`
	Seed            uint64   `json:"seed,omitempty" yaml:"seed,omitempty" cbor:"13,keyasint,omitempty"`
	// Columns of the labelled dataset the job reads, in this order (empty:
	// all, the label and its confidence last); the providers get only these.
	Columns []string `json:"columns,omitempty" yaml:"columns,omitempty" cbor:"14,keyasint,omitempty"`
}

// ProveSpec is the accuracy the model must prove, on which registered test
// set, within how many blocks of the training job's result.
//
// Only a claim under a trusted setup counts (registry.RequireTrustedClaim:
// a sealed on-chain ceremony with MinContributors per phase, one of them
// neither prover nor model owner). AllowSingleParty admits claims under
// keys from one party's setup, for devnets and demos: the pipeline's Trust
// says so wherever it is shown.
type ProveSpec struct {
	TestSet          model.Digest `json:"test_set" yaml:"test_set" cbor:"1,keyasint"`
	MinAccuracyBps   uint32       `json:"min_accuracy_bps" yaml:"min_accuracy_bps" cbor:"2,keyasint"`
	DeadlineBlocks   int64        `json:"deadline_blocks" yaml:"deadline_blocks" cbor:"3,keyasint"`
	MinContributors  uint32       `json:"min_contributors,omitempty" yaml:"min_contributors,omitempty" cbor:"4,keyasint,omitempty"` // default 2
	AllowSingleParty bool         `json:"allow_single_party,omitempty" yaml:"allow_single_party,omitempty" cbor:"5,keyasint,omitempty"`
}

// DefaultMinContributors is a ceremony's contributors per phase when the
// spec names none: one besides whoever might cheat.
const DefaultMinContributors = 2

// ServeSpec enters the verified model into a subnet: miners serving it pay
// RoyaltyBps of their emission to it, DataBps of that to its training data
// (raw contributors and annotators, by the labelled version's shares), the
// rest to the pipeline's owner.
type ServeSpec struct {
	Subnet     uint64 `json:"subnet" yaml:"subnet" cbor:"1,keyasint"`
	RoyaltyBps uint32 `json:"royalty_bps" yaml:"royalty_bps" cbor:"2,keyasint"`
	DataBps    uint32 `json:"data_bps" yaml:"data_bps" cbor:"3,keyasint"`
}

// Spec is a whole workflow. Stages lists the stages in order; each listed
// stage needs its section; label, train and prove are required, serve is
// optional.
type Spec struct {
	Name    string       `json:"name" yaml:"name" cbor:"1,keyasint"`
	Stages  []string     `json:"stages" yaml:"stages" cbor:"2,keyasint"`
	Dataset *DatasetSpec `json:"dataset" yaml:"dataset" cbor:"3,keyasint"`
	Label   *LabelSpec   `json:"label" yaml:"label" cbor:"4,keyasint"`
	Train   *TrainSpec   `json:"train" yaml:"train" cbor:"5,keyasint"`
	Prove   *ProveSpec   `json:"prove" yaml:"prove" cbor:"6,keyasint"`
	Serve   *ServeSpec   `json:"serve,omitempty" yaml:"serve,omitempty" cbor:"7,keyasint,omitempty"`
}

// Serves says whether the spec lists the serve stage.
func (s *Spec) Serves() bool { return len(s.Stages) == 4 }

// MsgCreate creates a pipeline and escrows its whole budget.
type MsgCreate struct {
	Spec   Spec   `json:"spec" cbor:"1,keyasint"`
	Budget uint64 `json:"budget" cbor:"2,keyasint"`
}

func (*MsgCreate) Type() string { return "pipeline/create" }

// ExtraFee: a pipeline costs the end-block step a look per block.
func (*MsgCreate) ExtraFee() uint64 { return 100 }

func (m *MsgCreate) ValidateBasic() error {
	bad := func(format string, args ...any) error { return chain.Wrap(chain.ErrInvalidRequest, format, args...) }
	s := &m.Spec
	if s.Name == "" || len(s.Name) > MaxNameLen {
		return bad("pipeline name must be 1 to %d characters", MaxNameLen)
	}
	want := []string{StageLabel, StageTrain, StageProve, StageServe}
	for i, st := range s.Stages {
		switch st {
		case StageLabel, StageTrain, StageProve, StageServe:
		default:
			return bad("unknown stage %q: a pipeline has the stages %v (serve optional)", st, want)
		}
		if i >= len(want) || st != want[i] {
			return bad("stages %v: want %v, in that order (serve optional)", s.Stages, want)
		}
	}
	if len(s.Stages) < 3 {
		return bad("stages %v: missing stage(s), want %v (serve optional)", s.Stages, want)
	}
	if s.Serves() != (s.Serve != nil) {
		if s.Serve == nil {
			return bad("stage serve has no serve section")
		}
		return bad("a serve section without the serve stage in stages")
	}
	if s.Serve != nil && (s.Serve.RoyaltyBps > 10_000 || s.Serve.DataBps > 10_000) {
		return bad("serve royalty_bps and data_bps must be 0 to 10000")
	}
	if s.Prove != nil && s.Prove.MinContributors > 1000 {
		return bad("prove min_contributors must be at most 1000")
	}
	switch {
	case s.Dataset == nil:
		return bad("the spec names no dataset")
	case s.Label == nil:
		return bad("stage label has no label section")
	case s.Train == nil:
		return bad("stage train has no train section")
	case s.Prove == nil:
		return bad("stage prove has no prove section")
	case s.Dataset.Version == 0:
		return bad("dataset version must be 1 or more")
	case s.Prove.MinAccuracyBps == 0 || s.Prove.MinAccuracyBps > 10_000:
		return bad("min_accuracy_bps must be 1 to 10000")
	case s.Prove.DeadlineBlocks < 1 || s.Prove.DeadlineBlocks > MaxStageBlocks:
		return bad("prove deadline_blocks must be 1 to %d", MaxStageBlocks)
	case s.Train.InputName == "":
		return bad("train input_name is missing")
	case m.Budget == 0:
		return bad("budget must be positive")
	}
	if _, err := s.Prove.TestSet.Element(); err != nil {
		return bad("test set hash: %v", err)
	}
	// The stages' own messages check the rest of their parameters.
	if err := LabelMsg(s, max(s.Label.MaxPerWorker, 1)).ValidateBasic(); err != nil {
		return err
	}
	return TrainMsg(s, 1).ValidateBasic()
}
