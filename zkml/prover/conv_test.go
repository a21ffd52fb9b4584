package prover

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/train"
)

// A tiny trained CNN proves its inference with Groth16 and the proof
// verifies; the same proof with another class or commitment does not.
func TestConvInferenceProof(t *testing.T) {
	ds, err := model.LoadCSV("../../datasets/digits/digits.csv.gz")
	if err != nil {
		t.Fatalf("digits data not available: %v", err)
	}
	rows, _ := ds.Slice(0, 200)
	cfg := train.CNNConfig{Height: 8, Width: 8, Channels: 1, Epochs: 2, Seed: 5}
	cfg.Head = train.TrainConfig{Hidden: []int{8}, Epochs: 5}
	m, err := train.TrainCNN(rows, 10, cfg)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Kind: KindConvInference, Conv: &m.Arch}
	ccs, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := Setup(spec, ccs)
	if err != nil {
		t.Fatal(err)
	}
	a, cls, err := circuit.ConvInferenceAssignment(m, ds.X[1500])
	if err != nil {
		t.Fatal(err)
	}
	proof, pub, err := keys.Prove(a)
	if err != nil {
		t.Fatal(err)
	}
	vk, err := keys.VerifyingKeyBytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := zkml.Verify(vk, proof, pub); err != nil {
		t.Fatalf("cnn proof rejected: %v", err)
	}
	last := len(pub) - 1
	bad := append([]fr.Element(nil), pub...)
	bad[last].SetUint64(uint64((cls + 1) % 10))
	if zkml.Verify(vk, proof, bad) == nil {
		t.Fatal("cnn proof accepted for another class")
	}
	bad = append([]fr.Element(nil), pub...)
	bad[0].SetUint64(1)
	if zkml.Verify(vk, proof, bad) == nil {
		t.Fatal("cnn proof accepted for another commitment")
	}
	t.Logf("tiny cnn %d constraints, class %d", ccs.GetNbConstraints(), cls)
}
