package yuma

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// A Scenario is a replayable epoch history: hyperparameters, the initial
// neurons, then steps applied in order. The format is documented in
// README.md; the spec's test vectors live in testdata/ in this form, with
// their expected outputs in each epoch step's "expect" block.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Source      string `json:"source,omitempty"`
	// Params overrides DefaultParams field by field.
	Params Params `json:"params"`
	// Emission is the default E of epoch steps (1_000_000_000 if omitted).
	Emission uint64 `json:"emission,omitempty"`
	// Owner is the subnet owner's uid, if any.
	Owner   *uint16          `json:"owner,omitempty"`
	Neurons []ScenarioNeuron `json:"neurons"`
	Steps   []Step           `json:"steps"`
}

// ScenarioNeuron is a neuron's initial state; uid = position. LastUpdate
// defaults to RegisteredAt, as registration sets both.
type ScenarioNeuron struct {
	Stake           uint64  `json:"stake"`
	RegisteredAt    uint64  `json:"registered_at"`
	LastUpdate      *uint64 `json:"last_update,omitempty"`
	ValidatorPermit bool    `json:"validator_permit,omitempty"`
	Weights         []Entry `json:"weights,omitempty"`
	Bonds           []Entry `json:"bonds,omitempty"`
}

// Step is one action at a block. Exactly one action field must be set.
// Blocks must not decrease from step to step.
type Step struct {
	Block      uint64          `json:"block"`
	Note       string          `json:"note,omitempty"`
	SetWeights *SetWeightsStep `json:"set_weights,omitempty"`
	Register   *RegisterStep   `json:"register,omitempty"`
	SetStake   *SetStakeStep   `json:"set_stake,omitempty"`
	Epoch      *EpochStep      `json:"epoch,omitempty"`
}

// SetWeightsStep is set_weights by UID (values are max-upscaled).
type SetWeightsStep struct {
	UID    uint16   `json:"uid"`
	UIDs   []uint16 `json:"uids"`
	Values []uint16 `json:"values"`
}

// RegisterStep registers a new hotkey at UID (replacing the old one, or
// appending when UID equals the subnet size).
type RegisterStep struct {
	UID   uint16 `json:"uid"`
	Stake uint64 `json:"stake"`
}

// SetStakeStep changes a uid's stake.
type SetStakeStep struct {
	UID   uint16 `json:"uid"`
	Stake uint64 `json:"stake"`
}

// EpochStep runs the epoch and optionally checks its outputs.
type EpochStep struct {
	Emission *uint64 `json:"emission,omitempty"`
	Expect   *Expect `json:"expect,omitempty"`
}

// Span is an expected slice of a per-uid vector starting at uid From.
type Span[T any] struct {
	From   int `json:"from"`
	Values []T `json:"values"`
}

// BondColumn expects bonds[From+k][Col] = Values[k] (0 = no bond).
type BondColumn struct {
	Col    uint16   `json:"col"`
	From   int      `json:"from"`
	Values []uint16 `json:"values"`
}

// FixedSpan expects an I32F32 intermediate (Vector is one of stake,
// active_stake, consensus, incentive, dividends, validator_trust), either as
// raw bits or as decimals printed the way subtensor's traces print them.
type FixedSpan struct {
	Vector  string   `json:"vector"`
	From    int      `json:"from"`
	Bits    []int64  `json:"bits,omitempty"`
	Decimal []string `json:"decimal,omitempty"`
}

// Expect lists the outputs an epoch step must reproduce exactly. Every field
// is optional.
type Expect struct {
	StakeWeight       *Span[uint16] `json:"stake_weight,omitempty"`
	Consensus         *Span[uint16] `json:"consensus,omitempty"`
	Incentive         *Span[uint16] `json:"incentive,omitempty"`
	Dividends         *Span[uint16] `json:"dividends,omitempty"`
	ValidatorTrust    *Span[uint16] `json:"validator_trust,omitempty"`
	Emission          *Span[uint64] `json:"emission,omitempty"`
	ServerEmission    *Span[uint64] `json:"server_emission,omitempty"`
	ValidatorEmission *Span[uint64] `json:"validator_emission,omitempty"`
	ValidatorPermit   *Span[bool]   `json:"validator_permit,omitempty"`
	Active            *Span[bool]   `json:"active,omitempty"`
	Bonds             []BondColumn  `json:"bonds,omitempty"`
	Fixed             []FixedSpan   `json:"fixed,omitempty"`
}

// EpochReport is the outcome of one epoch step.
type EpochReport struct {
	Step       int      `json:"step"`
	Note       string   `json:"note,omitempty"`
	Result     Result   `json:"result"`
	Checked    int      `json:"checked"`
	Mismatches []string `json:"mismatches,omitempty"`
}

// LoadScenario reads and decodes a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("yuma: read scenario: %w", err)
	}
	sc, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("yuma: scenario %s: %w", path, err)
	}
	return sc, nil
}

// ParseScenario decodes a scenario; unknown fields are errors so that a
// misspelt expectation cannot pass silently.
func ParseScenario(data []byte) (*Scenario, error) {
	sc := &Scenario{Params: DefaultParams()}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(sc); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if sc.Emission == 0 {
		sc.Emission = 1_000_000_000
	}
	return sc, nil
}

// Subnet builds the initial state.
func (sc *Scenario) Subnet() (*Subnet, error) {
	s := &Subnet{Neurons: make([]Neuron, len(sc.Neurons))}
	for i, n := range sc.Neurons {
		lu := n.RegisteredAt
		if n.LastUpdate != nil {
			lu = *n.LastUpdate
		}
		s.Neurons[i] = Neuron{
			Stake:           n.Stake,
			RegisteredAt:    n.RegisteredAt,
			LastUpdate:      lu,
			ValidatorPermit: n.ValidatorPermit,
			Weights:         n.Weights,
			Bonds:           n.Bonds,
		}
	}
	if sc.Owner != nil {
		s.HasOwner, s.OwnerUID = true, *sc.Owner
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("initial state: %w", err)
	}
	return s, nil
}

// Run replays the scenario and returns one report per epoch step. An error
// means the scenario itself is malformed; output mismatches are reported in
// the reports, not as an error.
func (sc *Scenario) Run() ([]EpochReport, error) {
	s, err := sc.Subnet()
	if err != nil {
		return nil, err
	}
	var reports []EpochReport
	var last uint64
	for k, st := range sc.Steps {
		if st.Block < last {
			return nil, fmt.Errorf("step %d: block %d before previous step's block %d", k, st.Block, last)
		}
		last = st.Block
		actions := 0
		for _, set := range []bool{st.SetWeights != nil, st.Register != nil, st.SetStake != nil, st.Epoch != nil} {
			if set {
				actions++
			}
		}
		if actions != 1 {
			return nil, fmt.Errorf("step %d: want exactly one action, got %d", k, actions)
		}
		switch {
		case st.SetWeights != nil:
			w := st.SetWeights
			if err := s.SetWeights(w.UID, w.UIDs, w.Values, st.Block); err != nil {
				return nil, fmt.Errorf("step %d: %w", k, err)
			}
		case st.Register != nil:
			if err := s.Register(st.Register.UID, st.Register.Stake, st.Block); err != nil {
				return nil, fmt.Errorf("step %d: %w", k, err)
			}
		case st.SetStake != nil:
			if err := s.SetStake(st.SetStake.UID, st.SetStake.Stake); err != nil {
				return nil, fmt.Errorf("step %d: %w", k, err)
			}
		case st.Epoch != nil:
			e := sc.Emission
			if st.Epoch.Emission != nil {
				e = *st.Epoch.Emission
			}
			res, err := Epoch(s, sc.Params, st.Block, e)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", k, err)
			}
			rep := EpochReport{Step: k, Note: st.Note, Result: res}
			if st.Epoch.Expect != nil {
				c := checker{prefix: fmt.Sprintf("step %d (epoch at block %d)", k, st.Block)}
				c.check(st.Epoch.Expect, &res)
				rep.Checked, rep.Mismatches = c.checked, c.mismatches
			}
			reports = append(reports, rep)
		}
	}
	return reports, nil
}

type checker struct {
	prefix     string
	checked    int
	mismatches []string
}

func (c *checker) failf(format string, args ...any) {
	c.mismatches = append(c.mismatches, c.prefix+": "+fmt.Sprintf(format, args...))
}

func checkSpan[T comparable](c *checker, name string, want *Span[T], got []T) {
	if want == nil {
		return
	}
	for k, v := range want.Values {
		uid := want.From + k
		c.checked++
		if uid < 0 || uid >= len(got) {
			c.failf("%s[%d]: uid out of range", name, uid)
			continue
		}
		if got[uid] != v {
			c.failf("%s[%d] = %v, want %v", name, uid, got[uid], v)
		}
	}
}

func (c *checker) check(e *Expect, r *Result) {
	checkSpan(c, "stake_weight", e.StakeWeight, r.StakeWeight)
	checkSpan(c, "consensus", e.Consensus, r.Consensus)
	checkSpan(c, "incentive", e.Incentive, r.Incentive)
	checkSpan(c, "dividends", e.Dividends, r.Dividends)
	checkSpan(c, "validator_trust", e.ValidatorTrust, r.ValidatorTrust)
	checkSpan(c, "emission", e.Emission, r.Emission)
	checkSpan(c, "server_emission", e.ServerEmission, r.ServerEmission)
	checkSpan(c, "validator_emission", e.ValidatorEmission, r.ValidatorEmission)
	checkSpan(c, "validator_permit", e.ValidatorPermit, r.ValidatorPermit)
	checkSpan(c, "active", e.Active, r.Active)
	for _, bc := range e.Bonds {
		for k, v := range bc.Values {
			i := bc.From + k
			c.checked++
			if i < 0 || i >= len(r.Bonds) {
				c.failf("bonds[%d][%d]: uid out of range", i, bc.Col)
				continue
			}
			if got := bondAt(r.Bonds[i], bc.Col); got != v {
				c.failf("bonds[%d][%d] = %d, want %d", i, bc.Col, got, v)
			}
		}
	}
	for _, f := range e.Fixed {
		vec, ok := r.Fixed.byName(f.Vector)
		if !ok {
			c.failf("fixed: unknown vector %q", f.Vector)
			continue
		}
		for k, b := range f.Bits {
			i := f.From + k
			c.checked++
			if i < 0 || i >= len(vec) {
				c.failf("%s[%d]: uid out of range", f.Vector, i)
			} else if vec[i].Bits() != b {
				c.failf("%s[%d] bits = %d, want %d", f.Vector, i, vec[i].Bits(), b)
			}
		}
		for k, d := range f.Decimal {
			i := f.From + k
			c.checked++
			if i < 0 || i >= len(vec) {
				c.failf("%s[%d]: uid out of range", f.Vector, i)
			} else if vec[i].String() != d {
				c.failf("%s[%d] = %s, want %s", f.Vector, i, vec[i], d)
			}
		}
	}
}

func bondAt(row []Entry, col uint16) uint16 {
	for _, e := range row {
		if e.UID == col {
			return e.Value
		}
	}
	return 0
}

func (f *FixedVectors) byName(name string) ([]I32F32, bool) {
	switch name {
	case "stake":
		return f.Stake, true
	case "active_stake":
		return f.ActiveStake, true
	case "consensus":
		return f.Consensus, true
	case "incentive":
		return f.Incentive, true
	case "dividends":
		return f.Dividends, true
	case "validator_trust":
		return f.ValidatorTrust, true
	}
	return nil, false
}
