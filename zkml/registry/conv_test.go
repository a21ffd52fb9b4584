package registry_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// tinyCNNArch is a 5x5 4-bit image, one 2x2 channel, 2x2 pool, 4-3 head:
// its inference circuit fits a ceremony on chain (under 4,096 constraints).
func tinyCNNArch() model.ConvArch {
	return model.ConvArch{
		Height: 5, Width: 5, InBits: 4, Kernel: 2, Channels: 1, Shift: 2, BiasBits: 10, Pool: 2,
		Head: model.Arch{Sizes: []int{4, 3}, InBits: model.ActBits, Shifts: []int{}, BiasBits: []int{model.DefaultBiasBits(4, 255)}},
	}
}

// randomCNN draws a valid model of arch a.
func randomCNN(t *testing.T, a model.ConvArch, seed uint64) *model.ConvModel {
	t.Helper()
	m, err := train.RandomConv(a, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cnnFixture is the tiny CNN with devnet keys of its inference and 4-row
// accuracy circuits and one valid proof of each.
type cnnFixture struct {
	arch             model.ConvArch
	ra               registry.Arch
	m, other         *model.ConvModel
	com, com2        model.Digest
	infSpec, accSpec registry.Spec
	infVK, accVK     []byte
	gnark            string
	x                []int
	class            int
	infProof         []byte
	ds               *model.Dataset
	tsh              model.Digest
	k                int
	accProof         []byte
	infConstraints   int
	accConstraints   int
}

var (
	cnnOnce sync.Once
	cnnFix  *cnnFixture
)

func getCNN(t *testing.T) *cnnFixture {
	t.Helper()
	cnnOnce.Do(func() { cnnFix = buildCNN(t) })
	if cnnFix == nil {
		t.Fatal("cnn fixture failed in an earlier test")
	}
	return cnnFix
}

func buildCNN(t *testing.T) *cnnFixture {
	f := &cnnFixture{arch: tinyCNNArch()}
	a := f.arch
	f.m, f.other = randomCNN(t, a, 1), randomCNN(t, a, 2)
	var err error
	if f.ra, err = registry.ConvArchOf(a); err != nil {
		t.Fatal(err)
	}
	f.com, _ = f.m.ComputeCommitment()
	f.com2, _ = f.other.ComputeCommitment()
	f.infSpec = registry.Spec{Kind: registry.KindInference, Arch: f.ra}
	f.accSpec = registry.Spec{Kind: registry.KindAccuracy, Arch: f.ra, Rows: 4}
	infKeys, _ := setupKeys(t, "cnn-inference", prover.Spec{Kind: prover.KindConvInference, Conv: &a})
	accKeys, _ := setupKeys(t, "cnn-accuracy", prover.Spec{Kind: prover.KindConvAccuracy, Conv: &a, Rows: 4})
	var man *prover.Manifest
	f.infVK, man = vkFile(t, "cnn-inference")
	f.accVK, _ = vkFile(t, "cnn-accuracy")
	f.gnark = man.Gnark
	f.infConstraints, f.accConstraints = infKeys.CCS.GetNbConstraints(), accKeys.CCS.GetNbConstraints()

	rng := rand.New(rand.NewPCG(7, 7))
	image := func() []int {
		x := make([]int, a.NumInputs())
		for i := range x {
			x[i] = rng.IntN(16)
		}
		return x
	}
	f.x = image()
	ia, class, err := circuit.ConvInferenceAssignment(f.m, f.x)
	if err != nil {
		t.Fatal(err)
	}
	f.class = class
	if f.infProof, _, err = infKeys.Prove(ia); err != nil {
		t.Fatal(err)
	}
	f.ds = &model.Dataset{}
	for r := range 4 {
		x := image()
		p, _ := f.m.Predict(x)
		if r == 1 {
			p = (p + 1) % 3
		}
		f.ds.X, f.ds.Y = append(f.ds.X, x), append(f.ds.Y, p)
	}
	aa, k, err := circuit.ConvAccuracyAssignment(f.m, f.ds, -1)
	if err != nil {
		t.Fatal(err)
	}
	f.k = k
	if f.accProof, _, err = accKeys.Prove(aa); err != nil {
		t.Fatal(err)
	}
	if f.tsh, err = a.InputArch().TestSetHash(f.ds); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCNNOnChain: a CNN's inference and 4-row accuracy circuits are
// registered with devnet keys, the model is committed, and its inference
// and accuracy proofs verify in the handler; proofs of other statements, a
// circuit of the other kind of arch and out-of-bounds specs are refused
// with the state unchanged.
func TestCNNOnChain(t *testing.T) {
	f := getCNN(t)
	a, ra := f.arch, f.ra
	if got := ra.ConvModel(); got.Height != a.Height || got.Head.InBits != model.ActBits || !got.Head.Equal(a.Head) {
		t.Fatalf("registry arch %s does not round-trip: %+v", ra, got)
	}
	infSpec, accSpec, infVK, accVK := f.infSpec, f.accSpec, f.infVK, f.accVK
	t.Logf("cnn inference %d constraints, accuracy over 4 rows %d", f.infConstraints, f.accConstraints)
	x, class, infProof, ds, k, accProof := f.x, f.class, f.infProof, f.ds, f.k, f.accProof

	h := newHarness(t, 4, 1_000_000)
	reg := func(spec registry.Spec, vk []byte) *registry.MsgRegisterCircuit {
		return &registry.MsgRegisterCircuit{Spec: spec, VerifyingKey: vk, Gnark: f.gnark}
	}
	h.mustFail("cnn inference key under the cnn accuracy spec", 3, reg(accSpec, infVK), chain.ErrInvalidRequest, "public inputs")
	h.mustRun(3, reg(infSpec, infVK))
	h.mustRun(3, reg(accSpec, accVK))
	infID, accID := registry.CircuitID(infSpec, infVK), registry.CircuitID(accSpec, accVK)
	com, com2 := f.com, f.com2
	h.mustRun(1, &registry.MsgCommitModel{Commitment: com, Arch: ra, Name: "cnn"})    // model 1
	h.mustRun(2, &registry.MsgCommitModel{Commitment: com2, Arch: ra, Name: "other"}) // model 2
	tsh, err := a.InputArch().TestSetHash(ds)
	if err != nil {
		t.Fatal(err)
	}
	h.mustRun(4, &registry.MsgRegisterTestSet{Hash: tsh, Shape: registry.ShapeOf(ra), Name: "cnn-4", Rows: rows(ds)})

	inf := func(modelID uint64, x []int, class int) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: infID, Model: modelID, Proof: infProof,
			Inference: &registry.InferenceClaim{Input: u32s(x), Class: uint32(class)}}
	}
	acc := func(modelID uint64, k int) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: accID, Model: modelID, Proof: accProof,
			Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: 4, K: uint32(k)}}
	}
	const invalid = "proof does not verify"
	h.mustFail("wrong class", 1, inf(1, x, (class+1)%3), chain.ErrInvalidRequest, invalid)
	h.mustFail("another model's commitment", 1, inf(2, x, class), chain.ErrInvalidRequest, invalid)
	x2 := append([]int{}, x...)
	x2[3] ^= 1
	h.mustFail("another image", 1, inf(1, x2, class), chain.ErrInvalidRequest, invalid)
	h.mustFail("class out of range", 1, inf(1, x, 3), chain.ErrInvalidRequest, "class 3 out of")
	h.mustFail("pixel out of range", 1, inf(1, append(append([]int{}, x[:24]...), 16), class), chain.ErrInvalidRequest, "out of [0, 16)")
	h.mustFail("over-claim", 1, acc(1, k+1), chain.ErrInvalidRequest, invalid)
	h.mustFail("another model's accuracy", 1, acc(2, k), chain.ErrInvalidRequest, invalid)

	// An MLP of the same input shape cannot use the CNN's circuits, nor
	// the CNN an MLP's.
	mlp := model.Arch{Sizes: []int{25, 3}, InBits: 4, Shifts: []int{}, BiasBits: []int{model.DefaultBiasBits(25, 15)}}
	rmlp, err := registry.ArchOf(mlp)
	if err != nil {
		t.Fatal(err)
	}
	h.mustRun(1, &registry.MsgCommitModel{Commitment: com2, Arch: rmlp, Name: "mlp"}) // model 3
	h.mustFail("cnn circuit for an mlp", 1, inf(3, x, class), chain.ErrInvalidRequest, "is for arch cnn 5x5/in4 1x2x2>>2 pool2 4-3, model 3 is 25-3/in4")

	h.mustRun(4, inf(1, x, class))
	h.mustRun(4, acc(1, k))
	claims := registry.Claims(h.KV, 1)
	if len(claims) != 2 || claims[0].Kind != registry.KindInference || claims[1].Kind != registry.KindAccuracy ||
		claims[1].Accuracy.K != uint32(k) || *claims[1].AccuracyBps != uint32(k*10_000/4) || claims[1].Trust != registry.TrustSingleParty {
		t.Fatalf("claims %+v", claims)
	}
	h.mustFail("the same inference again", 2, inf(1, x, class), chain.ErrConflict, "already recorded")

	// Bounds: ValidateBasic refuses before any circuit is built.
	big := func(f func(*registry.Conv)) registry.Arch {
		b := ra
		c := *ra.Conv
		f(&c)
		b.Conv = &c
		return b
	}
	for _, bad := range []struct {
		what, want string
		arch       registry.Arch
	}{
		{"65 channels", "65 channels", big(func(c *registry.Conv) { c.Channels = 65 })},
		{"huge image", "is over 64x64", big(func(c *registry.Conv) { c.Height, c.Width = 1<<20, 1<<20 })},
		{"kernel over the image", "does not fit", big(func(c *registry.Conv) { c.Kernel = 6 })},
		{"too many taps", "kernel taps per image", big(func(c *registry.Conv) { c.Height, c.Width, c.Kernel, c.Channels = 64, 64, 16, 64 })},
		{"head of the wrong width", "head takes 4 inputs", big(func(c *registry.Conv) { c.Channels = 2 })},
		{"zero pool", "pool 0", big(func(c *registry.Conv) { c.Pool = 0 })},
	} {
		h.mustFail(bad.what, 3, reg(registry.Spec{Kind: registry.KindInference, Arch: bad.arch}, infVK), chain.ErrInvalidRequest, bad.want)
		h.mustFail(bad.what+" (model)", 3, &registry.MsgCommitModel{Commitment: com, Arch: bad.arch, Name: "bad"}, chain.ErrInvalidRequest, bad.want)
	}
	h.mustFail("cnn from a compute job", 1, &registry.MsgCommitModel{Commitment: com, Arch: ra, Name: "job",
		Source: &registry.ModelSource{ComputeJob: 1, Archive: []byte{1}}}, chain.ErrInvalidRequest, "cannot name a compute job")
	// The digits CNN's convolution (sixteen 3x3 channels on 8x8) is over
	// what a ceremony compiles, even with few weights behind it.
	wide := model.ConvArch{Height: 8, Width: 8, InBits: 4, Kernel: 3, Channels: 16, Shift: 7, BiasBits: 16, Pool: 3,
		Head: model.Arch{Sizes: []int{64, 10}, InBits: model.ActBits, Shifts: []int{}, BiasBits: []int{model.DefaultBiasBits(64, 255)}}}
	rw, err := registry.ConvArchOf(wide)
	if err != nil {
		t.Fatal(err)
	}
	h.mustFail("digits-size cnn ceremony", 3, &registry.MsgOpenCeremony{
		Spec: registry.Spec{Kind: registry.KindInference, Arch: rw}, Quorum: 1, PhaseBlocks: 1}, chain.ErrInvalidRequest, "5184 kernel taps over its rows")
	h.mustFail("cnn accuracy ceremony over 64 rows", 3, &registry.MsgOpenCeremony{
		Spec: registry.Spec{Kind: registry.KindAccuracy, Arch: ra, Rows: 64}, Quorum: 1, PhaseBlocks: 1}, chain.ErrInvalidRequest, "has 20566 constraints")
}

// TestCNNCeremony: the chain compiles the tiny CNN's inference circuit,
// runs both phases with two contributors, derives the key and verifies a
// proof made with the ceremony's keys; the claim passes the trust rule.
func TestCNNCeremony(t *testing.T) {
	a := tinyCNNArch()
	m := randomCNN(t, a, 1)
	ra, err := registry.ConvArchOf(a)
	if err != nil {
		t.Fatal(err)
	}
	spec := registry.Spec{Kind: registry.KindInference, Arch: ra}
	h := newCeremonyHarness(t)
	h.mustSend(1, &registry.MsgOpenCeremony{Spec: spec, Quorum: 2, PhaseBlocks: 1})
	c := h.data(1).Ceremony
	t.Logf("cnn ceremony: %d constraints, domain %d", c.Constraints, c.Domain)
	for phase := registry.PhaseOne; phase <= registry.PhaseTwo; phase++ {
		h.mustSend(3, h.contribution(1))
		h.mustSend(4, h.contribution(1))
		h.endBlock()
		h.endBlock()
	}
	c = h.data(1).Ceremony
	if c.Phase != registry.PhaseSealed {
		t.Fatalf("ceremony in phase %d (%s)", c.Phase, c.Failure)
	}
	keys := proverKeys(t, h, 1)
	com, _ := m.ComputeCommitment()
	h.mustSend(1, &registry.MsgCommitModel{Commitment: com, Arch: ra, Name: "cnn"})
	x := make([]int, a.NumInputs())
	for i := range x {
		x[i] = (i * 5) % 16
	}
	ia, class, err := circuit.ConvInferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	proof, _, err := keys.Prove(ia)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(class int) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: c.Circuit, Model: 1, Proof: proof,
			Inference: &registry.InferenceClaim{Input: u32s(x), Class: uint32(class)}}
	}
	h.reject("wrong class under the ceremony key", 2, msg((class+1)%3), chain.ErrInvalidRequest, "proof does not verify")
	h.mustSend(2, msg(class))
	claim := registry.Claims(h.KV, 1)[0]
	if claim.Trust != registry.TrustCeremony {
		t.Fatalf("claim trust %q", claim.Trust)
	}
	if err := registry.RequireTrustedClaim(h.KV, claim, 2); err != nil {
		t.Fatalf("ceremony claim refused by the trust rule: %v", err)
	}
	if err := registry.RequireTrustedClaim(h.KV, claim, 3); !errors.Is(err, chain.ErrUnauthorized) {
		t.Fatalf("two contributors passed a rule of three: %v", err)
	}
}

// TestDigitsCNNOnChain is the digits CNN (train.DigitsCNNConfig) through the
// registry: trained and quantized, its inference circuit set up, one
// held-out image proven and the proof verified by the handler (slow: the
// training takes minutes; set ZKML_CNN=1).
func TestDigitsCNNOnChain(t *testing.T) {
	if os.Getenv("ZKML_CNN") == "" {
		t.Skip("set ZKML_CNN=1 to train the digits CNN and prove it through the registry")
	}
	ds, err := model.LoadCSV(filepath.Join("..", "..", model.DigitsPath))
	if err != nil {
		t.Fatal(err)
	}
	trainSet, _ := ds.Slice(0, model.DigitsTrainRows)
	test, _ := ds.Slice(model.DigitsTrainRows, ds.Len())
	t0 := time.Now()
	m, err := train.TrainCNN(trainSet, 10, train.DigitsCNNConfig())
	if err != nil {
		t.Fatal(err)
	}
	trained := time.Since(t0)
	correct, _ := m.Accuracy(test)
	ra, err := registry.ConvArchOf(m.Arch)
	if err != nil {
		t.Fatal(err)
	}
	keys, setupTook := setupKeys(t, "digits-cnn-inference", prover.Spec{Kind: prover.KindConvInference, Conv: &m.Arch})
	vk, man := vkFile(t, "digits-cnn-inference")
	x := test.X[0]
	a, class, err := circuit.ConvInferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	proof, _, err := keys.Prove(a)
	if err != nil {
		t.Fatal(err)
	}
	proveTook := time.Since(t0)

	h := newHarness(t, 3, 1_000_000)
	spec := registry.Spec{Kind: registry.KindInference, Arch: ra}
	h.mustRun(3, &registry.MsgRegisterCircuit{Spec: spec, VerifyingKey: vk, Gnark: man.Gnark, Setup: man.Setup})
	com, _ := m.ComputeCommitment()
	h.mustRun(1, &registry.MsgCommitModel{Commitment: com, Arch: ra, Name: "digits-cnn"})
	msg := func(class int) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: registry.CircuitID(spec, vk), Model: 1, Proof: proof,
			Inference: &registry.InferenceClaim{Input: u32s(x), Class: uint32(class)}}
	}
	h.mustFail("wrong class", 2, msg((class+1)%10), chain.ErrInvalidRequest, "proof does not verify")
	t0 = time.Now()
	h.mustRun(2, msg(class))
	verifyTook := time.Since(t0)
	if c := registry.Claims(h.KV, 1); len(c) != 1 || c[0].Inference.Class != uint32(class) {
		t.Fatalf("claims %+v", c)
	}
	t.Logf("digits cnn %s: %d/%d held-out, trained in %v; %d constraints, compile+setup %v, prove %v, submit-proof handler (verify and record) %v",
		ra, correct, test.Len(), trained.Round(time.Second), man.Constraints, setupTook.Round(100*time.Millisecond),
		proveTook.Round(time.Millisecond), verifyTook.Round(100*time.Microsecond))
}

// Arbitrary CNN archs, as a transaction may carry them, are either valid
// or refused with an invalid-request error; none panics or reaches a
// circuit over the bounds.
func TestConvArchValidateIsTotal(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	pick := func() uint32 {
		switch rng.IntN(4) {
		case 0:
			return uint32(rng.IntN(4))
		case 1:
			return uint32(rng.IntN(70))
		case 2:
			return rng.Uint32()
		}
		return uint32(rng.IntN(20))
	}
	base, err := registry.ConvArchOf(tinyCNNArch())
	if err != nil {
		t.Fatal(err)
	}
	valid := 0
	for i := range 20_000 {
		a := registry.Arch{InBits: pick() % 10, Conv: &registry.Conv{Height: pick(), Width: pick(), Kernel: pick(), Channels: pick(),
			Shift: pick(), BiasBits: pick(), Pool: pick()}}
		for range rng.IntN(4) {
			a.Sizes = append(a.Sizes, pick())
		}
		for range rng.IntN(3) {
			a.Shifts, a.BiasBits = append(a.Shifts, pick()), append(a.BiasBits, pick())
		}
		if i%2 == 0 {
			// The valid tiny arch with one field of the convolution redrawn.
			c := *base.Conv
			f := []*uint32{&c.Height, &c.Width, &c.Kernel, &c.Channels, &c.Shift, &c.BiasBits, &c.Pool}
			*f[rng.IntN(len(f))] = pick()
			a = base
			a.Conv = &c
		}
		err := a.Validate()
		if err == nil {
			valid++
			if a.ConvTaps() > registry.MaxConvTaps || a.ConvModel().Validate() != nil {
				t.Fatalf("arch %s passed over the bounds", a)
			}
			continue
		}
		if !errors.Is(err, chain.ErrInvalidRequest) {
			t.Fatalf("arch %+v: %v", a, err)
		}
	}
	t.Logf("%d of 20000 random archs valid", valid)
}
