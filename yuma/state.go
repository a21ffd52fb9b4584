package yuma

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// BondsMode selects the bond algorithm (subtensor's Yuma3On switch).
type BondsMode uint8

const (
	// ModeYuma3 keeps bonds as absolute values in [0, 1] with an EMA per
	// bond (optionally liquid alpha). It is the zero value because Yuma 3
	// is the default for new subnets (subtensor PR #2535).
	ModeYuma3 BondsMode = iota
	// ModeOriginal is the original Yuma ("Yuma 2"): column-normalised bonds
	// stored max-upscaled; liquid alpha is ignored.
	ModeOriginal
)

func (m BondsMode) String() string {
	switch m {
	case ModeYuma3:
		return "yuma3"
	case ModeOriginal:
		return "original"
	}
	return fmt.Sprintf("BondsMode(%d)", uint8(m))
}

// MarshalText encodes the mode as "yuma3" or "original".
func (m BondsMode) MarshalText() ([]byte, error) {
	if m > ModeOriginal {
		return nil, fmt.Errorf("yuma: unknown bonds mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText accepts "yuma3" or "original" (also "yuma2").
func (m *BondsMode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "yuma3":
		*m = ModeYuma3
	case "original", "yuma2":
		*m = ModeOriginal
	default:
		return fmt.Errorf("yuma: unknown bonds mode %q (want yuma3 or original)", string(b))
	}
	return nil
}

// Params are a subnet's epoch hyperparameters, named as in subtensor
// (SPEC §1.2). u16 proportions are fractions of 65535.
type Params struct {
	// Kappa is the consensus majority ratio, kappa/65535 (default 32767).
	Kappa uint16 `json:"kappa"`
	// BondsPenalty β = bp/65535 interpolates bond weights between W (0) and
	// the clipped W̄ (65535, the default).
	BondsPenalty uint16 `json:"bonds_penalty"`
	// BondsMovingAverage is the EMA weight of the OLD bond in millionths
	// (default 900_000, so the new observation weighs 0.1).
	BondsMovingAverage uint64 `json:"bonds_moving_average"`
	// Tempo is the number of blocks per epoch (default 360).
	Tempo uint64 `json:"tempo"`
	// ActivityCutoffFactorMilli gives cutoff = max(1, floor(f·tempo/1000))
	// blocks (default 13_889, i.e. 5000 blocks at tempo 360).
	ActivityCutoffFactorMilli uint64 `json:"activity_cutoff_factor_milli"`
	// MaxAllowedValidators is K, the number of top-stake permits (64 for a
	// new subnet).
	MaxAllowedValidators uint16 `json:"max_allowed_validators"`
	// StakeThreshold zeroes any stake below it (the owner is exempt).
	StakeThreshold uint64 `json:"stake_threshold"`
	// BondsMode chooses Yuma 3 (default) or the original bonds.
	BondsMode BondsMode `json:"bonds_mode"`
	// LiquidAlpha enables the per-bond sigmoid alpha (Yuma 3 only).
	LiquidAlpha bool `json:"liquid_alpha"`
	// AlphaLow and AlphaHigh bound liquid alpha, as u16 proportions
	// (defaults 45875 and 58982, about 0.7 and 0.9).
	AlphaLow  uint16 `json:"alpha_low"`
	AlphaHigh uint16 `json:"alpha_high"`
	// AlphaSigmoidSteepness is the liquid-alpha slope (default 1000).
	AlphaSigmoidSteepness int16 `json:"alpha_sigmoid_steepness"`
	// CommitReveal enables the commit-reveal column mask (SPEC §2.5).
	CommitReveal bool `json:"commit_reveal"`
}

// DefaultParams are the hyperparameters of a new subnet: subtensor's runtime
// defaults plus init_new_network's K = 64 and Yuma 3 on.
func DefaultParams() Params {
	return Params{
		Kappa:                     32767,
		BondsPenalty:              65535,
		BondsMovingAverage:        900_000,
		Tempo:                     360,
		ActivityCutoffFactorMilli: 13_889,
		MaxAllowedValidators:      64,
		StakeThreshold:            0,
		BondsMode:                 ModeYuma3,
		LiquidAlpha:               false,
		AlphaLow:                  45875,
		AlphaHigh:                 58982,
		AlphaSigmoidSteepness:     1000,
		CommitReveal:              false,
	}
}

// ActivityCutoff returns max(1, floor(factor·tempo/1000)) in blocks.
func (p Params) ActivityCutoff() uint64 {
	hi, lo := mul64(p.ActivityCutoffFactorMilli, p.Tempo)
	if hi != 0 {
		return 1<<64 - 1
	}
	c := lo / 1000
	if c < 1 {
		return 1
	}
	return c
}

// Validate rejects parameter sets the epoch cannot interpret.
func (p Params) Validate() error {
	if p.BondsMode > ModeOriginal {
		return fmt.Errorf("unknown bonds mode %d", uint8(p.BondsMode))
	}
	if p.LiquidAlpha && p.AlphaLow > p.AlphaHigh {
		return fmt.Errorf("alpha_low %d exceeds alpha_high %d", p.AlphaLow, p.AlphaHigh)
	}
	if p.BondsMovingAverage > 1_000_000 {
		return fmt.Errorf("bonds_moving_average %d exceeds 1_000_000", p.BondsMovingAverage)
	}
	return nil
}

// Entry is one sparse matrix element: a target uid and a u16 value. It
// encodes in JSON as the pair [uid, value].
type Entry struct {
	UID   uint16
	Value uint16
}

// MarshalJSON encodes the entry as [uid, value].
func (e Entry) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("[%d,%d]", e.UID, e.Value)), nil
}

// UnmarshalJSON decodes [uid, value].
func (e *Entry) UnmarshalJSON(b []byte) error {
	var pair [2]uint16
	if err := json.Unmarshal(b, &pair); err != nil {
		return fmt.Errorf("yuma: entry must be [uid, value]: %w", err)
	}
	e.UID, e.Value = pair[0], pair[1]
	return nil
}

// Neuron is the per-uid state the epoch reads and writes. The uid is the
// index in Subnet.Neurons.
type Neuron struct {
	// Stake is the epoch stake (alpha + tao_weight·root stake, after
	// child/parent delegation), computed by the caller.
	Stake uint64 `json:"stake"`
	// RegisteredAt is the block of the most recent registration at this uid.
	RegisteredAt uint64 `json:"registered_at"`
	// LastUpdate is the block of the last accepted set_weights (commit block
	// under commit-reveal); registration sets it too.
	LastUpdate uint64 `json:"last_update"`
	// ValidatorPermit is the permit stored by the previous epoch.
	ValidatorPermit bool `json:"validator_permit"`
	// Weights is this uid's row, sorted by uid without duplicates, values
	// max-upscaled at set time (use Subnet.SetWeights).
	Weights []Entry `json:"weights,omitempty"`
	// Bonds is this uid's bond row as the previous epoch stored it, sorted
	// by uid, positive values only.
	Bonds []Entry `json:"bonds,omitempty"`
	// HasPendingCommit and CommitBlock describe commit-reveal: CommitBlock is
	// the earliest block of this uid's unexpired commits.
	HasPendingCommit bool   `json:"has_pending_commit,omitempty"`
	CommitBlock      uint64 `json:"commit_block,omitempty"`
}

// Subnet is the epoch state of one subnet (one mechanism). It is plain data
// so the chain can store it as is.
type Subnet struct {
	Neurons []Neuron `json:"neurons"`
	// HasOwner and OwnerUID name the subnet owner's uid, which keeps its
	// permit and self-weight and is exempt from StakeThreshold.
	HasOwner bool   `json:"has_owner,omitempty"`
	OwnerUID uint16 `json:"owner_uid,omitempty"`
	// LastEpochBlock is subtensor's LastMechansimStepBlock: the block of the
	// last scheduled epoch, or 0. Epoch does not set it; the scheduler that
	// calls Epoch does (a directly called epoch leaves it alone, as in the
	// subtensor tests).
	LastEpochBlock uint64 `json:"last_epoch_block,omitempty"`
}

// MaxNeurons is the largest subnet size: uids are u16.
const MaxNeurons = 1 << 16

// Validate checks the invariants the epoch relies on: uids in range, rows
// sorted by uid without duplicates, owner in range.
func (s *Subnet) Validate() error {
	n := len(s.Neurons)
	if n > MaxNeurons {
		return fmt.Errorf("subnet has %d neurons, more than %d", n, MaxNeurons)
	}
	if s.HasOwner && int(s.OwnerUID) >= n {
		return fmt.Errorf("owner uid %d out of range (n=%d)", s.OwnerUID, n)
	}
	for i := range s.Neurons {
		if err := checkRow(s.Neurons[i].Weights, n); err != nil {
			return fmt.Errorf("weights of uid %d: %w", i, err)
		}
		// The epoch sums a row's raw u16 values in I32F32, whose integer
		// part stops at 2^31 − 1; subtensor would wrap or panic there.
		var rowSum uint64
		for _, e := range s.Neurons[i].Weights {
			rowSum += uint64(e.Value)
		}
		if rowSum > 1<<31-1 {
			return fmt.Errorf("weights of uid %d: row sum %d overflows I32F32", i, rowSum)
		}
		if err := checkRow(s.Neurons[i].Bonds, n); err != nil {
			return fmt.Errorf("bonds of uid %d: %w", i, err)
		}
	}
	return nil
}

func checkRow(row []Entry, n int) error {
	for k, e := range row {
		if int(e.UID) >= n {
			return fmt.Errorf("uid %d out of range (n=%d)", e.UID, n)
		}
		if k > 0 && row[k-1].UID >= e.UID {
			return fmt.Errorf("entries not strictly ascending at uid %d", e.UID)
		}
	}
	return nil
}

// ErrUnknownUID is returned for a uid outside the subnet.
var ErrUnknownUID = errors.New("yuma: unknown uid")

// SetWeights stores uid's weights as set_weights does (SPEC §2.0): the values
// are max-upscaled to u16 (zeros kept) and LastUpdate becomes block. Unlike
// subtensor the row is stored sorted by target uid; the epoch needs sorted
// rows and sums are order independent, so only liquid alpha's merge (which
// assumes sorted rows, SPEC §3 item 7) could tell the difference.
// Subtensor's admission rules (min weights, max weight limit, rate limit,
// version key) belong to the caller.
func (s *Subnet) SetWeights(uid uint16, uids []uint16, values []uint16, block uint64) error {
	n := len(s.Neurons)
	if int(uid) >= n {
		return fmt.Errorf("set weights of uid %d (n=%d): %w", uid, n, ErrUnknownUID)
	}
	if len(uids) != len(values) {
		return fmt.Errorf("set weights of uid %d: %d uids but %d values", uid, len(uids), len(values))
	}
	up := MaxUpscaleU16(values)
	row := make([]Entry, len(uids))
	for k, j := range uids {
		if int(j) >= n {
			return fmt.Errorf("set weights of uid %d: target %d: %w", uid, j, ErrUnknownUID)
		}
		row[k] = Entry{UID: j, Value: up[k]}
	}
	sort.SliceStable(row, func(a, b int) bool { return row[a].UID < row[b].UID })
	for k := 1; k < len(row); k++ {
		if row[k].UID == row[k-1].UID {
			return fmt.Errorf("set weights of uid %d: duplicate target %d", uid, row[k].UID)
		}
	}
	s.Neurons[uid].Weights = row
	s.Neurons[uid].LastUpdate = block
	return nil
}

// Register puts a fresh registration at uid at block, following subtensor's
// replace_neuron (SPEC §2.9): the uid's own weight and bond rows are
// deleted, every other row's weight ON the uid is set to 0 (the entry is
// kept), RegisteredAt and LastUpdate become block and the permit is cleared.
// uid == len(Neurons) appends a neuron.
func (s *Subnet) Register(uid uint16, stake uint64, block uint64) error {
	n := len(s.Neurons)
	switch {
	case int(uid) == n:
		if n >= MaxNeurons {
			return fmt.Errorf("register uid %d: subnet full", uid)
		}
		s.Neurons = append(s.Neurons, Neuron{})
	case int(uid) > n:
		return fmt.Errorf("register uid %d (n=%d): uids must be contiguous: %w", uid, n, ErrUnknownUID)
	}
	s.Neurons[uid] = Neuron{Stake: stake, RegisteredAt: block, LastUpdate: block}
	for i := range s.Neurons {
		if i == int(uid) {
			continue
		}
		row := s.Neurons[i].Weights
		k := sort.Search(len(row), func(k int) bool { return row[k].UID >= uid })
		if k < len(row) && row[k].UID == uid {
			row[k].Value = 0
		}
	}
	return nil
}

// SetStake sets a uid's epoch stake.
func (s *Subnet) SetStake(uid uint16, stake uint64) error {
	if int(uid) >= len(s.Neurons) {
		return fmt.Errorf("set stake of uid %d: %w", uid, ErrUnknownUID)
	}
	s.Neurons[uid].Stake = stake
	return nil
}

// Clone returns a deep copy (rows included).
func (s *Subnet) Clone() *Subnet {
	c := *s
	c.Neurons = make([]Neuron, len(s.Neurons))
	for i, nr := range s.Neurons {
		nr.Weights = append([]Entry(nil), nr.Weights...)
		nr.Bonds = append([]Entry(nil), nr.Bonds...)
		c.Neurons[i] = nr
	}
	return &c
}

// MaxUpscaleU16 is subtensor's vec_u16_max_upscale_to_u16, applied by
// set_weights: with m = max(values), values stay as they are when m = 0,
// become round(v·(65535/m)) when m > 32768, and round(v·65535/m) otherwise
// (I32F32 arithmetic, round half away from zero).
func MaxUpscaleU16(values []uint16) []uint16 {
	out := make([]uint16, len(values))
	var m uint16
	for _, v := range values {
		if v > m {
			m = v
		}
	}
	if m == 0 {
		copy(out, values)
		return out
	}
	mf := FromU16(m)
	if m > 32768 {
		ratio := u16Max32.SafeDiv(mf)
		for k, v := range values {
			out[k] = FromU16(v).SatMul(ratio).Round().SatToU16()
		}
		return out
	}
	for k, v := range values {
		out[k] = FromU16(v).SatMul(u16Max32).SafeDiv(mf).Round().SatToU16()
	}
	return out
}
