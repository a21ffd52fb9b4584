package registry_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/internal/cputime"
	"github.com/tenun-chain/tenun/internal/scenario"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// The pure rules, without a node: every bad registration or proof is
// rejected with a clear error and leaves the state byte-for-byte unchanged.

func addr(b byte) chain.Address { return scenario.ByteAddr(b) }

type harness struct{ *scenario.Pure }

// newHarness starts the registry (and the other domains given) with
// accounts 1 to n holding balance each, at height 7, where every message
// of these tests runs.
func newHarness(t *testing.T, n byte, balance uint64, domains ...chain.Domain) *harness {
	h := &harness{scenario.NewPure(t, chain.Genesis{Accounts: scenario.Funded(n, balance)}, append([]chain.Domain{registry.Domain{}}, domains...)...)}
	h.Height = 7
	return h
}

// run decodes msg as a transaction would (ValidateBasic included) and runs
// its handler as sender inside a write buffer kept only on success.
func (h *harness) run(sender byte, msg chain.Msg) error { return h.Run(addr(sender), msg) }

func (h *harness) mustRun(sender byte, msg chain.Msg) {
	h.T.Helper()
	h.Must(addr(sender), msg)
}

func (h *harness) mustFail(what string, sender byte, msg chain.Msg, code *chain.Error, substr string) {
	h.T.Helper()
	scenario.MustReject(h.T, h.KV, what, code, substr, func() error { return h.run(sender, msg) })
}

func (h *harness) query(path string, out any) {
	h.T.Helper()
	v, err := h.App.Query(h.KV, "zkml", path, nil)
	if err != nil {
		h.T.Fatalf("query %s: %v", path, err)
	}
	b, _ := json.Marshal(v) // as the API serves it
	if err := json.Unmarshal(b, out); err != nil {
		h.T.Fatalf("query %s: %v", path, err)
	}
}

// setup registers both tiny circuits, commits the model (id 1, owner 1) and
// the other model (id 2, owner 2), and registers the tiny test set.
func setup(t *testing.T) (*harness, *tinyFixture, registry.Hash, registry.Hash, model.Digest) {
	f := getTiny(t)
	h := newHarness(t, 4, 1_000_000)
	h.mustRun(3, &registry.MsgRegisterCircuit{Spec: f.infSpec, VerifyingKey: f.infVK, Gnark: f.infGnark, Setup: "test"})
	h.mustRun(3, &registry.MsgRegisterCircuit{Spec: f.accSpec, VerifyingKey: f.accVK, Gnark: f.infGnark})
	h.mustRun(1, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "tiny"})
	h.mustRun(2, &registry.MsgCommitModel{Commitment: f.comm2, Arch: f.regArch, Name: "other"})
	tsh, err := f.arch.TestSetHash(f.ds)
	if err != nil {
		t.Fatal(err)
	}
	h.mustRun(4, &registry.MsgRegisterTestSet{Hash: tsh, Shape: registry.ShapeOf(f.regArch), Name: "tiny-4", Rows: rows(f.ds)})
	return h, f, registry.CircuitID(f.infSpec, f.infVK), registry.CircuitID(f.accSpec, f.accVK), tsh
}

func TestRegisterCircuitRejections(t *testing.T) {
	h, f, infID, _, _ := setup(t)
	reg := func(spec registry.Spec, vk []byte) *registry.MsgRegisterCircuit {
		return &registry.MsgRegisterCircuit{Spec: spec, VerifyingKey: vk, Gnark: f.infGnark}
	}
	h.mustFail("same key twice", 1, reg(f.infSpec, f.infVK), chain.ErrConflict, "already registered")

	// Malformed keys never enter state.
	h.mustFail("truncated key", 1, reg(f.infSpec, f.infVK[:len(f.infVK)-1]), chain.ErrInvalidRequest, "verifying key")
	h.mustFail("trailing bytes", 1, reg(f.infSpec, append(append([]byte{}, f.infVK...), 0)), chain.ErrInvalidRequest, "verifying key")
	junk := bytes.Repeat([]byte{0xc1}, len(f.infVK))
	h.mustFail("junk key", 1, reg(f.infSpec, junk), chain.ErrInvalidRequest, "verifying key")
	// α1's x coordinate set above the field modulus, its compression flag
	// kept. (Flipping one bit would give another curve point half the time.)
	bad := append([]byte{}, f.infVK...)
	bad[0] |= 0x3f
	for i := 1; i < 32; i++ {
		bad[i] = 0xff
	}
	h.mustFail("corrupt point", 1, reg(f.infSpec, bad), chain.ErrInvalidRequest, "verifying key")
	h.mustFail("oversized key", 1, reg(f.infSpec, make([]byte, 64<<10+1)), chain.ErrInvalidRequest, "verifying key of 65537 bytes")

	// A good key under a spec whose public inputs it does not take.
	wide := f.arch.Clone()
	wide.Sizes[0] = 64 // 64 inputs of 5 bits: two packed elements, not one
	wa, err := registry.ArchOf(wide)
	if err != nil {
		t.Fatal(err)
	}
	h.mustFail("key for another input width", 1, reg(registry.Spec{Kind: registry.KindInference, Arch: wa}, f.infVK),
		chain.ErrInvalidRequest, "takes 3 public inputs")
	h.mustFail("inference key as accuracy", 1, reg(registry.Spec{Kind: registry.KindAccuracy, Arch: f.regArch, Rows: 4}, f.infVK),
		chain.ErrInvalidRequest, "takes 3 public inputs, a accuracy circuit")

	// Bad specs are refused before the key is looked at.
	h.mustFail("unknown kind", 1, reg(registry.Spec{Kind: "training", Arch: f.regArch}, f.infVK), chain.ErrInvalidRequest, "circuit kind")
	h.mustFail("inference with rows", 1, reg(registry.Spec{Kind: registry.KindInference, Arch: f.regArch, Rows: 3}, f.infVK), chain.ErrInvalidRequest, "takes no rows")
	badArch := f.regArch
	badArch.Shifts = []uint32{30}
	h.mustFail("invalid arch", 1, reg(registry.Spec{Kind: registry.KindInference, Arch: badArch}, f.infVK), chain.ErrInvalidRequest, "shift")
	h.mustFail("no gnark version", 1, &registry.MsgRegisterCircuit{Spec: f.infSpec, VerifyingKey: f.infVK}, chain.ErrInvalidRequest, "gnark version")

	var c registry.Circuit
	h.query("circuit/"+infID.String(), &c)
	if c.ID != infID || c.PublicInputs != 3 || c.Registrant != addr(3) || c.Gnark != f.infGnark || !bytes.Equal(c.VerifyingKey, f.infVK) {
		t.Fatalf("circuit record: %+v", c)
	}
}

func TestCommitModelAndTestSetRejections(t *testing.T) {
	h, f, _, _, tsh := setup(t)
	h.mustFail("same owner, same commitment", 1, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "again"},
		chain.ErrConflict, "already committed")
	var over model.Digest
	for i := range over {
		over[i] = 0xff // above the BN254 scalar modulus
	}
	h.mustFail("non-canonical commitment", 1, &registry.MsgCommitModel{Commitment: over, Arch: f.regArch, Name: "x"}, chain.ErrInvalidRequest, "canonical")
	h.mustFail("no name", 1, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch}, chain.ErrInvalidRequest, "name")
	// Another owner may commit the same model: the proof is about the
	// commitment, and nobody can squat it.
	h.mustRun(3, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "mirror"})

	shape := registry.ShapeOf(f.regArch)
	h.mustFail("same test set twice", 2, &registry.MsgRegisterTestSet{Hash: tsh, Shape: shape, Name: "dup", Rows: rows(f.ds)},
		chain.ErrConflict, "already registered")
	// Rows that do not hash to the declared hash: one label changed.
	other := rows(f.ds2)
	tsh2, err := f.arch.TestSetHash(f.ds2)
	if err != nil {
		t.Fatal(err)
	}
	other[1][16] = (other[1][16] + 1) % 10
	h.mustFail("rows do not match hash", 2, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: shape, Name: "t", Rows: other},
		chain.ErrInvalidRequest, "the rows hash to")
	other[1][3] = 99 // input out of 5 bits
	h.mustFail("input out of range", 2, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: shape, Name: "t", Rows: other},
		chain.ErrInvalidRequest, "out of")
	h.mustFail("short row", 2, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: shape, Name: "t", Rows: [][]uint32{{1, 2}}},
		chain.ErrInvalidRequest, "want 16 inputs and a label")
	cid := chain.BlobCID([]byte("rows"))
	h.mustFail("unregistered blob", 2, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: shape, Name: "t", CID: cid, N: 4},
		chain.ErrNotFound, "not registered")
	h.mustFail("rows and cid", 2, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: shape, Name: "t", CID: cid, Rows: rows(f.ds2)},
		chain.ErrInvalidRequest, "not both")

	// A declared hash (by blob) is replaced by verified rows, not the reverse.
	h.mustRun(2, &chain.MsgRegisterBlob{CID: cid, Size: 4})
	h.mustRun(2, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: shape, Name: "declared", CID: cid, N: 4})
	h.mustFail("declared over declared", 3, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: shape, Name: "again", CID: cid, N: 4},
		chain.ErrConflict, "already registered")
	h.mustRun(3, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: shape, Name: "verified", Rows: rows(f.ds2)})
	var ts registry.TestSet
	h.query("testset/"+tsh2.String(), &ts)
	if !ts.Verified || ts.N != 4 || ts.Name != "verified" || ts.Owner != addr(3) || len(ts.Rows) != 4 {
		t.Fatalf("test set record: %+v", ts)
	}
	var models []registry.Model
	h.query("models", &models)
	if len(models) != 3 || models[0].Owner != addr(1) || models[0].Commitment != f.comm || models[2].Name != "mirror" {
		t.Fatalf("models: %+v", models)
	}
}

func TestSubmitProofRejections(t *testing.T) {
	h, f, infID, accID, tsh := setup(t)
	inf := func(modelID uint64, x []int, class int, proof []byte) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: infID, Model: modelID, Proof: proof,
			Inference: &registry.InferenceClaim{Input: u32s(x), Class: uint32(class)}}
	}
	acc := func(set model.Digest, n, k int, proof []byte) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: accID, Model: 1, Proof: proof,
			Accuracy: &registry.AccuracyClaim{TestSet: set, N: uint32(n), K: uint32(k)}}
	}
	const invalid = "proof does not verify"

	// Inference.
	h.mustFail("proof of model 1 named as model 2 (wrong commitment)", 2, inf(2, f.x, f.class, f.infProof), chain.ErrInvalidRequest, invalid)
	x2 := append([]int{}, f.x...)
	x2[0] ^= 1
	h.mustFail("different input", 1, inf(1, x2, f.class, f.infProof), chain.ErrInvalidRequest, invalid)
	h.mustFail("wrong output", 1, inf(1, f.x, (f.class+1)%10, f.infProof), chain.ErrInvalidRequest, invalid)
	h.mustFail("class out of range", 1, inf(1, f.x, 10, f.infProof), chain.ErrInvalidRequest, "class 10 out of")
	h.mustFail("input too short", 1, inf(1, f.x[:15], f.class, f.infProof), chain.ErrInvalidRequest, "input has 15 values")
	h.mustFail("input out of range", 1, inf(1, append(append([]int{}, f.x[:15]...), 32), f.class, f.infProof), chain.ErrInvalidRequest, "out of [0, 32)")
	for _, i := range []int{0, 40, 100, len(f.infProof) - 1} {
		p := append([]byte{}, f.infProof...)
		p[i] ^= 0x01
		h.mustFail("tampered proof byte", 1, inf(1, f.x, f.class, p), chain.ErrInvalidRequest, invalid)
	}
	h.mustFail("truncated proof", 1, inf(1, f.x, f.class, f.infProof[:len(f.infProof)-1]), chain.ErrInvalidRequest, "truncated")
	h.mustFail("accuracy proof as inference proof", 1, inf(1, f.x, f.class, f.accProof), chain.ErrInvalidRequest, invalid)
	h.mustFail("oversized proof", 1, inf(1, f.x, f.class, make([]byte, 1025)), chain.ErrInvalidRequest, "proof of 1025 bytes")
	h.mustFail("unknown circuit", 1, &registry.MsgSubmitProof{Circuit: registry.Hash{1}, Model: 1, Proof: f.infProof,
		Inference: &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(f.class)}}, chain.ErrNotFound, "is not registered")
	h.mustFail("unknown model", 1, inf(9, f.x, f.class, f.infProof), chain.ErrNotFound, "model 9")
	h.mustFail("accuracy claim under an inference circuit", 1, &registry.MsgSubmitProof{Circuit: infID, Model: 1, Proof: f.infProof,
		Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: 4, K: 3}}, chain.ErrInvalidRequest, "proves inference claims")
	h.mustFail("two claims", 1, &registry.MsgSubmitProof{Circuit: infID, Model: 1, Proof: f.infProof,
		Inference: &registry.InferenceClaim{Input: u32s(f.x)}, Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: 4, K: 3}},
		chain.ErrInvalidRequest, "exactly one claim")

	// A model of another arch cannot use the circuit.
	wide := f.arch.Clone()
	wide.Sizes[1] = 12
	wide.BiasBits[1] = model.DefaultBiasBits(12, 255)
	wa, err := registry.ArchOf(wide)
	if err != nil {
		t.Fatal(err)
	}
	h.mustRun(1, &registry.MsgCommitModel{Commitment: f.comm2, Arch: wa, Name: "wide"}) // model 3
	h.mustFail("circuit for another arch", 1, inf(3, f.x, f.class, f.infProof), chain.ErrInvalidRequest, "is for arch 16-8-10/in5, model 3 is 16-12-10/in5")

	// Accuracy.
	h.mustFail("over-claim", 1, acc(tsh, 4, f.k+1, f.accProof), chain.ErrInvalidRequest, invalid)
	h.mustFail("under-claim (K is a public input)", 1, acc(tsh, 4, f.k-1, f.accProof), chain.ErrInvalidRequest, invalid)
	h.mustFail("unregistered test set", 1, acc(model.Digest{31: 7}, 4, f.k, f.accProof), chain.ErrNotFound, "test set")
	tsh2, err := f.arch.TestSetHash(f.ds2)
	if err != nil {
		t.Fatal(err)
	}
	h.mustRun(4, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: registry.ShapeOf(f.regArch), Name: "other-4", Rows: rows(f.ds2)})
	h.mustFail("proof made on another test set", 1, acc(tsh2, 4, f.k, f.accProof), chain.ErrInvalidRequest, invalid)
	h.mustFail("claim n differs from the test set", 1, acc(tsh, 3, 3, f.accProof), chain.ErrInvalidRequest, "has 4 rows, the claim says 3")
	tampered := append([]byte{}, f.accProof...)
	tampered[len(tampered)/2] ^= 0x10
	h.mustFail("tampered accuracy proof", 1, acc(tsh, 4, f.k, tampered), chain.ErrInvalidRequest, invalid)
	h.mustFail("inference proof as accuracy proof", 1, acc(tsh, 4, f.k, f.infProof), chain.ErrInvalidRequest, invalid)

	// The genuine proofs verify and are recorded; the same statement once.
	h.mustRun(4, inf(1, f.x, f.class, f.infProof))
	h.mustFail("same inference statement again", 2, inf(1, f.x, f.class, f.infProof), chain.ErrConflict, "already recorded as claim 1")
	h.mustRun(4, acc(tsh, 4, f.k, f.accProof))
	h.mustFail("same accuracy statement again", 2, acc(tsh, 4, f.k, f.accProof), chain.ErrConflict, "already recorded as claim 2")
	// The mirror record of the same commitment verifies the same proof.
	h.mustRun(3, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "mirror"}) // model 4
	h.mustRun(3, inf(4, f.x, f.class, f.infProof))

	var claims []registry.Claim
	h.query("claims/1", &claims)
	if len(claims) != 2 {
		t.Fatalf("claims: %+v", claims)
	}
	ic, ac := claims[0], claims[1]
	if ic.Kind != registry.KindInference || ic.Seq != 1 || ic.Circuit != infID || ic.Commitment != f.comm ||
		int(ic.Inference.Class) != f.class || ic.Prover != addr(4) || ic.Height != 7 || ic.AccuracyBps != nil {
		t.Fatalf("inference claim: %+v", ic)
	}
	if ac.Kind != registry.KindAccuracy || ac.Accuracy.TestSet != tsh || ac.Accuracy.N != 4 || int(ac.Accuracy.K) != f.k ||
		ac.AccuracyBps == nil || *ac.AccuracyBps != uint32(f.k*10000/4) {
		t.Fatalf("accuracy claim: %+v", ac)
	}
	var m registry.Model
	h.query("model/1", &m)
	if m.Claims != 2 || m.Name != "tiny" || m.Owner != addr(1) {
		t.Fatalf("model: %+v", m)
	}
	if err := chain.CheckInvariants(h.KV); err != nil {
		t.Fatal(err)
	}
}

// TestFeeCoversVerification runs submit-proof as a signed transaction: the
// chain's MinFee alone is refused, MinFee+VerifyFee is taken.
func TestFeeCoversVerification(t *testing.T) {
	f := getTiny(t)
	key := ed25519.GenPrivKeyFromSecret([]byte("zkml-fee"))
	sender := chain.AddressFromPubKey(key.PubKey().Bytes())
	kv := store.NewMemory()
	app := chain.NewApp("t", registry.Domain{})
	g := chain.Genesis{Params: chain.DefaultParams(), Accounts: []chain.GenesisAccount{{Address: sender, Balance: 1_000_000}}}
	if err := app.InitGenesis(chain.NewContext(kv, chain.Block{Height: 1}, g.Params), g); err != nil {
		t.Fatal(err)
	}
	seq := uint64(0)
	send := func(msg chain.Msg, fee uint64) chain.TxResult {
		tx, err := chain.SignTx(key, "t", seq, fee, msg, "")
		if err != nil {
			t.Fatal(err)
		}
		res := app.ApplyBlock(kv, chain.Block{Height: 2, ChainID: "t"}, [][]byte{tx}, nil).Txs[0]
		if res.Code == 0 {
			seq++
		}
		return res
	}
	minFee := chain.DefaultParams().MinFee
	reg := &registry.MsgRegisterCircuit{Spec: f.infSpec, VerifyingKey: f.infVK, Gnark: f.infGnark}
	if res := send(reg, minFee); res.Code != chain.ErrFee.Code {
		t.Fatalf("register-circuit at the min fee: %+v", res)
	}
	if res := send(reg, minFee+reg.ExtraFee()); res.Code != 0 {
		t.Fatalf("register-circuit: %+v", res)
	}
	if res := send(&registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "m"}, minFee); res.Code != 0 {
		t.Fatalf("commit-model: %+v", res)
	}
	proof := &registry.MsgSubmitProof{Circuit: registry.CircuitID(f.infSpec, f.infVK), Model: 1, Proof: f.infProof,
		Inference: &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(f.class)}}
	if res := send(proof, minFee); res.Code != chain.ErrFee.Code || !strings.Contains(res.Log, "needs at least") {
		t.Fatalf("submit-proof at the min fee: %+v", res)
	}
	// 16 inputs pack into at most 2 elements (16 bits each at most).
	want := minFee + registry.VerifyFee + 2*registry.VerifyFeePerInputElem
	if proof.ExtraFee() != want-minFee {
		t.Fatalf("extra fee %d, want %d", proof.ExtraFee(), want-minFee)
	}
	if res := send(proof, want-1); res.Code != chain.ErrFee.Code {
		t.Fatalf("submit-proof one utnn short: %+v", res)
	}
	before := chain.Balance(kv, sender)
	if res := send(proof, want); res.Code != 0 {
		t.Fatalf("submit-proof: %+v", res)
	}
	if paid := before - chain.Balance(kv, sender); paid != want {
		t.Fatalf("paid %d, want %d", paid, want)
	}
}

// TestVerificationCost times the submit-proof handler (decode the key with
// subgroup checks, lay out the claim, verify, record) so VerifyFee can be
// checked against it. It logs wall time and process CPU time per call; CPU
// time is the figure to trust on a busy machine.
func TestVerificationCost(t *testing.T) {
	h, f, infID, accID, tsh := setup(t)
	msgs := []*registry.MsgSubmitProof{
		{Circuit: infID, Model: 1, Proof: f.infProof, Inference: &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(f.class)}},
		{Circuit: accID, Model: 1, Proof: f.accProof, Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: 4, K: uint32(f.k)}},
	}
	for _, m := range msgs {
		const n = 50
		t0, c0 := time.Now(), cpuTime()
		for range n {
			cache := store.NewCache(h.KV) // discarded: the same claim each time
			ctx := chain.NewContext(cache, h.Block(), h.Params)
			if err := h.App.Router().HandleForTest(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		wall, cpu := time.Since(t0)/n, (cpuTime()-c0)/n
		kind := registry.KindInference
		if m.Accuracy != nil {
			kind = registry.KindAccuracy
		}
		t.Logf("submit-proof (%s, %d-byte proof): %v wall, %v CPU per handler call",
			kind, len(m.Proof), wall.Round(time.Microsecond), cpu.Round(time.Microsecond))
	}
}

func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}
