package subnet

import (
	"encoding/binary"
	"slices"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/yuma"
)

func create(ctx *chain.Context, m *MsgCreate) error {
	if _, err := chain.RequireBlob(ctx, m.Dataset); err != nil {
		return err
	}
	hp := DefaultHyperparams()
	if m.Yuma != nil {
		hp = *m.Yuma
	}
	reveal := m.RevealPeriod
	if reveal == 0 {
		reveal = 1
	}
	id := chain.NextSeq(ctx.KV, keySeq)
	s := Subnet{
		ID: id, Owner: ctx.Sender, Task: m.Task, Dataset: m.Dataset, Tempo: m.Tempo, Yuma: hp,
		RegistrationMinStake: m.RegistrationMinStake, ValidatorMinStake: m.ValidatorMinStake,
		MaxUIDs: m.MaxUIDs, RevealPeriod: reveal, Created: ctx.Block.Height,
		NextEpoch: ctx.Block.Height + int64(m.Tempo),
	}
	putSubnet(ctx.KV, s)
	ctx.Emit("subnet_create", "subnet", chain.U64(id), "owner", ctx.Sender.String(), "dataset", m.Dataset, "tempo", chain.U64(m.Tempo))
	return nil
}

func register(ctx *chain.Context, m *MsgRegister) error {
	s, err := GetSubnet(ctx.KV, m.Subnet)
	if err != nil {
		return err
	}
	if uid, ok := UIDOf(ctx.KV, s.ID, ctx.Sender); ok {
		return chain.Wrap(chain.ErrConflict, "%s is already registered in subnet %d as uid %d", ctx.Sender, s.ID, uid)
	}
	if s.N >= s.MaxUIDs {
		return chain.Wrap(chain.ErrConflict, "subnet %d is full (%d uids)", s.ID, s.MaxUIDs)
	}
	if m.Model != 0 {
		if _, err := GetServedModel(ctx.KV, s.ID, m.Model); err != nil {
			return err
		}
	}
	pool := Pool(s.ID)
	if m.Stake > 0 {
		if err := chain.Bond(ctx, ctx.Sender, pool, m.Stake); err != nil {
			return err
		}
	}
	need := s.RegistrationMinStake
	if m.Role == RoleValidator {
		need = max(need, s.ValidatorMinStake)
	}
	if have := chain.Bonded(ctx, ctx.Sender, pool); have < need || have == 0 {
		return chain.Wrap(chain.ErrInsufficientFunds, "a %s of subnet %d needs %d%s bonded in pool %s, %s would have %d",
			m.Role, s.ID, max(need, 1), chain.Denom, pool, ctx.Sender, have)
	}
	uid := s.N
	s.N++
	n := Neuron{
		UID: uid, Account: ctx.Sender, Role: m.Role, Endpoint: m.Endpoint,
		RegisteredAt: ctx.Block.Height, LastUpdate: ctx.Block.Height,
		Weights: []Pair{}, Bonds: []Pair{}, Model: m.Model,
	}
	putNeuron(ctx.KV, s.ID, n)
	ctx.KV.Set(accountKey(s.ID, ctx.Sender), binary.BigEndian.AppendUint16(nil, uid))
	putSubnet(ctx.KV, s)
	ctx.Emit("subnet_register", "subnet", chain.U64(s.ID), "uid", chain.U64(uint64(uid)), "account", ctx.Sender.String(), "role", m.Role)
	return nil
}

// validatorOf loads the subnet and the sender's neuron, and checks that the
// sender may weigh miners: a registered validator with enough stake bonded.
func validatorOf(ctx *chain.Context, id uint64) (Subnet, Neuron, error) {
	s, err := GetSubnet(ctx.KV, id)
	if err != nil {
		return s, Neuron{}, err
	}
	uid, ok := UIDOf(ctx.KV, id, ctx.Sender)
	if !ok {
		return s, Neuron{}, chain.Wrap(chain.ErrUnauthorized, "%s is not registered in subnet %d", ctx.Sender, id)
	}
	n, err := GetNeuron(ctx.KV, id, uid)
	if err != nil {
		return s, n, err
	}
	if n.Role != RoleValidator {
		return s, n, chain.Wrap(chain.ErrUnauthorized, "uid %d of subnet %d is a %s; only validators set weights", uid, id, n.Role)
	}
	if have := chain.Bonded(ctx, ctx.Sender, Pool(id)); have < s.ValidatorMinStake {
		return s, n, chain.Wrap(chain.ErrUnauthorized, "validator uid %d has %d%s bonded, subnet %d needs %d", uid, have, chain.Denom, id, s.ValidatorMinStake)
	}
	return s, n, nil
}

// applyWeights checks the targets against state and stores the row as
// yuma's set_weights would: values max-upscaled, sorted by uid.
func applyWeights(ctx *chain.Context, s Subnet, n *Neuron, uids, values []uint16, block int64) error {
	for _, u := range uids {
		if u >= s.N {
			return chain.Wrap(chain.ErrNotFound, "subnet %d has no uid %d (it has %d)", s.ID, u, s.N)
		}
		t, err := GetNeuron(ctx.KV, s.ID, u)
		if err != nil {
			return err
		}
		if t.Role != RoleMiner {
			return chain.Wrap(chain.ErrInvalidRequest, "uid %d of subnet %d is a %s; weights go to miners", u, s.ID, t.Role)
		}
	}
	up := yuma.MaxUpscaleU16(values)
	row := make([]Pair, len(uids))
	for k, u := range uids {
		row[k] = Pair{UID: u, Value: up[k]}
	}
	slices.SortFunc(row, func(a, b Pair) int { return int(a.UID) - int(b.UID) })
	n.Weights = row
	n.LastUpdate = block
	putNeuron(ctx.KV, s.ID, *n)
	return nil
}

func setWeights(ctx *chain.Context, m *MsgSetWeights) error {
	s, n, err := validatorOf(ctx, m.Subnet)
	if err != nil {
		return err
	}
	if s.Yuma.CommitReveal {
		return chain.Wrap(chain.ErrInvalidRequest, "subnet %d uses commit-reveal: commit-weights, then reveal-weights", s.ID)
	}
	if err := applyWeights(ctx, s, &n, m.UIDs, m.Values, ctx.Block.Height); err != nil {
		return err
	}
	ctx.Emit("subnet_weights", "subnet", chain.U64(s.ID), "uid", chain.U64(uint64(n.UID)), "count", chain.U64(uint64(len(m.UIDs))))
	return nil
}

func commitWeights(ctx *chain.Context, m *MsgCommitWeights) error {
	s, n, err := validatorOf(ctx, m.Subnet)
	if err != nil {
		return err
	}
	if !s.Yuma.CommitReveal {
		return chain.Wrap(chain.ErrInvalidRequest, "subnet %d does not use commit-reveal: use set-weights", s.ID)
	}
	// One commit per uid per epoch: a second one in the same epoch replaces
	// the first, so a validator holds at most RevealPeriod+1 commits.
	c := Commit{UID: n.UID, Hash: m.Hash, Block: ctx.Block.Height, Epoch: s.Epoch}
	chain.Put(ctx.KV, commitKey(s.ID, n.UID, s.Epoch), c)
	ctx.Emit("subnet_commit", "subnet", chain.U64(s.ID), "uid", chain.U64(uint64(n.UID)), "epoch", chain.U64(s.Epoch),
		"reveal_epoch", chain.U64(s.Epoch+s.RevealPeriod))
	return nil
}

func revealWeights(ctx *chain.Context, m *MsgRevealWeights) error {
	s, n, err := validatorOf(ctx, m.Subnet)
	if err != nil {
		return err
	}
	if !s.Yuma.CommitReveal {
		return chain.Wrap(chain.ErrInvalidRequest, "subnet %d does not use commit-reveal: use set-weights", s.ID)
	}
	h := WeightsHash(s.ID, n.UID, m.UIDs, m.Values, m.Salt)
	var match *Commit
	for _, c := range Commits(ctx.KV, s.ID, n.UID) {
		if c.Hash == h {
			match = &c
			break
		}
	}
	if match == nil {
		return chain.Wrap(chain.ErrUnauthorized, "the revealed weights and salt do not match any pending commit of uid %d in subnet %d (a commit is gone once revealed or once its reveal epoch ends)", n.UID, s.ID)
	}
	due := match.Epoch + s.RevealPeriod
	switch {
	case s.Epoch < due:
		return chain.Wrap(chain.ErrTooEarly, "commit of epoch %d can be revealed in epoch %d; subnet %d is in epoch %d", match.Epoch, due, s.ID, s.Epoch)
	case s.Epoch > due:
		return chain.Wrap(chain.ErrTooLate, "commit of epoch %d had to be revealed in epoch %d; subnet %d is in epoch %d", match.Epoch, due, s.ID, s.Epoch)
	}
	// LastUpdate is the commit's block, as in subtensor: the weights were
	// decided then, which is what the epoch's outdated-weights mask needs.
	if err := applyWeights(ctx, s, &n, m.UIDs, m.Values, match.Block); err != nil {
		return err
	}
	ctx.KV.Delete(commitKey(s.ID, n.UID, match.Epoch))
	ctx.Emit("subnet_reveal", "subnet", chain.U64(s.ID), "uid", chain.U64(uint64(n.UID)), "epoch", chain.U64(match.Epoch),
		"count", chain.U64(uint64(len(m.UIDs))))
	return nil
}
