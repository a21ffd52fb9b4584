package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// digitsTrain is the smallest digits MLP found to reach 90% on the 360
// held-out rows: 64-8-10 reaches 330/360 with this seed and noise (64-6-10
// peaks at 324, 64-10-10 also at 330). The accuracy circuit grows ~3k
// constraints per hidden unit over a ~90k base (unpacking and hashing the
// test set), so the hidden width is what the setup time depends on.
func digitsTrain() train.TrainConfig {
	return train.TrainConfig{Hidden: []int{8}, Epochs: 60, Seed: 3, Noise: 0.2}
}

// TestDigitsAccuracyOnDevnet is the end-to-end claim: a digits MLP is
// trained and quantized, its commitment goes on a real node, the public test
// split (the last 360 rows) is registered inline so the chain recomputes its
// hash, and a Groth16 proof that the model classifies K of the 360 rows
// correctly is verified inside the chain's handler; K equals the count from
// plain integer inference. Groth16 setup of the ~112k-constraint circuit
// dominates: 26-35 s of the test's 30-40 s on 2 idle cores (2 min on a loaded
// machine); -short skips it.
func TestDigitsAccuracyOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the digits accuracy circuit takes a Groth16 setup of ~35 s on 2 cores")
	}
	start := time.Now()
	path := filepath.Join("..", "..", model.DigitsPath)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("digits data not found at %s", path)
	}
	ds, err := model.LoadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	trainSet, err := ds.Slice(0, model.DigitsTrainRows)
	if err != nil {
		t.Fatal(err)
	}
	test, err := ds.Slice(model.DigitsTrainRows, ds.Len())
	if err != nil {
		t.Fatal(err)
	}
	fm, err := train.Train(trainSet, 10, digitsTrain())
	if err != nil {
		t.Fatal(err)
	}
	m, err := train.Quantize(fm, trainSet, train.QuantizeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := m.Accuracy(test) // plain integer inference, outside any circuit
	if err != nil {
		t.Fatal(err)
	}
	n := test.Len()
	if n != 360 || plain*10 < n*9 {
		t.Fatalf("quantized %s: %d of %d correct, want >= 90%% of 360", m.Arch, plain, n)
	}
	com, err := m.ComputeCommitment()
	if err != nil {
		t.Fatal(err)
	}
	tsh, err := m.Arch.TestSetHash(test)
	if err != nil {
		t.Fatal(err)
	}

	spec := prover.Spec{Kind: prover.KindAccuracy, Arch: m.Arch, Rows: n}
	keys, setupTook := setupKeys(t, "digits-accuracy", spec)
	assignment, k, err := circuit.AccuracyAssignment(m, test, -1)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	proof, _, err := keys.Prove(assignment)
	if err != nil {
		t.Fatal(err)
	}
	proveTook := time.Since(t0)
	vk, manifest := vkFile(t, "digits-accuracy")

	net := testnode.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := net.Client
	// Key 0 owns the model, key 1 audits it (proves and submits), key 2 ran
	// the setup and registers the circuit.
	submit := func(key int, msg chain.Msg) error {
		_, err := c.Submit(ctx, net.Keys[key], msg, client.Options{})
		return err
	}

	arch, err := registry.ArchOf(m.Arch)
	if err != nil {
		t.Fatal(err)
	}
	rspec := registry.Spec{Kind: registry.KindAccuracy, Arch: arch, Rows: uint32(n)}
	if err := submit(2, &registry.MsgRegisterCircuit{Spec: rspec, VerifyingKey: vk, Gnark: manifest.Gnark, Setup: manifest.Setup}); err != nil {
		t.Fatalf("register circuit: %v", err)
	}
	if err := submit(0, &registry.MsgCommitModel{Commitment: com, Arch: arch, Name: "digits-" + m.Arch.String()}); err != nil {
		t.Fatalf("commit model: %v", err)
	}
	if err := submit(1, &registry.MsgRegisterTestSet{Hash: tsh, Shape: registry.ShapeOf(arch), Name: "digits-test-360", Rows: rows(test)}); err != nil {
		t.Fatalf("register test set: %v", err)
	}
	circuitID := registry.CircuitID(rspec, vk)
	claim := func(k int) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: circuitID, Model: 1, Proof: proof,
			Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: uint32(n), K: uint32(k)}}
	}

	// An over-claim with the genuine proof is refused in CheckTx and costs
	// the auditor nothing.
	before, err := c.Balance(ctx, net.Addr(1))
	if err != nil {
		t.Fatal(err)
	}
	err = submit(1, claim(k+1))
	var txErr *client.TxError
	if !errors.As(err, &txErr) || txErr.Res.Code != chain.ErrInvalidRequest.Code || !strings.Contains(txErr.Res.Log, "proof does not verify") {
		t.Fatalf("over-claim: %v", err)
	}
	if after, _ := c.Balance(ctx, net.Addr(1)); after != before {
		t.Fatalf("rejected proof changed the balance: %d -> %d", before, after)
	}

	// The auditor (not the owner) submits the genuine proof.
	if err := submit(1, claim(k)); err != nil {
		t.Fatalf("submit proof: %v", err)
	}
	if after, _ := c.Balance(ctx, net.Addr(1)); before-after != chain.DefaultParams().MinFee+registry.VerifyFee {
		t.Fatalf("submit-proof cost %d, want the min fee plus %d", before-after, registry.VerifyFee)
	}
	var claims []registry.Claim
	if err := c.Query(ctx, "zkml", "claims/1", nil, &claims); err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 {
		t.Fatalf("claims: %+v", claims)
	}
	got := claims[0]
	if got.Kind != registry.KindAccuracy || got.Commitment != com || got.Circuit != circuitID || got.Prover != net.Addr(1) ||
		got.Accuracy == nil || got.Accuracy.TestSet != tsh || int(got.Accuracy.N) != n || int(got.Accuracy.K) != plain ||
		got.AccuracyBps == nil || int(*got.AccuracyBps) != plain*10_000/n {
		t.Fatalf("recorded claim %+v (bps %v), want %d of %d under %s", got, got.AccuracyBps, plain, n, circuitID)
	}
	var mrec registry.Model
	if err := c.Query(ctx, "zkml", "model/1", nil, &mrec); err != nil || mrec.Claims != 1 || mrec.Owner != net.Addr(0) {
		t.Fatalf("model record %+v: %v", mrec, err)
	}
	t.Logf("digits %s: claim %d/%d = %d bps verified on chain at height %d (plain integer inference: %d/%d); "+
		"compile+setup %v (%d constraints), prove %v, %d-byte proof, %d-byte key; test total %v",
		m.Arch, got.Accuracy.K, got.Accuracy.N, *got.AccuracyBps, got.Height, plain, n,
		setupTook.Round(time.Second), manifest.Constraints, proveTook.Round(10*time.Millisecond), len(proof), len(vk),
		time.Since(start).Round(time.Second))
}
