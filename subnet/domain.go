// Package subnet is the model subnet market: a subnet names a task and an
// evaluation data set; miners register an endpoint that serves a model,
// validators score the miners and set weights on them (directly, or by
// commit-reveal), and every Tempo blocks a Yuma consensus epoch (package
// yuma) turns the stake-weighted weights into incentive for miners and
// dividends for validators, paid from the subnet emission schedule (see
// BlockReward). Consensus code: integers only, no map ranges, no clock.
//
// Messages: subnet/create, subnet/register, subnet/set-weights,
// subnet/commit-weights, subnet/reveal-weights, subnet/enter-model (a
// verified model, whose miners pay a royalty back to it: models.go).
// Queries (GET /query/subnet/...): subnets, info/<id>, metagraph/<id>,
// epochs/<id>, epoch/<id>/<n>, commits/<id>, models/<id>, model/<id>/<seq>. The miner and validator agents are in
// subnet/agent.
package subnet

import (
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Domain is the subnet market's chain domain.
type Domain struct{}

func (Domain) Name() string { return "subnet" }

func (Domain) Register(r *chain.Router) {
	chain.Handle(r, create)
	chain.Handle(r, register)
	chain.Handle(r, setWeights)
	chain.Handle(r, commitWeights)
	chain.Handle(r, revealWeights)
	chain.Handle(r, enterModel)
}

// Info is a subnet with its current stake and population.
type Info struct {
	Subnet
	Pool       string `json:"pool"`
	PoolStake  uint64 `json:"pool_stake"` // all stake bonded in the pool
	Miners     int    `json:"miners"`
	Validators int    `json:"validators"`
}

// MetagraphEntry is one uid as the metagraph query shows it: the neuron
// record plus its account's current bonded stake and pending commits.
type MetagraphEntry struct {
	Neuron
	Stake          uint64 `json:"stake"`
	PendingCommits int    `json:"pending_commits"`
}

func parseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, chain.Wrap(chain.ErrInvalidRequest, "subnet id %q: want a number", s)
	}
	return id, nil
}

// ModelView is an entered model with what its revenue paid whom.
type ModelView struct {
	ServedModel
	Ref      string    `json:"ref"`
	Miners   []uint16  `json:"miners"` // uids serving it
	Revenues []Revenue `json:"revenues"`
}

func modelView(kv store.KV, m ServedModel) ModelView {
	v := ModelView{ServedModel: m, Ref: ModelRef(m.Subnet, m.Seq), Miners: []uint16{}, Revenues: Revenues(kv, m.Subnet, m.Seq)}
	for _, n := range Neurons(kv, m.Subnet) {
		if n.Model == m.Seq {
			v.Miners = append(v.Miners, n.UID)
		}
	}
	return v
}

// Query answers: subnets | info/<id> | metagraph/<id> | epochs/<id> |
// epoch/<id>/<n> | commits/<id> | models/<id> | model/<id>/<seq>.
func (Domain) Query(kv store.KV, path string, _ map[string]string) (any, error) {
	kind, rest, _ := strings.Cut(path, "/")
	if kind == "subnets" {
		out := Subnets(kv)
		if out == nil {
			out = []Subnet{}
		}
		return out, nil
	}
	arg, sub, _ := strings.Cut(rest, "/")
	id, err := parseID(arg)
	if err != nil {
		return nil, err
	}
	s, err := GetSubnet(kv, id)
	if err != nil {
		return nil, err
	}
	ctx := &chain.Context{KV: kv}
	switch kind {
	case "info":
		info := Info{Subnet: s, Pool: Pool(id)}
		for _, st := range chain.PoolStakes(ctx, Pool(id)) {
			info.PoolStake += st.Amount
		}
		for _, n := range Neurons(kv, id) {
			if n.Role == RoleMiner {
				info.Miners++
			} else {
				info.Validators++
			}
		}
		return info, nil
	case "metagraph":
		out := []MetagraphEntry{}
		for _, n := range Neurons(kv, id) {
			out = append(out, MetagraphEntry{Neuron: n, Stake: chain.Bonded(ctx, n.Account, Pool(id)), PendingCommits: len(Commits(kv, id, n.UID))})
		}
		return out, nil
	case "epochs":
		out := Epochs(kv, id)
		if out == nil {
			out = []EpochRecord{}
		}
		return out, nil
	case "epoch":
		n, err := strconv.ParseUint(sub, 10, 64)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "epoch %q: want a number", sub)
		}
		var r EpochRecord
		if !chain.Get(kv, epochKey(id, n), &r) {
			return nil, chain.Wrap(chain.ErrNotFound, "subnet %d keeps no record of epoch %d", id, n)
		}
		return r, nil
	case "models":
		out := []ModelView{}
		for _, m := range ServedModels(kv, id) {
			out = append(out, modelView(kv, m))
		}
		return out, nil
	case "model":
		seq, err := strconv.ParseUint(sub, 10, 64)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "model %q: want a number", sub)
		}
		m, err := GetServedModel(kv, id, seq)
		if err != nil {
			return nil, err
		}
		return modelView(kv, m), nil
	case "commits":
		out := []Commit{}
		for uid := uint16(0); uid < s.N; uid++ {
			out = append(out, Commits(kv, id, uid)...)
		}
		return out, nil
	}
	return nil, chain.Wrap(chain.ErrNotFound, "no subnet query %q", path)
}
