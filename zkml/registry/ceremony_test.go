package registry_test

import (
	"errors"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/ceremony"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// microFixture is a 2-2-2 MLP (903 constraints: a phase-1 domain of 1024,
// the smallest the commitment and lookups allow) with a single-party key
// and a proof under it, for the ceremony tests.
type microFixture struct {
	arch     model.Arch
	m        *model.Model
	x        []int
	class    int
	comm     model.Digest
	regArch  registry.Arch
	infSpec  registry.Spec
	infVK    []byte
	infProof []byte
	infGnark string
}

func getMicro(t *testing.T) *microFixture {
	t.Helper()
	f := &microFixture{arch: model.Arch{Sizes: []int{2, 2, 2}, InBits: 2, Shifts: []int{1}}, x: []int{3, 1}}
	f.arch.BiasBits = []int{model.DefaultBiasBits(2, 3), model.DefaultBiasBits(2, 255)}
	var err error
	if f.m, err = train.RandomModel(f.arch, 5); err != nil {
		t.Fatal(err)
	}
	if f.comm, err = f.m.ComputeCommitment(); err != nil {
		t.Fatal(err)
	}
	if f.regArch, err = registry.ArchOf(f.arch); err != nil {
		t.Fatal(err)
	}
	f.infSpec = registry.Spec{Kind: registry.KindInference, Arch: f.regArch}
	keys, _ := setupKeys(t, "micro-inference", prover.Spec{Kind: prover.KindInference, Arch: f.arch})
	a, cls, err := circuit.InferenceAssignment(f.m, f.x)
	if err != nil {
		t.Fatal(err)
	}
	f.class = cls
	if f.infProof, _, err = keys.Prove(a); err != nil {
		t.Fatal(err)
	}
	var man *prover.Manifest
	f.infVK, man = vkFile(t, "micro-inference")
	f.infGnark = man.Gnark
	return f
}

// ceremonyHarness runs messages and end blocks from height 10 on.
type ceremonyHarness struct{ *harness }

func newCeremonyHarness(t *testing.T) *ceremonyHarness {
	h := newHarness(t, 6, 10_000_000)
	h.Height = 10
	return &ceremonyHarness{h}
}

func (h *ceremonyHarness) mustSend(sender byte, msg chain.Msg) { h.T.Helper(); h.mustRun(sender, msg) }

func (h *ceremonyHarness) reject(what string, sender byte, msg chain.Msg, code *chain.Error, substr string) {
	h.T.Helper()
	h.mustFail(what, sender, msg, code, substr)
}

// endBlock closes the current height (every domain's end-block step: the
// registry seals the phases that are due) and moves to the next.
func (h *ceremonyHarness) endBlock() { h.T.Helper(); h.EndBlock() }

func (h *ceremonyHarness) data(id uint64) registry.CeremonyData {
	h.T.Helper()
	d, err := registry.GetCeremonyData(h.KV, id)
	if err != nil {
		h.T.Fatal(err)
	}
	return d
}

// contribution makes a fresh contribution to the ceremony's current phase.
func (h *ceremonyHarness) contribution(id uint64) *registry.MsgContribute {
	h.T.Helper()
	d := h.data(id)
	var next []byte
	var err error
	if d.Ceremony.Phase == registry.PhaseOne {
		next, err = ceremony.ContributePhase1(d.State, d.Ceremony.Domain, len(d.Ceremony.Phase1) == 0)
	} else {
		next, err = ceremony.ContributePhase2(d.State)
	}
	if err != nil {
		h.T.Fatal(err)
	}
	return &registry.MsgContribute{Ceremony: id, Phase: d.Ceremony.Phase, State: next}
}

// TestCeremonyOnChain: four validators (1-4) and an outside contributor (5)
// run both phases; bad contributions are refused with the state unchanged;
// the sealed circuit's key is derived by the chain; a proof from the
// ceremony's keys is accepted, single-party keys are refused from then on,
// and the trust rule for markets counts contributors.
func TestCeremonyOnChain(t *testing.T) {
	f := getMicro(t)
	h := newCeremonyHarness(t)
	// A devnet key for the same spec, registered and used before the ceremony.
	h.mustSend(6, &registry.MsgRegisterCircuit{Spec: f.infSpec, VerifyingKey: f.infVK, Gnark: f.infGnark, Setup: "devnet"})
	devID := registry.CircuitID(f.infSpec, f.infVK)
	h.mustSend(6, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "tiny"})
	inf := &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(f.class)}
	h.mustSend(6, &registry.MsgSubmitProof{Circuit: devID, Model: 1, Inference: inf, Proof: f.infProof})
	devClaim := registry.Claims(h.KV, 1)[0]
	if devClaim.Trust != registry.TrustSingleParty {
		t.Fatalf("devnet claim trust %q", devClaim.Trust)
	}
	if err := registry.RequireTrustedClaim(h.KV, devClaim, 1); !errors.Is(err, chain.ErrUnauthorized) {
		t.Fatalf("a single-party claim passed the trust rule: %v", err)
	}

	h.reject("quorum 0", 1, &registry.MsgOpenCeremony{Spec: f.infSpec, Quorum: 0, PhaseBlocks: 3}, chain.ErrInvalidRequest, "quorum")
	h.mustSend(1, &registry.MsgOpenCeremony{Spec: f.infSpec, Quorum: 5, PhaseBlocks: 3})
	c, err := registry.GetCeremony(h.KV, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ceremony 1: %d constraints, domain %d", c.Constraints, c.Domain)

	for phase := uint32(1); phase <= 2; phase++ {
		first := h.contribution(1)
		stale := h.contribution(1) // built on the same head: stops extending once first is in
		h.mustSend(1, first)
		h.reject("second contribution by one account", 1, stale, chain.ErrConflict, "already contributed")
		h.reject("non-extending contribution", 2, stale, chain.ErrInvalidRequest, "refused")
		bad := *first
		bad.State = append([]byte(nil), first.State...)
		bad.State[len(bad.State)/2] ^= 0x10
		h.reject("malformed contribution", 2, &bad, chain.ErrInvalidRequest, "refused")
		short := *first
		short.State = first.State[:len(first.State)-7]
		h.reject("truncated contribution", 2, &short, chain.ErrInvalidRequest, "refused")
		wrong := *first
		wrong.Phase = 3 - phase
		h.reject("contribution for the other phase", 2, &wrong, chain.ErrConflict, "phase")
		for who := byte(2); who <= 4; who++ {
			h.mustSend(who, h.contribution(1))
		}
		// Past the deadline without a quorum the phase stays open.
		for range 4 {
			h.endBlock()
		}
		if got := h.data(1).Ceremony.Phase; got != phase {
			t.Fatalf("phase %d closed with 4 of 5 contributors (now %d)", phase, got)
		}
		h.mustSend(5, h.contribution(1)) // the outside contributor
		h.endBlock()
	}
	c = h.data(1).Ceremony
	if c.Phase != registry.PhaseSealed || len(c.Phase1) != 5 || len(c.Phase2) != 5 {
		t.Fatalf("ceremony not sealed: %+v", c)
	}
	h.reject("contribution after the seal", 6, &registry.MsgContribute{Ceremony: 1, Phase: 2, State: []byte{1}}, chain.ErrConflict, "closed")
	circ, err := registry.GetCircuit(h.KV, c.Circuit)
	if err != nil {
		t.Fatal(err)
	}
	if circ.Ceremony != 1 || circ.Trust != registry.TrustCeremony {
		t.Fatalf("sealed circuit %+v", circ)
	}

	// The prover derives the proving key from the public transcript.
	keys := proverKeys(t, h, 1)
	a, cls, err := circuit.InferenceAssignment(f.m, f.x)
	if err != nil {
		t.Fatal(err)
	}
	proof, _, err := keys.Prove(a)
	if err != nil {
		t.Fatal(err)
	}
	// The devnet proof of the same claim does not verify under the ceremony key...
	h.reject("single-party proof under the ceremony circuit", 3, &registry.MsgSubmitProof{Circuit: c.Circuit, Model: 1, Inference: inf, Proof: f.infProof},
		chain.ErrInvalidRequest, "does not verify")
	// ... the devnet circuit takes no more claims, nor can its key be registered again.
	h.reject("claim under the devnet circuit after the seal", 3, &registry.MsgSubmitProof{Circuit: devID, Model: 1,
		Inference: &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(cls)}, Proof: f.infProof}, chain.ErrUnauthorized, "single-party")
	h.reject("uploaded key after the seal", 3, &registry.MsgRegisterCircuit{Spec: f.infSpec, VerifyingKey: f.infVK, Gnark: f.infGnark},
		chain.ErrConflict, "sealed")
	// The ceremony key's proof is accepted.
	h.mustSend(6, &registry.MsgSubmitProof{Circuit: c.Circuit, Model: 1, Inference: inf, Proof: proof})
	claims := registry.Claims(h.KV, 1)
	cc := claims[len(claims)-1]
	if cc.Ceremony != 1 || cc.Trust != registry.TrustCeremony {
		t.Fatalf("ceremony claim %+v", cc)
	}
	if err := registry.RequireTrustedClaim(h.KV, cc, 5); err != nil {
		t.Fatalf("trust rule refused a claim under a 5-contributor ceremony: %v", err)
	}
	if err := registry.RequireTrustedClaim(h.KV, cc, 6); !errors.Is(err, chain.ErrUnauthorized) {
		t.Fatalf("trust rule accepted 5 contributors where 6 are required: %v", err)
	}
	if err := zkml.VerifyInference(circ.VerifyingKey, proof, f.arch, zkml.InferenceClaim{Model: f.comm, Input: f.x, Class: cls}); err != nil {
		t.Fatalf("ceremony proof off chain: %v", err)
	}
}

// TestCeremonyTrustNeedsAnIndependentContributor: a ceremony whose only
// contributor is the prover seals, but its claims fail the trust rule.
func TestCeremonyTrustNeedsAnIndependentContributor(t *testing.T) {
	f := getMicro(t)
	h := newCeremonyHarness(t)
	h.mustSend(2, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "tiny"})
	h.mustSend(2, &registry.MsgOpenCeremony{Spec: f.infSpec, Quorum: 1, PhaseBlocks: 1})
	for phase := uint32(1); phase <= 2; phase++ {
		h.mustSend(2, h.contribution(1))
		for h.data(1).Ceremony.Phase == phase {
			h.endBlock()
		}
	}
	c := h.data(1).Ceremony
	if c.Phase != registry.PhaseSealed {
		t.Fatalf("not sealed: phase %d %s", c.Phase, c.Failure)
	}
	keys := proverKeys(t, h, 1)
	a, _, _ := circuit.InferenceAssignment(f.m, f.x)
	proof, _, err := keys.Prove(a)
	if err != nil {
		t.Fatal(err)
	}
	h.mustSend(2, &registry.MsgSubmitProof{Circuit: c.Circuit, Model: 1, Inference: &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(f.class)}, Proof: proof})
	claim := registry.Claims(h.KV, 1)[0]
	if err := registry.RequireTrustedClaim(h.KV, claim, 1); !errors.Is(err, chain.ErrUnauthorized) {
		t.Fatalf("a prover-only ceremony passed the trust rule: %v", err)
	}
}

func proverKeys(t *testing.T, h *ceremonyHarness, id uint64) *prover.Keys {
	t.Helper()
	d := h.data(id)
	r, _, err := registry.CompileSpec(d.Ceremony.Spec)
	if err != nil {
		t.Fatal(err)
	}
	pk, vk, err := ceremony.Keys(d.Commons, d.Ceremony.Domain, d.Evals, d.State, d.Ceremony.Beacon2[:])
	if err != nil {
		t.Fatal(err)
	}
	vkb, _ := ceremony.VerifyingKeyBytes(vk)
	circ, err := registry.GetCircuit(h.KV, d.Ceremony.Circuit)
	if err != nil {
		t.Fatal(err)
	}
	if string(vkb) != string(circ.VerifyingKey) {
		t.Fatal("the prover's key differs from the one the chain derived")
	}
	return &prover.Keys{CCS: r, PK: pk, VK: vk}
}
