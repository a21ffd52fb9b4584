package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/ceremony"
	"github.com/tenun-chain/tenun/zkml/circuit"
)

// Setup ceremonies on chain (zkml/ceremony): a transaction opens one for a
// circuit spec; the chain compiles the spec's circuit itself and keeps the
// transcript head in state; every contribution is a transaction that the
// handler verifies against that head before accepting it; at the end of the
// first block past a phase's deadline with a quorum of distinct contributors
// the chain seals the phase with the block seed as beacon. Sealing phase 2
// derives the verifying key from the transcript and registers the circuit
// (Circuit.Ceremony): nobody uploads a key. One honest contributor per phase
// makes the key sound.
//
// State, under "zkml/":
//
//	zkml/ceremony/<id be8>     Ceremony
//	zkml/ceremonyseq           last ceremony id
//	zkml/cstate/<id be8>       the transcript head (current phase's state)
//	zkml/ccommons/<id be8>     sealed phase-1 parameters (from phase 2 on)
//	zkml/cevals/<id be8>       the circuit's phase-2 evaluations (from phase 2 on)
//	zkml/copen/<id be8>        index of ceremonies not sealed yet
//	zkml/sealedspec/<sha256>   ceremony id of the first sealed circuit of a spec

// Ceremony phases.
const (
	PhaseOne    = 1
	PhaseTwo    = 2
	PhaseSealed = 3
	PhaseFailed = 4
)

// Trust notes shown with circuits and claims.
const (
	TrustSingleParty = "single-party setup: devnets only, whoever ran it can forge proofs"
	TrustCeremony    = "multi-party ceremony"
)

// ceremonyGnark is recorded as the Gnark of circuits sealed on chain: a
// constant, because state must not depend on the binary replaying the block.
const ceremonyGnark = "gnark mpcsetup, on chain"

// Ceremony bounds and fees.
const (
	MaxQuorum      = 64
	MaxPhaseBlocks = 1 << 20
	// MaxCeremonyWeights and MaxCeremonyRows bound the spec before the
	// chain compiles its circuit; the compiled circuit must then fit
	// ceremony.MaxDomain (a contribution fits one transaction).
	MaxCeremonyWeights = 1 << 12
	MaxCeremonyRows    = 64
	// MaxCeremonyConvTaps bounds a CNN spec's kernel taps times its rows
	// (each tap is about one constraint, see MaxConvTaps).
	MaxCeremonyConvTaps = 1 << 12
	// MaxContributionBytes is the largest contribution (phase-1 state of
	// ceremony.MaxDomain, with room to spare under the 1 MiB transaction).
	MaxContributionBytes = 1000 << 10
	// CeremonyOpenFee pays for compiling the circuit and building the
	// starting state (tens of ms for the specs allowed).
	CeremonyOpenFee = 20_000
	// ContributionFee plus ContributionFeePerKiB pay for decoding a
	// contribution with subgroup checks and the same-ratio pairings
	// (~1 ms per KiB of points), and for keeping the head in state.
	ContributionFee       = 5_000
	ContributionFeePerKiB = 40
)

// Contribution records one accepted contribution.
type Contribution struct {
	Contributor chain.Address `json:"contributor" cbor:"1,keyasint"`
	Digest      Hash          `json:"digest" cbor:"2,keyasint"` // sha256 of the state it produced
	Height      int64         `json:"height" cbor:"3,keyasint"`
}

// Ceremony is a setup ceremony for one circuit spec.
type Ceremony struct {
	ID          uint64         `json:"id" cbor:"1,keyasint"`
	Spec        Spec           `json:"spec" cbor:"2,keyasint"`
	Opener      chain.Address  `json:"opener" cbor:"3,keyasint"`
	Domain      uint64         `json:"domain" cbor:"4,keyasint"`
	Constraints uint32         `json:"constraints" cbor:"5,keyasint"`
	Quorum      uint32         `json:"quorum" cbor:"6,keyasint"`
	PhaseBlocks uint32         `json:"phase_blocks" cbor:"7,keyasint"`
	Phase       uint32         `json:"phase" cbor:"8,keyasint"`
	Deadline    int64          `json:"deadline" cbor:"9,keyasint"` // the current phase closes at the end of this height or later, with a quorum
	Phase1      []Contribution `json:"phase1" cbor:"10,keyasint"`
	Phase2      []Contribution `json:"phase2" cbor:"11,keyasint"`
	Beacon1     Hash           `json:"beacon1,omitempty" cbor:"12,keyasint,omitempty"`
	Beacon2     Hash           `json:"beacon2,omitempty" cbor:"13,keyasint,omitempty"`
	Circuit     Hash           `json:"circuit,omitempty" cbor:"14,keyasint,omitempty"`
	Opened      int64          `json:"opened" cbor:"15,keyasint"`
	Sealed      int64          `json:"sealed,omitempty" cbor:"16,keyasint,omitempty"`
	Failure     string         `json:"failure,omitempty" cbor:"17,keyasint,omitempty"`
}

// Contributors is the list of the current phase's contributions.
func (c *Ceremony) current() *[]Contribution {
	if c.Phase == PhaseOne {
		return &c.Phase1
	}
	return &c.Phase2
}

var (
	prefixCeremony   = []byte("zkml/ceremony/")
	prefixCState     = []byte("zkml/cstate/")
	prefixCCommons   = []byte("zkml/ccommons/")
	prefixCOpen      = []byte("zkml/copen/")
	prefixCEvals     = []byte("zkml/cevals/")
	prefixSealedSpec = []byte("zkml/sealedspec/")
	keyCeremonySeq   = []byte("zkml/ceremonyseq")
)

func ceremonyKey(id uint64) []byte { return chain.Key(prefixCeremony, chain.Uint64Bytes(id)) }
func cstateKey(id uint64) []byte   { return chain.Key(prefixCState, chain.Uint64Bytes(id)) }
func ccommonsKey(id uint64) []byte { return chain.Key(prefixCCommons, chain.Uint64Bytes(id)) }
func copenKey(id uint64) []byte    { return chain.Key(prefixCOpen, chain.Uint64Bytes(id)) }
func cevalsKey(id uint64) []byte   { return chain.Key(prefixCEvals, chain.Uint64Bytes(id)) }
func sealedSpecKey(s Spec) []byte {
	h := sha256.Sum256(chain.Marshal(s))
	return chain.Key(prefixSealedSpec, h[:])
}

// GetCeremony loads a ceremony.
func GetCeremony(kv store.KV, id uint64) (Ceremony, error) {
	var c Ceremony
	if !chain.Get(kv, ceremonyKey(id), &c) {
		return c, chain.Wrap(chain.ErrNotFound, "ceremony %d", id)
	}
	return c, nil
}

// OpenCeremonies lists the ceremonies in phase 1 or 2, by id.
func OpenCeremonies(kv store.KV) []Ceremony {
	var ids []uint64
	kv.Iterate(prefixCOpen, func(k, _ []byte) bool {
		if len(k) == len(prefixCOpen)+8 {
			ids = append(ids, binary.BigEndian.Uint64(k[len(prefixCOpen):]))
		}
		return true
	})
	out := []Ceremony{}
	for _, id := range ids {
		if c, err := GetCeremony(kv, id); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// CeremonyData is what a contributor or a prover needs: the transcript head
// and, from phase 2 on, the sealed phase-1 parameters and the circuit's
// evaluations (ceremony.Keys takes them with the last state and beacon 2).
type CeremonyData struct {
	Ceremony Ceremony `json:"ceremony"`
	State    []byte   `json:"state"`
	Commons  []byte   `json:"commons,omitempty"`
	Evals    []byte   `json:"evals,omitempty"`
}

// GetCeremonyData loads a ceremony with its transcript head.
func GetCeremonyData(kv store.KV, id uint64) (CeremonyData, error) {
	c, err := GetCeremony(kv, id)
	if err != nil {
		return CeremonyData{}, err
	}
	return CeremonyData{Ceremony: c, State: kv.Get(cstateKey(id)), Commons: kv.Get(ccommonsKey(id)), Evals: kv.Get(cevalsKey(id))}, nil
}

// SealedCeremonyFor returns the id of the sealed ceremony for spec, if any.
func SealedCeremonyFor(kv store.KV, s Spec) (uint64, bool) {
	raw := kv.Get(sealedSpecKey(s))
	if len(raw) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(raw), true
}

// CompileSpec compiles the circuit of a spec to the R1CS that phase 2 and
// the keys are computed over, checking that it fits a ceremony. Provers
// compile the same circuit (zkml/prover.Compile) to use the keys.
func CompileSpec(s Spec) (*cs.R1CS, uint64, error) {
	var c frontend.Circuit
	var err error
	switch {
	case s.Kind == KindInference && s.Arch.IsConv():
		c, err = circuit.NewConvInference(s.Arch.ConvModel())
	case s.Kind == KindAccuracy && s.Arch.IsConv():
		c, err = circuit.NewConvAccuracy(s.Arch.ConvModel(), int(s.Rows))
	case s.Kind == KindInference:
		c, err = circuit.NewInference(s.Arch.Model())
	case s.Kind == KindAccuracy:
		c, err = circuit.NewAccuracy(s.Arch.Model(), int(s.Rows))
	default:
		err = fmt.Errorf("circuit kind %q", s.Kind)
	}
	if err != nil {
		return nil, 0, err
	}
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		return nil, 0, fmt.Errorf("compile %s %s: %w", s.Kind, s.Arch, err)
	}
	n := ceremony.Domain(ccs.GetNbConstraints())
	if n > ceremony.MaxDomain {
		return nil, 0, fmt.Errorf("%s circuit for %s has %d constraints: a ceremony on chain takes at most %d",
			s.Kind, s.Arch, ccs.GetNbConstraints(), ceremony.MaxDomain)
	}
	r, err := ceremony.R1CS(ccs, n)
	return r, n, err
}

// MsgOpenCeremony opens a setup ceremony for a circuit spec. Each phase
// stays open for at least PhaseBlocks blocks and until Quorum distinct
// accounts contributed to it.
type MsgOpenCeremony struct {
	Spec        Spec   `json:"spec" cbor:"1,keyasint"`
	Quorum      uint32 `json:"quorum" cbor:"2,keyasint"`
	PhaseBlocks uint32 `json:"phase_blocks" cbor:"3,keyasint"`
}

func (*MsgOpenCeremony) Type() string { return "zkml/open-ceremony" }
func (m *MsgOpenCeremony) ValidateBasic() error {
	switch {
	case m.Quorum < 1 || m.Quorum > MaxQuorum:
		return chain.Wrap(chain.ErrInvalidRequest, "quorum %d: want 1 to %d contributors", m.Quorum, MaxQuorum)
	case m.PhaseBlocks < 1 || m.PhaseBlocks > MaxPhaseBlocks:
		return chain.Wrap(chain.ErrInvalidRequest, "phase_blocks %d: want 1 to %d", m.PhaseBlocks, MaxPhaseBlocks)
	case m.Spec.Rows > MaxCeremonyRows:
		return chain.Wrap(chain.ErrInvalidRequest, "a ceremony on chain takes at most %d test rows", MaxCeremonyRows)
	}
	if err := m.Spec.Validate(); err != nil {
		return err
	}
	if w := m.Spec.Arch.NumWeights(); w > MaxCeremonyWeights {
		return chain.Wrap(chain.ErrInvalidRequest, "arch %s has %d weights: a ceremony on chain takes at most %d", m.Spec.Arch, w, MaxCeremonyWeights)
	}
	// A CNN's circuit grows with its kernel taps times its rows, not with
	// its weights: bound that before the handler compiles it.
	rows := max(uint64(m.Spec.Rows), 1)
	if t := m.Spec.Arch.ConvTaps() * rows; t > MaxCeremonyConvTaps {
		return chain.Wrap(chain.ErrInvalidRequest, "cnn spec has %d kernel taps over its rows: a ceremony on chain takes at most %d", t, MaxCeremonyConvTaps)
	}
	return nil
}

// ExtraFee pays for compiling the circuit in the handler.
func (m *MsgOpenCeremony) ExtraFee() uint64 { return CeremonyOpenFee }

// MsgContribute adds a contribution to the current phase of a ceremony: the
// whole new state (zkml/ceremony encoding), which must extend the head.
type MsgContribute struct {
	Ceremony uint64 `json:"ceremony" cbor:"1,keyasint"`
	Phase    uint32 `json:"phase" cbor:"2,keyasint"`
	State    []byte `json:"state" cbor:"3,keyasint"`
}

func (*MsgContribute) Type() string { return "zkml/contribute" }
func (m *MsgContribute) ValidateBasic() error {
	switch {
	case m.Phase != PhaseOne && m.Phase != PhaseTwo:
		return chain.Wrap(chain.ErrInvalidRequest, "phase %d: want 1 or 2", m.Phase)
	case len(m.State) == 0 || len(m.State) > MaxContributionBytes:
		return chain.Wrap(chain.ErrInvalidRequest, "contribution of %d bytes: want 1 to %d", len(m.State), MaxContributionBytes)
	}
	return nil
}

// ExtraFee pays for verifying the contribution.
func (m *MsgContribute) ExtraFee() uint64 {
	return ContributionFee + ContributionFeePerKiB*uint64((len(m.State)+1023)/1024)
}

func openCeremony(ctx *chain.Context, m *MsgOpenCeremony) error {
	if id, ok := SealedCeremonyFor(ctx.KV, m.Spec); ok {
		return chain.Wrap(chain.ErrConflict, "ceremony %d already sealed a circuit for this spec", id)
	}
	r, n, err := CompileSpec(m.Spec)
	if err != nil {
		return chain.Wrap(chain.ErrInvalidRequest, "%v", err)
	}
	init, err := ceremony.InitPhase1(n)
	if err != nil {
		return chain.Wrap(chain.ErrInternal, "%v", err)
	}
	var id uint64 = 1
	if raw := ctx.KV.Get(keyCeremonySeq); len(raw) == 8 {
		id = binary.BigEndian.Uint64(raw) + 1
	}
	c := Ceremony{
		ID: id, Spec: m.Spec, Opener: ctx.Sender, Domain: n, Constraints: uint32(r.GetNbConstraints()),
		Quorum: m.Quorum, PhaseBlocks: m.PhaseBlocks, Phase: PhaseOne,
		Deadline: ctx.Block.Height + int64(m.PhaseBlocks), Phase1: []Contribution{}, Phase2: []Contribution{},
		Opened: ctx.Block.Height,
	}
	ctx.KV.Set(keyCeremonySeq, chain.Uint64Bytes(id))
	chain.Put(ctx.KV, ceremonyKey(id), c)
	ctx.KV.Set(cstateKey(id), init)
	ctx.KV.Set(copenKey(id), []byte{1})
	ctx.Emit("zkml_ceremony", "id", chain.U64(id), "kind", m.Spec.Kind, "arch", m.Spec.Arch.String(),
		"domain", chain.U64(n), "constraints", chain.U64(uint64(c.Constraints)), "opener", ctx.Sender.String())
	return nil
}

func contribute(ctx *chain.Context, m *MsgContribute) error {
	c, err := GetCeremony(ctx.KV, m.Ceremony)
	if err != nil {
		return err
	}
	if c.Phase != m.Phase {
		if c.Phase >= PhaseSealed {
			return chain.Wrap(chain.ErrConflict, "ceremony %d is closed", c.ID)
		}
		return chain.Wrap(chain.ErrConflict, "ceremony %d is in phase %d, the contribution is for phase %d", c.ID, c.Phase, m.Phase)
	}
	list := c.current()
	for _, k := range *list {
		if k.Contributor == ctx.Sender {
			return chain.Wrap(chain.ErrConflict, "you already contributed to phase %d of ceremony %d", c.Phase, c.ID)
		}
	}
	if len(*list) >= MaxQuorum {
		return chain.Wrap(chain.ErrConflict, "phase %d of ceremony %d has %d contributions, the most it takes", c.Phase, c.ID, MaxQuorum)
	}
	head := ctx.KV.Get(cstateKey(c.ID))
	var next []byte
	if c.Phase == PhaseOne {
		next, err = ceremony.VerifyPhase1(head, m.State, c.Domain, len(c.Phase1) == 0)
	} else {
		next, err = ceremony.VerifyPhase2(head, m.State)
	}
	if err != nil {
		if errors.Is(err, ceremony.ErrInvalid) {
			return chain.Wrap(chain.ErrInvalidRequest, "contribution to phase %d of ceremony %d refused: %v", c.Phase, c.ID, err)
		}
		return chain.Wrap(chain.ErrInternal, "ceremony %d: %v", c.ID, err)
	}
	d := Hash(ceremony.Digest(next))
	*list = append(*list, Contribution{Contributor: ctx.Sender, Digest: d, Height: ctx.Block.Height})
	chain.Put(ctx.KV, ceremonyKey(c.ID), c)
	ctx.KV.Set(cstateKey(c.ID), next)
	ctx.Emit("zkml_contribution", "ceremony", chain.U64(c.ID), "phase", chain.U64(uint64(c.Phase)),
		"n", chain.U64(uint64(len(*list))), "digest", d.String(), "contributor", ctx.Sender.String())
	return nil
}

// EndBlock seals the phases that are due: past the deadline with a quorum.
func (Domain) EndBlock(ctx *chain.Context) error {
	for _, c := range OpenCeremonies(ctx.KV) {
		id := c.ID
		if ctx.Block.Height < c.Deadline || uint32(len(*c.current())) < c.Quorum {
			continue
		}
		// A phase that cannot be sealed is a bug or a spec the chain cannot
		// compile any more; record it instead of retrying every block.
		if err := advance(ctx, &c); err != nil {
			c.Phase, c.Failure = PhaseFailed, err.Error()
			chain.Put(ctx.KV, ceremonyKey(id), c)
			ctx.KV.Delete(copenKey(id))
			ctx.Emit("zkml_ceremony_failed", "id", chain.U64(id), "error", err.Error())
		}
	}
	return nil
}

// advance seals the current phase of c; it writes nothing when it fails.
func advance(ctx *chain.Context, c *Ceremony) error {
	beacon := Hash(ctx.Block.Seed)
	head := ctx.KV.Get(cstateKey(c.ID))
	if c.Phase == PhaseOne {
		r, n, err := CompileSpec(c.Spec)
		if err != nil {
			return err
		}
		if n != c.Domain || uint32(r.GetNbConstraints()) != c.Constraints {
			return fmt.Errorf("the circuit compiles to %d constraints now, %d when the ceremony opened", r.GetNbConstraints(), c.Constraints)
		}
		commons, err := ceremony.SealPhase1(head, n, beacon[:])
		if err != nil {
			return err
		}
		start, evals, err := ceremony.InitPhase2(r, commons, n)
		if err != nil {
			return err
		}
		c.Phase, c.Beacon1, c.Deadline = PhaseTwo, beacon, ctx.Block.Height+int64(c.PhaseBlocks)
		chain.Put(ctx.KV, ceremonyKey(c.ID), *c)
		ctx.KV.Set(ccommonsKey(c.ID), commons)
		ctx.KV.Set(cevalsKey(c.ID), evals)
		ctx.KV.Set(cstateKey(c.ID), start)
		ctx.Emit("zkml_ceremony_phase", "id", chain.U64(c.ID), "phase", "2", "contributors", chain.U64(uint64(len(c.Phase1))))
		return nil
	}
	commons := ctx.KV.Get(ccommonsKey(c.ID))
	_, vk, err := ceremony.Keys(commons, c.Domain, ctx.KV.Get(cevalsKey(c.ID)), head, beacon[:])
	if err != nil {
		return err
	}
	vkb, err := ceremony.VerifyingKeyBytes(vk)
	if err != nil {
		return err
	}
	k, err := zkml.ParseVerifyingKey(vkb)
	if err != nil {
		return err
	}
	if got, want := k.NumPublicInputs(), c.Spec.publicInputs(); got != want {
		return fmt.Errorf("derived key takes %d public inputs, the spec %d", got, want)
	}
	id := CircuitID(c.Spec, vkb)
	if store.Has(ctx.KV, circuitKey(id)) {
		return fmt.Errorf("circuit %s is already registered", id)
	}
	chain.Put(ctx.KV, circuitKey(id), Circuit{
		ID: id, Spec: c.Spec, VerifyingKey: vkb, PublicInputs: uint32(k.NumPublicInputs()), Gnark: ceremonyGnark,
		Setup:      fmt.Sprintf("ceremony %d: %d phase-1 and %d phase-2 contributors", c.ID, len(c.Phase1), len(c.Phase2)),
		Registrant: c.Opener, Height: ctx.Block.Height, Ceremony: c.ID, Trust: TrustCeremony,
	})
	if _, ok := SealedCeremonyFor(ctx.KV, c.Spec); !ok {
		ctx.KV.Set(sealedSpecKey(c.Spec), chain.Uint64Bytes(c.ID))
	}
	c.Phase, c.Beacon2, c.Circuit, c.Sealed = PhaseSealed, beacon, id, ctx.Block.Height
	chain.Put(ctx.KV, ceremonyKey(c.ID), *c)
	ctx.KV.Delete(copenKey(c.ID))
	ctx.Emit("zkml_ceremony_sealed", "id", chain.U64(c.ID), "circuit", id.String(),
		"phase1", chain.U64(uint64(len(c.Phase1))), "phase2", chain.U64(uint64(len(c.Phase2))))
	return nil
}

// RequireTrustedClaim is the rule for markets that act on a claim (a
// pipeline's accuracy target, a payment): the claim was verified under a
// circuit sealed by an on-chain ceremony whose every phase had at least
// minContributors distinct contributors, one of them in each phase neither
// the claim's prover nor the model's owner. Single-party keys never pass.
//
// A claim about a test set given as pieces passes when each of its piece
// claims does (each piece's prover is checked).
func RequireTrustedClaim(kv store.KV, claim Claim, minContributors int) error {
	for _, seq := range claim.Parts {
		part, err := GetClaim(kv, claim.Model, seq)
		if err != nil {
			return err
		}
		if len(part.Parts) > 0 || part.Circuit != claim.Circuit {
			return chain.Wrap(chain.ErrInternal, "claim %d of model %d: part %d is not a piece claim under circuit %s", claim.Seq, claim.Model, seq, claim.Circuit)
		}
		if err := RequireTrustedClaim(kv, part, minContributors); err != nil {
			return fmt.Errorf("piece claim %d: %w", seq, err)
		}
	}
	c, err := GetCircuit(kv, claim.Circuit)
	if err != nil {
		return err
	}
	if c.Ceremony == 0 {
		return chain.Wrap(chain.ErrUnauthorized, "claim %d of model %d is under circuit %s from a %s", claim.Seq, claim.Model, c.ID, TrustSingleParty)
	}
	cer, err := GetCeremony(kv, c.Ceremony)
	if err != nil {
		return err
	}
	if cer.Phase != PhaseSealed || cer.Circuit != c.ID {
		return chain.Wrap(chain.ErrUnauthorized, "circuit %s is not the sealed circuit of ceremony %d", c.ID, cer.ID)
	}
	m, err := GetModel(kv, claim.Model)
	if err != nil {
		return err
	}
	for i, phase := range [][]Contribution{cer.Phase1, cer.Phase2} {
		if len(phase) < minContributors {
			return chain.Wrap(chain.ErrUnauthorized, "ceremony %d had %d phase-%d contributors, at least %d are required", cer.ID, len(phase), i+1, minContributors)
		}
		independent := false
		for _, k := range phase {
			if k.Contributor != claim.Prover && k.Contributor != m.Owner {
				independent = true
			}
		}
		if !independent {
			return chain.Wrap(chain.ErrUnauthorized, "every phase-%d contributor of ceremony %d is the prover or the model's owner", i+1, cer.ID)
		}
	}
	return nil
}
