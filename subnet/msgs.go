package subnet

import (
	"crypto/sha256"
	"net/url"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/yuma"
)

// Limits on subnet messages. MaxUIDsLimit bounds the epoch's cost: Yuma is
// sparse, but every uid is read and written once per tempo.
const (
	MaxTaskLen      = 2048
	MaxEndpointLen  = 256
	MaxUIDsLimit    = 4096
	MaxTempo        = 100_000
	MaxRevealPeriod = 16
)

// Roles a registered uid can have. Miners serve the task at an endpoint and
// receive incentive; validators score miners, set weights and receive
// dividends.
const (
	RoleMiner     = "miner"
	RoleValidator = "validator"
)

// Hyperparams are a subnet's Yuma hyperparameters (yuma.Params without the
// tempo, which the subnet holds), with integer CBOR keys so that the state
// encoding is ours and does not shift when the yuma package's structs grow.
type Hyperparams struct {
	Kappa                     uint16         `json:"kappa" cbor:"1,keyasint"`
	BondsPenalty              uint16         `json:"bonds_penalty" cbor:"2,keyasint"`
	BondsMovingAverage        uint64         `json:"bonds_moving_average" cbor:"3,keyasint"`
	ActivityCutoffFactorMilli uint64         `json:"activity_cutoff_factor_milli" cbor:"4,keyasint"`
	MaxAllowedValidators      uint16         `json:"max_allowed_validators" cbor:"5,keyasint"`
	StakeThreshold            uint64         `json:"stake_threshold" cbor:"6,keyasint"`
	BondsMode                 yuma.BondsMode `json:"bonds_mode" cbor:"7,keyasint"`
	LiquidAlpha               bool           `json:"liquid_alpha" cbor:"8,keyasint"`
	AlphaLow                  uint16         `json:"alpha_low" cbor:"9,keyasint"`
	AlphaHigh                 uint16         `json:"alpha_high" cbor:"10,keyasint"`
	AlphaSigmoidSteepness     int16          `json:"alpha_sigmoid_steepness" cbor:"11,keyasint"`
	// CommitReveal makes validators commit a hash of their weights and
	// reveal them RevealPeriod epochs later; set-weights is refused.
	CommitReveal bool `json:"commit_reveal" cbor:"12,keyasint"`
}

// DefaultHyperparams are yuma.DefaultParams (Yuma 3, kappa 0.5, K = 64).
func DefaultHyperparams() Hyperparams {
	p := yuma.DefaultParams()
	return Hyperparams{
		Kappa:                     p.Kappa,
		BondsPenalty:              p.BondsPenalty,
		BondsMovingAverage:        p.BondsMovingAverage,
		ActivityCutoffFactorMilli: p.ActivityCutoffFactorMilli,
		MaxAllowedValidators:      p.MaxAllowedValidators,
		StakeThreshold:            p.StakeThreshold,
		BondsMode:                 p.BondsMode,
		LiquidAlpha:               p.LiquidAlpha,
		AlphaLow:                  p.AlphaLow,
		AlphaHigh:                 p.AlphaHigh,
		AlphaSigmoidSteepness:     p.AlphaSigmoidSteepness,
		CommitReveal:              p.CommitReveal,
	}
}

// Params is the yuma.Params of an epoch at the given tempo.
func (h Hyperparams) Params(tempo uint64) yuma.Params {
	return yuma.Params{
		Kappa:                     h.Kappa,
		BondsPenalty:              h.BondsPenalty,
		BondsMovingAverage:        h.BondsMovingAverage,
		Tempo:                     tempo,
		ActivityCutoffFactorMilli: h.ActivityCutoffFactorMilli,
		MaxAllowedValidators:      h.MaxAllowedValidators,
		StakeThreshold:            h.StakeThreshold,
		BondsMode:                 h.BondsMode,
		LiquidAlpha:               h.LiquidAlpha,
		AlphaLow:                  h.AlphaLow,
		AlphaHigh:                 h.AlphaHigh,
		AlphaSigmoidSteepness:     h.AlphaSigmoidSteepness,
		CommitReveal:              h.CommitReveal,
	}
}

// MsgCreate creates a subnet owned by the sender.
type MsgCreate struct {
	Task    string `json:"task" cbor:"1,keyasint"`    // what miners must serve, for people and agents
	Dataset string `json:"dataset" cbor:"2,keyasint"` // CID of the evaluation data set; must be registered on chain
	Tempo   uint64 `json:"tempo" cbor:"3,keyasint"`   // blocks per epoch
	// Yuma holds the hyperparameters; nil takes DefaultHyperparams.
	Yuma                 *Hyperparams `json:"yuma,omitempty" cbor:"4,keyasint,omitempty"`
	RegistrationMinStake uint64       `json:"registration_min_stake" cbor:"5,keyasint"` // utnn every uid must have bonded
	ValidatorMinStake    uint64       `json:"validator_min_stake" cbor:"6,keyasint"`    // utnn a validator must have bonded
	MaxUIDs              uint16       `json:"max_uids" cbor:"7,keyasint"`
	// RevealPeriod is how many epochs after its commit a weights commit is
	// revealed (commit-reveal only); 0 means 1.
	RevealPeriod uint64 `json:"reveal_period,omitempty" cbor:"8,keyasint,omitempty"`
}

func (*MsgCreate) Type() string { return "subnet/create" }
func (m *MsgCreate) ValidateBasic() error {
	switch {
	case m.Task == "" || len(m.Task) > MaxTaskLen:
		return chain.Wrap(chain.ErrInvalidRequest, "task must be 1 to %d characters", MaxTaskLen)
	case m.Tempo == 0 || m.Tempo > MaxTempo:
		return chain.Wrap(chain.ErrInvalidRequest, "tempo %d: must be 1 to %d blocks", m.Tempo, MaxTempo)
	case m.MaxUIDs == 0 || m.MaxUIDs > MaxUIDsLimit:
		return chain.Wrap(chain.ErrInvalidRequest, "max_uids %d: must be 1 to %d", m.MaxUIDs, MaxUIDsLimit)
	case m.RevealPeriod > MaxRevealPeriod:
		return chain.Wrap(chain.ErrInvalidRequest, "reveal_period %d: at most %d epochs", m.RevealPeriod, MaxRevealPeriod)
	case m.ValidatorMinStake < m.RegistrationMinStake:
		return chain.Wrap(chain.ErrInvalidRequest, "validator_min_stake %d is below registration_min_stake %d", m.ValidatorMinStake, m.RegistrationMinStake)
	}
	if _, err := chain.ParseBlobCID(m.Dataset); err != nil {
		return err
	}
	if m.Yuma != nil {
		if err := m.Yuma.Params(m.Tempo).Validate(); err != nil {
			return chain.Wrap(chain.ErrInvalidRequest, "yuma hyperparameters: %v", err)
		}
		if m.Yuma.MaxAllowedValidators == 0 {
			return chain.Wrap(chain.ErrInvalidRequest, "yuma hyperparameters: max_allowed_validators must be at least 1")
		}
	}
	return nil
}

// MsgRegister registers the sender in a subnet as a miner or a validator,
// bonding Stake more utnn into the subnet's stake pool first (0 when the
// account already has enough bonded there).
type MsgRegister struct {
	Subnet   uint64 `json:"subnet" cbor:"1,keyasint"`
	Role     string `json:"role" cbor:"2,keyasint"`
	Stake    uint64 `json:"stake,omitempty" cbor:"3,keyasint,omitempty"`
	Endpoint string `json:"endpoint,omitempty" cbor:"4,keyasint,omitempty"` // miners: http(s) URL of the predict API
	// Model is the entered model (its seq in the subnet) a miner serves;
	// RoyaltyBps of its server emission goes to that model's revenue.
	Model uint64 `json:"model,omitempty" cbor:"5,keyasint,omitempty"`
}

func (*MsgRegister) Type() string { return "subnet/register" }
func (m *MsgRegister) ValidateBasic() error {
	switch m.Role {
	case RoleMiner:
		return ValidateEndpoint(m.Endpoint)
	case RoleValidator:
		if m.Endpoint != "" || m.Model != 0 {
			return chain.Wrap(chain.ErrInvalidRequest, "validators register without an endpoint or a model")
		}
		return nil
	}
	return chain.Wrap(chain.ErrInvalidRequest, "role %q: want %q or %q", m.Role, RoleMiner, RoleValidator)
}

// ValidateEndpoint checks a miner endpoint: an absolute http or https URL
// with a host, at most MaxEndpointLen characters.
func ValidateEndpoint(s string) error {
	if s == "" || len(s) > MaxEndpointLen {
		return chain.Wrap(chain.ErrInvalidRequest, "a miner endpoint must be 1 to %d characters", MaxEndpointLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return chain.Wrap(chain.ErrInvalidRequest, "endpoint %q: want an http:// or https:// URL with a host", s)
	}
	return nil
}

// validateWeights checks the shape of a weight vector without state.
func validateWeights(uids, values []uint16) error {
	if len(uids) == 0 || len(uids) > MaxUIDsLimit {
		return chain.Wrap(chain.ErrInvalidRequest, "weights name %d uids: must be 1 to %d", len(uids), MaxUIDsLimit)
	}
	if len(uids) != len(values) {
		return chain.Wrap(chain.ErrInvalidRequest, "%d uids but %d values", len(uids), len(values))
	}
	seen := make([]bool, MaxUIDsLimit)
	for _, u := range uids {
		if int(u) >= MaxUIDsLimit {
			return chain.Wrap(chain.ErrInvalidRequest, "uid %d is beyond any subnet (limit %d)", u, MaxUIDsLimit)
		}
		if seen[u] {
			return chain.Wrap(chain.ErrInvalidRequest, "uid %d appears twice", u)
		}
		seen[u] = true
	}
	return nil
}

// MsgSetWeights sets the sender's weights on miners directly (subnets
// without commit-reveal).
type MsgSetWeights struct {
	Subnet uint64   `json:"subnet" cbor:"1,keyasint"`
	UIDs   []uint16 `json:"uids" cbor:"2,keyasint"`
	Values []uint16 `json:"values" cbor:"3,keyasint"`
}

func (*MsgSetWeights) Type() string           { return "subnet/set-weights" }
func (m *MsgSetWeights) ValidateBasic() error { return validateWeights(m.UIDs, m.Values) }

// MsgCommitWeights commits to weights without showing them: Hash is
// WeightsHash(subnet, uid, uids, values, salt).
type MsgCommitWeights struct {
	Subnet uint64     `json:"subnet" cbor:"1,keyasint"`
	Hash   chain.Hash `json:"hash" cbor:"2,keyasint"`
}

func (*MsgCommitWeights) Type() string { return "subnet/commit-weights" }
func (m *MsgCommitWeights) ValidateBasic() error {
	if m.Hash.IsZero() {
		return chain.Wrap(chain.ErrInvalidRequest, "commit hash is missing (all zeros)")
	}
	return nil
}

// MsgRevealWeights reveals committed weights; they must hash to one of the
// sender's commits whose reveal epoch has come.
type MsgRevealWeights struct {
	Subnet uint64     `json:"subnet" cbor:"1,keyasint"`
	UIDs   []uint16   `json:"uids" cbor:"2,keyasint"`
	Values []uint16   `json:"values" cbor:"3,keyasint"`
	Salt   chain.Hash `json:"salt" cbor:"4,keyasint"`
}

func (*MsgRevealWeights) Type() string { return "subnet/reveal-weights" }
func (m *MsgRevealWeights) ValidateBasic() error {
	if m.Salt.IsZero() {
		return chain.Wrap(chain.ErrInvalidRequest, "salt is missing (all zeros)")
	}
	return validateWeights(m.UIDs, m.Values)
}

// weightsPreimage is what a weights commit hashes, in canonical CBOR.
type weightsPreimage struct {
	Subnet uint64     `cbor:"1,keyasint"`
	UID    uint16     `cbor:"2,keyasint"`
	UIDs   []uint16   `cbor:"3,keyasint"`
	Values []uint16   `cbor:"4,keyasint"`
	Salt   chain.Hash `cbor:"5,keyasint"`
}

// WeightsHash is the commitment to weights: sha256 of the canonical CBOR of
// (subnet, uid, uids, values, salt). The uid binds the commit to its
// validator, so a copier cannot replay another validator's commit.
func WeightsHash(subnet uint64, uid uint16, uids, values []uint16, salt chain.Hash) chain.Hash {
	return sha256.Sum256(chain.Marshal(weightsPreimage{Subnet: subnet, UID: uid, UIDs: uids, Values: values, Salt: salt}))
}

// MsgEnterModel enters a verified model into a subnet: miners may then
// register serving it, and RoyaltyBps of their server emission flows back
// to the model (DataBps of that to the data it was trained on, by the
// shares its dataset versions declared; the rest to the sender). The
// sender owns the model or ordered the compute job it came out of.
type MsgEnterModel struct {
	Subnet     uint64 `json:"subnet" cbor:"1,keyasint"`
	Model      uint64 `json:"model" cbor:"2,keyasint"`
	Claim      uint64 `json:"claim" cbor:"3,keyasint"` // a verified claim's seq
	RoyaltyBps uint32 `json:"royalty_bps" cbor:"4,keyasint"`
	DataBps    uint32 `json:"data_bps" cbor:"5,keyasint"`
}

func (*MsgEnterModel) Type() string { return "subnet/enter-model" }
func (m *MsgEnterModel) ValidateBasic() error {
	return Entry{Model: m.Model, Claim: m.Claim, RoyaltyBps: m.RoyaltyBps, DataBps: m.DataBps}.validate()
}
