package compute

import (
	"encoding/json"
	"fmt"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Pool is the stake pool that backs compute providers.
const Pool = "compute"

// SpotPool is the protocol account that funds spot checks. Stake slashed for
// wrong results and abandoned jobs flows into it (anyone may also send to it),
// so cheaters pay for the checks that catch cheaters.
var SpotPool = chain.ModuleAddress("compute/spotcheck")

// Fixed limits of the market. They bound state size and the work one
// message can cause; the tunable economics are in Params.
const (
	// MaxModuleBytes is the largest module a job may name. The sandbox
	// itself accepts up to 64 MiB; the market keeps modules smaller because
	// every provider (and every referee) downloads and compiles them.
	MaxModuleBytes = 16 << 20
	MaxInputs      = 16
	MaxInputBytes  = 256 << 20 // all inputs of a job together
	MaxInputName   = 128
	MaxArgs        = 64
	MaxArgLen      = 1024
	MaxRedundancy  = 5
	MaxJobMemory   = 4 << 30 // a 32-bit linear memory
	MaxJobFuel     = 1 << 50 // loop iterations; far above any sane job
	MaxWallSeconds = 24 * 3600
	MaxOutputBytes = 64 << 20
	MaxGPUModelLen = 64

	// FuelPerUnit is one unit of work: a provider's price is per unit, and a
	// job costs ceil(Fuel / FuelPerUnit) units per result.
	FuelPerUnit = 1_000_000

	MinTimeout         = 3 // blocks an assignee has to commit, and to reveal
	MaxTimeout         = 100_000
	MinChallengeBlocks = 3
	MaxChallengeBlocks = 100_000
	MaxDeadlineBlocks  = 1_000_000

	// RefereeCount providers re-run a challenged result.
	RefereeCount = 3
	// TieBreakers is how many extra providers a round may bring in when
	// the results tie; the budget reserves their pay.
	TieBreakers = 2
	// MaxAssignments bounds a job's assignment list (reassignments included).
	MaxAssignments = 24
	// verifiedRing is how many recently verified jobs spot checks sample from.
	verifiedRing = 256
	// maxMatchBackoffShift caps the matching retry interval of a job no
	// provider can take at 1<<3 = 8 blocks.
	maxMatchBackoffShift = 3
	// maxDuePerBlock bounds the jobs one end-block step looks at; the rest
	// stay due and come first in the next block.
	maxDuePerBlock = 1000
)

// Params are the market's tunable rules, set in genesis (domains.compute);
// absent fields take DefaultParams.
type Params struct {
	MinStake            uint64 `json:"min_stake" cbor:"1,keyasint"`              // utnn bonded in Pool to be matched
	LivenessBlocks      int64  `json:"liveness_blocks" cbor:"2,keyasint"`        // a provider silent for longer is not matched
	WrongResultSlashBps uint64 `json:"wrong_result_slash_bps" cbor:"3,keyasint"` // of bonded stake, per wrong result
	AbandonSlashBps     uint64 `json:"abandon_slash_bps" cbor:"4,keyasint"`      // of bonded stake, per job taken and dropped
	MinChallengeBond    uint64 `json:"min_challenge_bond" cbor:"5,keyasint"`
	SpotCheckPerMille   uint64 `json:"spot_check_per_mille" cbor:"6,keyasint"` // chance that a settled job triggers a spot check
	MaxOpenSpotChecks   uint64 `json:"max_open_spot_checks" cbor:"7,keyasint"`
	ReputationFloorBps  uint64 `json:"reputation_floor_bps" cbor:"8,keyasint"` // providers below it are not matched
}

// DefaultParams are the devnet rules.
func DefaultParams() Params {
	return Params{
		MinStake:            1_000_000,
		LivenessBlocks:      200,
		WrongResultSlashBps: 2000,
		AbandonSlashBps:     500,
		MinChallengeBond:    100_000,
		SpotCheckPerMille:   50,
		MaxOpenSpotChecks:   2,
		ReputationFloorBps:  2000,
	}
}

func (p Params) validate() error {
	switch {
	case p.MinStake == 0:
		return fmt.Errorf("min_stake must be positive")
	case p.LivenessBlocks <= 0:
		return fmt.Errorf("liveness_blocks must be positive")
	case p.WrongResultSlashBps > 10_000 || p.AbandonSlashBps > 10_000 || p.ReputationFloorBps > 10_000:
		return fmt.Errorf("basis points must be at most 10000")
	case p.SpotCheckPerMille > 1000:
		return fmt.Errorf("spot_check_per_mille must be at most 1000")
	}
	return nil
}

var keyParams = []byte("compute/params")

// LoadParams reads the market's rules (DefaultParams when genesis set none).
func LoadParams(kv store.KV) Params {
	var p Params
	if !chain.Get(kv, keyParams, &p) {
		return DefaultParams()
	}
	return p
}

// InitGenesis reads the optional "compute" section of genesis: Params as
// JSON, with missing fields defaulted.
func (Domain) InitGenesis(ctx *chain.Context, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	p := DefaultParams()
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("compute genesis: %w", err)
	}
	if err := p.validate(); err != nil {
		return fmt.Errorf("compute genesis: %w", err)
	}
	chain.Put(ctx.KV, keyParams, p)
	return nil
}
