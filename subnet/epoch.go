package subnet

import (
	"fmt"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/yuma"
)

// The emission schedule.
//
// Block h (h >= 1) emits BlockReward(h) = InitialBlockReward >> (h /
// HalvingBlocks) utnn: 1 TNN per block, halving every 10,512,000 blocks (a
// year of 3-second blocks), down to zero after 20 halvings; the total is
// about 21.02 million TNN (21,023,925.416 TNN). A block's reward is split equally among the
// subnets that exist at its end: with n subnets each gets floor(R/n), and
// the R mod n utnn left over go one each to the subnets with the lowest ids,
// so every block with a subnet emits exactly R and a block without one
// emits nothing.
//
// A subnet's share accrues in Subnet.Pending. Every Tempo blocks its epoch
// hands Pending to yuma.Epoch and mints ServerEmission (miners, by
// incentive) and ValidatorEmission (validators, by dividends) to each uid's
// account. What the epoch does not pay (floor rounding, or everything when
// no validator has stake) stays in Pending for the next epoch, so at every
// height, for every subnet, Accrued == Minted + Pending, and the sum of
// Accrued over subnets is the sum of BlockReward over the blocks since the
// first subnet was created.
const (
	InitialBlockReward = 1_000_000 // utnn: 1 TNN
	HalvingBlocks      = 10_512_000
)

// BlockReward is the subnet emission of block height h.
func BlockReward(h int64) uint64 {
	if h < 1 {
		return 0
	}
	halvings := uint64(h) / HalvingBlocks
	if halvings >= 64 {
		return 0
	}
	return InitialBlockReward >> halvings
}

// ShareOf is subnet k's part (k-th in id order, from 0) of reward r split
// among n subnets.
func ShareOf(r uint64, k, n int) uint64 {
	if n <= 0 {
		return 0
	}
	share := r / uint64(n)
	if uint64(k) < r%uint64(n) {
		share++
	}
	return share
}

// EndBlock accrues the block's emission to every subnet and runs the epoch
// of each subnet whose tempo has come. Each epoch runs in its own write
// buffer: a failing epoch (a bug) is reported as an event and skipped
// without stopping the other subnets or the chain.
func (Domain) EndBlock(ctx *chain.Context) error {
	subs := Subnets(ctx.KV)
	r := BlockReward(ctx.Block.Height)
	for k := range subs {
		s := subs[k]
		share := ShareOf(r, k, len(subs))
		var err error
		if s.Pending, err = chain.AddU64(s.Pending, share); err != nil {
			return fmt.Errorf("subnet %d: accrue emission: %w", s.ID, err)
		}
		if s.Accrued, err = chain.AddU64(s.Accrued, share); err != nil {
			return fmt.Errorf("subnet %d: accrue emission: %w", s.ID, err)
		}
		if ctx.Block.Height >= s.NextEpoch {
			s = epochIsolated(ctx, s)
		}
		putSubnet(ctx.KV, s)
	}
	return nil
}

// epochIsolated runs s's epoch in a write buffer and returns the updated
// subnet; on failure the epoch's writes are dropped and only the schedule
// moves on, keeping the accrued emission for the next epoch.
func epochIsolated(ctx *chain.Context, s Subnet) Subnet {
	next := s
	if err := ctx.Isolated(func(sub *chain.Context) error { return runEpoch(sub, &next) }); err != nil {
		s.NextEpoch = ctx.Block.Height + int64(s.Tempo)
		ctx.Emit("subnet_epoch_error", "subnet", chain.U64(s.ID), "error", err.Error())
		return s
	}
	return next
}

func toEntries(ps []Pair) []yuma.Entry {
	out := make([]yuma.Entry, len(ps))
	for i, p := range ps {
		out[i] = yuma.Entry{UID: p.UID, Value: p.Value}
	}
	return out
}

func fromEntries(es []yuma.Entry) []Pair {
	out := make([]Pair, len(es))
	for i, e := range es {
		out[i] = Pair{UID: e.UID, Value: e.Value}
	}
	return out
}

// EpochParams are the yuma.Params of s's epochs. The stake threshold is at
// least ValidatorMinStake, so a validator that unbonded below the minimum
// loses its permit and its vote.
func EpochParams(s Subnet) yuma.Params {
	p := s.Yuma.Params(s.Tempo)
	p.StakeThreshold = max(p.StakeThreshold, s.ValidatorMinStake)
	return p
}

// runEpoch runs one Yuma epoch of s at the current block and pays it out.
//
// A uid's epoch stake is what its account has bonded in the subnet's pool
// now. Only validators' stake enters the epoch: a miner's bond is its
// registration deposit, not a vote, and counting it would hand miners
// validator permits with empty weight rows that drag consensus down.
func runEpoch(ctx *chain.Context, s *Subnet) error {
	height := ctx.Block.Height
	neurons := Neurons(ctx.KV, s.ID)
	if len(neurons) != int(s.N) {
		return fmt.Errorf("subnet %d: %d neuron records, want %d", s.ID, len(neurons), s.N)
	}
	pool := Pool(s.ID)
	ys := &yuma.Subnet{Neurons: make([]yuma.Neuron, len(neurons)), LastEpochBlock: uint64(s.LastEpochBlock)}
	for i, n := range neurons {
		yn := yuma.Neuron{
			RegisteredAt:    uint64(n.RegisteredAt),
			LastUpdate:      uint64(n.LastUpdate),
			ValidatorPermit: n.ValidatorPermit,
			Weights:         toEntries(n.Weights),
			Bonds:           toEntries(n.Bonds),
		}
		if n.Role == RoleValidator {
			yn.Stake = chain.Bonded(ctx, n.Account, pool)
		}
		// Commits whose reveal epoch is the one ending now expire; the
		// rest mark the uid as having a pending commit (yuma's mask).
		for _, c := range Commits(ctx.KV, s.ID, n.UID) {
			if c.Epoch+s.RevealPeriod <= s.Epoch {
				ctx.KV.Delete(commitKey(s.ID, n.UID, c.Epoch))
				ctx.Emit("subnet_commit_expired", "subnet", chain.U64(s.ID), "uid", chain.U64(uint64(n.UID)), "epoch", chain.U64(c.Epoch))
				continue
			}
			if !yn.HasPendingCommit || uint64(c.Block) < yn.CommitBlock {
				yn.HasPendingCommit, yn.CommitBlock = true, uint64(c.Block)
			}
		}
		ys.Neurons[i] = yn
	}

	rec := EpochRecord{Subnet: s.ID, Epoch: s.Epoch + 1, Height: height, Emission: s.Pending, UIDs: []EpochUID{}}
	if len(neurons) > 0 {
		res, err := yuma.Epoch(ys, EpochParams(*s), uint64(height), s.Pending)
		if err != nil {
			return fmt.Errorf("subnet %d epoch %d: %w", s.ID, rec.Epoch, err)
		}
		for i := range neurons {
			n := &neurons[i]
			se, ve := res.ServerEmission[i], res.ValidatorEmission[i]
			amount, err := chain.AddU64(se, ve)
			if err != nil {
				return err
			}
			if rec.Paid, err = chain.AddU64(rec.Paid, amount); err != nil {
				return err
			}
			if rec.Paid > s.Pending {
				return fmt.Errorf("subnet %d epoch %d: yuma paid %d of an emission of %d", s.ID, rec.Epoch, rec.Paid, s.Pending)
			}
			// A miner serving an entered model pays its royalty out of
			// its server emission: minted to the model's owner and data.
			royalty, err := royaltyOf(ctx, s.ID, n, se)
			if err != nil {
				return fmt.Errorf("subnet %d epoch %d: royalty of uid %d: %w", s.ID, rec.Epoch, n.UID, err)
			}
			if amount-royalty > 0 {
				if err := chain.Mint(ctx, n.Account, amount-royalty); err != nil {
					return fmt.Errorf("subnet %d epoch %d: pay uid %d: %w", s.ID, rec.Epoch, n.UID, err)
				}
			}
			n.Royalty += royalty
			yn := ys.Neurons[i]
			n.Bonds = fromEntries(yn.Bonds)
			n.ValidatorPermit = yn.ValidatorPermit
			n.EpochStake = yn.Stake
			n.Consensus, n.Incentive, n.Dividends, n.Trust = res.Consensus[i], res.Incentive[i], res.Dividends[i], res.ValidatorTrust[i]
			n.Emission = amount
			n.Earned += amount
			n.EarnedIncentive += se
			n.EarnedDividends += ve
			putNeuron(ctx.KV, s.ID, *n)
			rec.UIDs = append(rec.UIDs, EpochUID{
				UID: n.UID, Account: n.Account, Stake: yn.Stake,
				Consensus: n.Consensus, Incentive: n.Incentive, Dividends: n.Dividends,
				ServerEmission: se, ValidatorEmission: ve,
				Trust: n.Trust, Bonds: n.Bonds, Royalty: royalty,
			})
		}
	}
	rec.Carry = s.Pending - rec.Paid
	s.Pending = rec.Carry
	s.Minted += rec.Paid
	s.Epoch = rec.Epoch
	s.LastEpochBlock = height
	s.NextEpoch = height + int64(s.Tempo)
	chain.Put(ctx.KV, epochKey(s.ID, rec.Epoch), rec)
	if rec.Epoch > EpochHistory {
		ctx.KV.Delete(epochKey(s.ID, rec.Epoch-EpochHistory))
	}
	ctx.Emit("subnet_epoch", "subnet", chain.U64(s.ID), "epoch", chain.U64(rec.Epoch),
		"emission", chain.U64(rec.Emission), "paid", chain.U64(rec.Paid), "carry", chain.U64(rec.Carry))
	return nil
}

// royaltyOf pays the royalty of miner n's server emission se to the model
// it serves and returns it (0 for a miner serving no entered model).
func royaltyOf(ctx *chain.Context, id uint64, n *Neuron, se uint64) (uint64, error) {
	if n.Model == 0 || n.Role != RoleMiner || se == 0 {
		return 0, nil
	}
	sm, err := GetServedModel(ctx.KV, id, n.Model)
	if err != nil {
		return 0, err
	}
	royalty := chain.MulDiv(se, uint64(sm.RoyaltyBps), 10_000)
	return royalty, payRoyalty(ctx, &sm, royalty)
}
