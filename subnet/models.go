package subnet

import (
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// Verified models in a subnet, and the revenue that flows back from them.
//
// A model enters a subnet only with a verified claim about it (the zkml
// registry stores claims only once their proof verified). Miners register
// serving an entered model; every epoch, RoyaltyBps of such a miner's
// server emission is the model's revenue: DataBps of it goes to the data
// the model was trained on (split among the compute job's dataset inputs
// equally, and inside each by the version's shares, declared when the
// version was made: raw contributors by records and, for a labelled
// version, annotators by answers), the rest to the model's owner, who also
// takes every rounding remainder. The parts add up to the royalty exactly.

// Bounds.
const (
	MaxSources = 16 // dataset inputs of one compute job paid from a model's revenue
)

// RevenueSource is a dataset version behind a model and the shares its
// part of the revenue is split by (copied when the model is entered, so
// later versions change nothing).
type RevenueSource struct {
	Ref    string       `json:"ref" cbor:"1,keyasint"` // dataset/<id>@<v>
	Shares []data.Share `json:"shares" cbor:"2,keyasint"`
}

// ServedModel is a verified model entered into a subnet.
type ServedModel struct {
	Subnet     uint64          `json:"subnet" cbor:"1,keyasint"`
	Seq        uint64          `json:"seq" cbor:"2,keyasint"`
	Model      uint64          `json:"model" cbor:"3,keyasint"` // zkml registry model id
	Claim      uint64          `json:"claim" cbor:"4,keyasint"` // its verified claim
	Trust      string          `json:"trust" cbor:"5,keyasint"` // the claim's circuit trust
	Output     string          `json:"output,omitempty" cbor:"6,keyasint,omitempty"`
	ComputeJob uint64          `json:"compute_job,omitempty" cbor:"7,keyasint,omitempty"`
	Owner      chain.Address   `json:"owner" cbor:"8,keyasint"` // receives the owner's part
	EnteredBy  chain.Address   `json:"entered_by" cbor:"9,keyasint"`
	Entered    int64           `json:"entered" cbor:"10,keyasint"`
	RoyaltyBps uint32          `json:"royalty_bps" cbor:"11,keyasint"`
	DataBps    uint32          `json:"data_bps" cbor:"12,keyasint"`
	Sources    []RevenueSource `json:"sources" cbor:"13,keyasint"`
	Earned     uint64          `json:"earned" cbor:"14,keyasint"` // all royalties so far
}

// Revenue is what one account was paid from a served model's royalties.
type Revenue struct {
	Address chain.Address `json:"address" cbor:"1,keyasint"`
	Role    string        `json:"role" cbor:"2,keyasint"` // owner | data
	Source  string        `json:"source,omitempty" cbor:"3,keyasint,omitempty"`
	Amount  uint64        `json:"amount" cbor:"4,keyasint"`
}

// Revenue roles.
const (
	RoleOwner = "owner"
	RoleData  = "data"
)

// ModelRef names a served model in lineage: subnet/<id>.<seq>.
func ModelRef(subnet, seq uint64) string { return "subnet/" + chain.U64(subnet) + "." + chain.U64(seq) }

func modelPrefix(id uint64) []byte { return chain.Key([]byte("subnet/m/"), chain.Uint64Bytes(id)) }
func modelKey(id, seq uint64) []byte {
	return chain.Key(modelPrefix(id), chain.Uint64Bytes(seq))
}
func modelSeqKey(id uint64) []byte { return chain.Key([]byte("subnet/mseq/"), chain.Uint64Bytes(id)) }
func revenuePrefix(id, seq uint64) []byte {
	return chain.Key([]byte("subnet/r/"), chain.Uint64Bytes(id), chain.Uint64Bytes(seq))
}
func revenueKey(id, seq uint64, role, source string, a chain.Address) []byte {
	return chain.Key(revenuePrefix(id, seq), []byte(role+"/"+source), []byte{0}, a[:])
}

// GetServedModel loads entered model seq of subnet id.
func GetServedModel(kv store.KV, id, seq uint64) (ServedModel, error) {
	var m ServedModel
	if !chain.Get(kv, modelKey(id, seq), &m) {
		return m, chain.Wrap(chain.ErrNotFound, "subnet %d has no entered model %d", id, seq)
	}
	return m, nil
}

// ServedModels lists the models entered into subnet id, in order of entry.
func ServedModels(kv store.KV, id uint64) []ServedModel {
	out := []ServedModel{}
	chain.Each(kv, modelPrefix(id), func(_ []byte, m ServedModel) bool {
		out = append(out, m)
		return true
	})
	return out
}

// Revenues lists what each account was paid from a served model, by role
// and source.
func Revenues(kv store.KV, id, seq uint64) []Revenue {
	out := []Revenue{}
	chain.Each(kv, revenuePrefix(id, seq), func(_ []byte, r Revenue) bool {
		out = append(out, r)
		return true
	})
	return out
}

// Entry is what entering a model into a subnet takes.
type Entry struct {
	Subnet     uint64
	Model      uint64
	Claim      uint64
	RoyaltyBps uint32
	DataBps    uint32
	// Owner receives the owner's part; the sender must be the model's
	// owner or the tenant of the compute job it came out of.
	Owner chain.Address
}

func (e Entry) validate() error {
	switch {
	case e.Model == 0 || e.Claim == 0:
		return chain.Wrap(chain.ErrInvalidRequest, "a model enters a subnet with its verified claim: name both")
	case e.RoyaltyBps > 10_000 || e.DataBps > 10_000:
		return chain.Wrap(chain.ErrInvalidRequest, "royalty_bps and data_bps must be 0 to 10000")
	}
	return nil
}

// EnterModel enters a verified model into a subnet and returns its seq.
// The pipeline's subnet stage calls it as the pipeline's account.
func EnterModel(ctx *chain.Context, e Entry) (uint64, error) {
	ctx = ctx.Scoped("subnet") // called by other markets: write only our own keys
	if err := e.validate(); err != nil {
		return 0, err
	}
	s, err := GetSubnet(ctx.KV, e.Subnet)
	if err != nil {
		return 0, err
	}
	m, err := registry.GetModel(ctx.KV, e.Model)
	if err != nil {
		return 0, err
	}
	var claim *registry.Claim
	for _, c := range registry.Claims(ctx.KV, m.ID) {
		if c.Seq == e.Claim {
			claim = &c
			break
		}
	}
	if claim == nil {
		return 0, chain.Wrap(chain.ErrNotFound, "model %d has no verified claim %d: a model enters a subnet only with one", m.ID, e.Claim)
	}
	sm := ServedModel{Subnet: s.ID, Model: m.ID, Claim: claim.Seq, Trust: claim.Trust, Output: m.Output, ComputeJob: m.ComputeJob,
		Owner: e.Owner, EnteredBy: ctx.Sender, Entered: ctx.Block.Height, RoyaltyBps: e.RoyaltyBps, DataBps: e.DataBps, Sources: []RevenueSource{}}
	allowed := ctx.Sender == m.Owner
	if m.ComputeJob != 0 {
		j, err := compute.GetJob(ctx.KV, m.ComputeJob)
		if err != nil {
			return 0, err
		}
		allowed = allowed || ctx.Sender == j.Tenant
		if len(j.Data) > MaxSources {
			return 0, chain.Wrap(chain.ErrInvalidRequest, "compute job %d reads %d datasets; at most %d can share a model's revenue", j.ID, len(j.Data), MaxSources)
		}
		for _, in := range j.Data {
			v, err := data.GetVersion(ctx.KV, in.Dataset, in.Version)
			if err != nil {
				return 0, err
			}
			sm.Sources = append(sm.Sources, RevenueSource{Ref: data.DatasetRef(in.Dataset, in.Version), Shares: v.Contributors})
		}
	}
	if !allowed {
		return 0, chain.Wrap(chain.ErrUnauthorized, "%s neither owns model %d nor ordered the compute job it came out of", ctx.Sender, m.ID)
	}
	if e.DataBps > 0 && len(sm.Sources) == 0 {
		return 0, chain.Wrap(chain.ErrInvalidRequest, "model %d did not come out of a compute job over datasets: no data to pay data_bps to", m.ID)
	}
	for _, o := range ServedModels(ctx.KV, s.ID) {
		if o.Model == m.ID {
			return 0, chain.Wrap(chain.ErrConflict, "model %d is already entered into subnet %d as model %d", m.ID, s.ID, o.Seq)
		}
	}
	sm.Seq = chain.NextSeq(ctx.KV, modelSeqKey(s.ID))
	chain.Put(ctx.KV, modelKey(s.ID, sm.Seq), sm)
	if err := data.RecordEdge(ctx, registry.ClaimRef(m.ID, claim.Seq), ModelRef(s.ID, sm.Seq), data.RelServes); err != nil {
		return 0, err
	}
	ctx.Emit("subnet_model", "subnet", chain.U64(s.ID), "seq", chain.U64(sm.Seq), "model", chain.U64(m.ID), "claim", chain.U64(claim.Seq),
		"royalty_bps", chain.U64(uint64(e.RoyaltyBps)), "data_bps", chain.U64(uint64(e.DataBps)), "trust", claim.Trust)
	return sm.Seq, nil
}

func enterModel(ctx *chain.Context, m *MsgEnterModel) error {
	_, err := EnterModel(ctx, Entry{Subnet: m.Subnet, Model: m.Model, Claim: m.Claim, RoyaltyBps: m.RoyaltyBps, DataBps: m.DataBps, Owner: ctx.Sender})
	return err
}

// RoyaltySplit divides a royalty: the data part (dataBps of it) equally
// among the sources (the first ones take the remainder, a unit each), each
// source's part by its shares (data.Split, no curator); the owner takes the
// rest, rounding included. The sum of owner and every paid[i][j] is
// amount, exactly.
func RoyaltySplit(amount uint64, dataBps uint32, sources []RevenueSource) (owner uint64, paid [][]uint64) {
	dataPart := chain.MulDiv(amount, uint64(dataBps), 10_000)
	owner = amount - dataPart
	paid = make([][]uint64, len(sources))
	if len(sources) == 0 {
		return amount, paid
	}
	n := uint64(len(sources))
	for i, src := range sources {
		part := dataPart / n
		if uint64(i) < dataPart%n {
			part++
		}
		rest, p := data.Split(part, 0, src.Shares)
		owner += rest // no shares, or rounding
		paid[i] = p
	}
	return owner, paid
}

// payRoyalty mints a served model's royalty to its owner and data.
func payRoyalty(ctx *chain.Context, sm *ServedModel, amount uint64) error {
	if amount == 0 {
		return nil
	}
	owner, paid := RoyaltySplit(amount, sm.DataBps, sm.Sources)
	if err := credit(ctx, sm, RoleOwner, "", sm.Owner, owner); err != nil {
		return err
	}
	for i, src := range sm.Sources {
		for j, s := range src.Shares {
			if err := credit(ctx, sm, RoleData, src.Ref, s.Contributor, paid[i][j]); err != nil {
				return err
			}
		}
	}
	var err error
	if sm.Earned, err = chain.AddU64(sm.Earned, amount); err != nil {
		return err
	}
	chain.Put(ctx.KV, modelKey(sm.Subnet, sm.Seq), *sm)
	return nil
}

func credit(ctx *chain.Context, sm *ServedModel, role, source string, a chain.Address, amount uint64) error {
	if amount == 0 {
		return nil
	}
	if err := chain.Mint(ctx, a, amount); err != nil {
		return err
	}
	k := revenueKey(sm.Subnet, sm.Seq, role, source, a)
	var r Revenue
	if !chain.Get(ctx.KV, k, &r) {
		r = Revenue{Address: a, Role: role, Source: source}
	}
	var err error
	if r.Amount, err = chain.AddU64(r.Amount, amount); err != nil {
		return err
	}
	chain.Put(ctx.KV, k, r)
	return nil
}
