package zkml_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/train"
)

// tinyArch keeps setups in tests around a second.
func tinyArch() model.Arch {
	a := model.Arch{Sizes: []int{8, 6, 3}, InBits: 4, Shifts: []int{4}}
	a.BiasBits = []int{model.DefaultBiasBits(8, 15), model.DefaultBiasBits(6, model.ActMax)}
	return a
}

var (
	setupOnce sync.Map // spec string -> *prover.Keys
)

func keysFor(t *testing.T, spec prover.Spec) *prover.Keys {
	t.Helper()
	key := string(spec.Kind) + spec.Arch.String()
	if spec.TestSet != nil {
		key += "/fixed"
	}
	if k, ok := setupOnce.Load(key); ok {
		return k.(*prover.Keys)
	}
	ccs, err := prover.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	k, err := prover.Setup(spec, ccs)
	if err != nil {
		t.Fatal(err)
	}
	setupOnce.Store(key, k)
	return k
}

func randomInput(rng *rand.Rand, a model.Arch) []int {
	x := make([]int, a.NumInputs())
	for i := range x {
		x[i] = rng.IntN(1 << a.InBits)
	}
	return x
}

func mustModel(t *testing.T, seed uint64) *model.Model {
	t.Helper()
	m, err := train.RandomModel(tinyArch(), seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInferenceProofs(t *testing.T) {
	arch := tinyArch()
	keys := keysFor(t, prover.Spec{Kind: prover.KindInference, Arch: arch})
	vk, err := keys.VerifyingKeyBytes()
	if err != nil {
		t.Fatal(err)
	}
	m, other := mustModel(t, 1), mustModel(t, 2)
	rng := rand.New(rand.NewPCG(1, 2))
	x := randomInput(rng, arch)
	a, cls, err := circuit.InferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	proof, pub, err := keys.Prove(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(proof) > 256 {
		t.Errorf("proof is %d bytes", len(proof))
	}
	com, _ := m.ComputeCommitment()
	claim := zkml.InferenceClaim{Model: com, Input: x, Class: cls}
	if err := zkml.VerifyInference(vk, proof, arch, claim); err != nil {
		t.Fatalf("valid proof rejected: %v", err)
	}
	parsed, err := zkml.ParseInferenceClaim(arch, pub)
	if err != nil || parsed.Model != com || parsed.Class != cls || len(parsed.Input) != len(x) {
		t.Fatalf("claim read back as %+v, %v", parsed, err)
	}

	bad := func(name string, c zkml.InferenceClaim, p []byte) {
		t.Helper()
		err := zkml.VerifyInference(vk, p, arch, c)
		if !errors.Is(err, zkml.ErrInvalidProof) {
			t.Errorf("%s: got %v, want ErrInvalidProof", name, err)
		}
	}
	oc, _ := other.ComputeCommitment()
	bad("other model", zkml.InferenceClaim{Model: oc, Input: x, Class: cls}, proof)
	x2 := append([]int(nil), x...)
	x2[0] ^= 1
	bad("other input", zkml.InferenceClaim{Model: com, Input: x2, Class: cls}, proof)
	bad("other class", zkml.InferenceClaim{Model: com, Input: x, Class: (cls + 1) % arch.NumClasses()}, proof)
	for _, i := range []int{0, 40, 100, len(proof) - 1} {
		tp := append([]byte(nil), proof...)
		tp[i] ^= 0x04
		bad("tampered proof", claim, tp)
	}
	bad("truncated proof", claim, proof[:len(proof)-1])

	// Tampered raw public input.
	pub2 := append([]fr.Element(nil), pub...)
	pub2[1].Add(&pub2[1], new(fr.Element).SetOne())
	if err := zkml.Verify(vk, proof, pub2); !errors.Is(err, zkml.ErrInvalidProof) {
		t.Errorf("tampered public input: %v", err)
	}
	// A proof of the other model for the same input does not verify under this model.
	ao, clsO, _ := circuit.InferenceAssignment(other, x)
	po, _, err := keys.Prove(ao)
	if err != nil {
		t.Fatal(err)
	}
	bad("proof for other weights", zkml.InferenceClaim{Model: com, Input: x, Class: clsO}, po)
}

func TestInferenceCannotProveWrongClass(t *testing.T) {
	arch := tinyArch()
	keys := keysFor(t, prover.Spec{Kind: prover.KindInference, Arch: arch})
	m := mustModel(t, 1)
	a, cls, _ := circuit.InferenceAssignment(m, randomInput(rand.New(rand.NewPCG(3, 3)), arch))
	a.Class = (cls + 1) % arch.NumClasses()
	if _, _, err := keys.Prove(a); err == nil {
		t.Fatal("proved a wrong class")
	}
}

func TestAccuracyProofs(t *testing.T) {
	arch := tinyArch()
	const rows = 6
	keys := keysFor(t, prover.Spec{Kind: prover.KindAccuracy, Arch: arch, Rows: rows})
	vk, _ := keys.VerifyingKeyBytes()
	m := mustModel(t, 7)
	rng := rand.New(rand.NewPCG(8, 9))
	ds := &model.Dataset{}
	for r := range rows {
		x := randomInput(rng, arch)
		p, _ := m.Predict(x)
		if r%3 == 0 {
			p = (p + 1) % arch.NumClasses()
		}
		ds.X, ds.Y = append(ds.X, x), append(ds.Y, p)
	}
	a, k, err := circuit.AccuracyAssignment(m, ds, -1)
	if err != nil {
		t.Fatal(err)
	}
	if k != 4 {
		t.Fatalf("true count %d, want 4", k)
	}
	proof, pub, err := keys.Prove(a)
	if err != nil {
		t.Fatal(err)
	}
	com, _ := m.ComputeCommitment()
	tsh, _ := arch.TestSetHash(ds)
	claim := zkml.AccuracyClaim{Model: com, TestSet: tsh, N: rows, K: k}
	if err := zkml.VerifyAccuracy(vk, proof, claim); err != nil {
		t.Fatalf("valid proof rejected: %v", err)
	}
	if got, err := zkml.ParseAccuracyClaim(pub); err != nil || got != claim {
		t.Fatalf("claim read back as %+v, %v", got, err)
	}
	bad := func(name string, c zkml.AccuracyClaim) {
		t.Helper()
		if err := zkml.VerifyAccuracy(vk, proof, c); !errors.Is(err, zkml.ErrInvalidProof) {
			t.Errorf("%s: got %v, want ErrInvalidProof", name, err)
		}
	}
	c := claim
	c.K++
	bad("higher count", c)
	other := &model.Dataset{X: ds.X, Y: append([]int(nil), ds.Y...)}
	other.Y[0] = (other.Y[0] + 1) % arch.NumClasses()
	c = claim
	c.TestSet, _ = arch.TestSetHash(other)
	bad("test set that does not match its hash", c)
	c = claim
	c.Model, _ = mustModel(t, 8).ComputeCommitment()
	bad("other model", c)
	c = claim
	c.K = rows + 1
	if err := zkml.VerifyAccuracy(vk, proof, c); err == nil {
		t.Error("k > n accepted")
	}
	if _, _, err := circuit.AccuracyAssignment(m, ds, k+1); err == nil {
		t.Error("over-claim assigned")
	}
	// The prover cannot cheat by hashing one test set and evaluating another.
	a2, _, _ := circuit.AccuracyAssignment(m, other, -1)
	a2.TestSetHash = tsh.BigInt()
	if _, _, err := keys.Prove(a2); err == nil {
		t.Error("proved over a test set that does not match the public hash")
	}
}

// TestFixedAccuracyProofs: keys with the test set compiled in prove the same
// claims and refuse any other test set.
func TestFixedAccuracyProofs(t *testing.T) {
	arch := tinyArch()
	m := mustModel(t, 7)
	rng := rand.New(rand.NewPCG(10, 11))
	ds := &model.Dataset{}
	for range 4 {
		x := randomInput(rng, arch)
		p, _ := m.Predict(x)
		ds.X, ds.Y = append(ds.X, x), append(ds.Y, p)
	}
	keys := keysFor(t, prover.Spec{Kind: prover.KindAccuracy, Arch: arch, Rows: ds.Len(), TestSet: ds})
	vk, _ := keys.VerifyingKeyBytes()
	pf, err := keys.ProveAccuracy(m, ds, -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := zkml.VerifyAccuracy(vk, pf.Proof, *pf.Accuracy); err != nil {
		t.Fatalf("valid proof rejected: %v", err)
	}
	other := &model.Dataset{X: ds.X, Y: append([]int(nil), ds.Y...)}
	other.Y[1] = (other.Y[1] + 1) % arch.NumClasses()
	c := *pf.Accuracy
	c.TestSet, _ = arch.TestSetHash(other)
	c.K--
	if err := zkml.VerifyAccuracy(vk, pf.Proof, c); !errors.Is(err, zkml.ErrInvalidProof) {
		t.Errorf("claim about another test set: %v", err)
	}
	if _, err := keys.ProveAccuracy(m, other, -1); err == nil {
		t.Error("proved over a test set the keys do not embed")
	}
}

func TestVerifyingKeyBounds(t *testing.T) {
	keys := keysFor(t, prover.Spec{Kind: prover.KindInference, Arch: tinyArch()})
	vk, _ := keys.VerifyingKeyBytes()
	if _, err := zkml.ParseVerifyingKey(vk); err != nil {
		t.Fatal(err)
	}
	huge := append([]byte(nil), vk...)
	// The K length prefix sits after six points (3 G1 + 3 G2, compressed).
	huge[3*32+3*64] = 0xff
	if _, err := zkml.ParseVerifyingKey(huge); err == nil {
		t.Fatal("oversized length prefix accepted")
	}
	if _, err := zkml.ParseVerifyingKey(vk[:len(vk)-1]); err == nil {
		t.Fatal("truncated key accepted")
	}
	if _, err := zkml.ParseVerifyingKey(make([]byte, zkml.MaxVerifyingKeyBytes+1)); err == nil {
		t.Fatal("oversized key accepted")
	}
	k, _ := zkml.ParseVerifyingKey(vk)
	if err := k.Verify(make([]byte, 5000), nil); err == nil {
		t.Fatal("oversized proof accepted")
	}
}

// TestMutatedInputsDoNotPanic flips random bytes of a valid key and proof:
// parsing and verification must fail cleanly (the chain feeds them untrusted
// bytes).
func TestMutatedInputsDoNotPanic(t *testing.T) {
	arch := tinyArch()
	keys := keysFor(t, prover.Spec{Kind: prover.KindInference, Arch: arch})
	vk, _ := keys.VerifyingKeyBytes()
	m := mustModel(t, 1)
	a, _, _ := circuit.InferenceAssignment(m, randomInput(rand.New(rand.NewPCG(1, 2)), arch))
	proof, pub, err := keys.Prove(a)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 42))
	for range 200 {
		v := append([]byte(nil), vk...)
		p := append([]byte(nil), proof...)
		for range 1 + rng.IntN(3) {
			v[rng.IntN(len(v))] ^= byte(1 + rng.IntN(255))
			p[rng.IntN(len(p))] ^= byte(1 + rng.IntN(255))
		}
		_ = zkml.Verify(v, proof, pub)
		if zkml.Verify(vk, p, pub) == nil {
			t.Fatal("mutated proof verified")
		}
	}
}
