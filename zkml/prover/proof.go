package prover

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
)

// ProofFormat is the "format" of proof files.
const ProofFormat = "tenun-zkml-proof/v1"

// ProofFile is what `tenun zk prove` writes: the claim in readable form,
// the proof in gnark's compressed binary format (base64 in JSON) and the
// public inputs it proves (hex), which verification recomputes from the
// claim rather than trusting.
type ProofFile struct {
	Format       string               `json:"format"`
	Kind         Kind                 `json:"kind"`
	Arch         model.Arch           `json:"arch"`
	Inference    *zkml.InferenceClaim `json:"inference,omitempty"`
	Accuracy     *zkml.AccuracyClaim  `json:"accuracy,omitempty"`
	Proof        []byte               `json:"proof"`
	PublicInputs []string             `json:"public_inputs"`
	Gnark        string               `json:"gnark"`
}

// ProveInference proves that m classifies x and returns the proof file.
func (k *Keys) ProveInference(m *model.Model, x []int) (*ProofFile, error) {
	if k.Spec.Kind != KindInference {
		return nil, fmt.Errorf("keys are for %s proofs", k.Spec.Kind)
	}
	if !k.Spec.Arch.Equal(m.Arch) {
		return nil, fmt.Errorf("keys are for arch %s, model is %s: %s (keys vs model)", k.Spec.Arch, m.Arch, k.Spec.Arch.Diff(m.Arch))
	}
	a, cls, err := circuit.InferenceAssignment(m, x)
	if err != nil {
		return nil, err
	}
	proof, pub, err := k.Prove(a)
	if err != nil {
		return nil, err
	}
	com, err := m.ComputeCommitment()
	if err != nil {
		return nil, err
	}
	gv, _ := Versions()
	return &ProofFile{
		Format: ProofFormat, Kind: KindInference, Arch: m.Arch,
		Inference: &zkml.InferenceClaim{Model: com, Input: append([]int(nil), x...), Class: cls},
		Proof:     proof, PublicInputs: ElementsToHex(pub), Gnark: gv,
	}, nil
}

// ProveAccuracy proves that m classifies at least k rows of ds correctly
// (k < 0: the true count).
func (k *Keys) ProveAccuracy(m *model.Model, ds *model.Dataset, atLeast int) (*ProofFile, error) {
	if k.Spec.Kind != KindAccuracy {
		return nil, fmt.Errorf("keys are for %s proofs", k.Spec.Kind)
	}
	if !k.Spec.Arch.Equal(m.Arch) || k.Spec.Rows != ds.Len() {
		return nil, fmt.Errorf("keys are for arch %s over %d rows, got %s over %d (keys vs model: %s)", k.Spec.Arch, k.Spec.Rows, m.Arch, ds.Len(), k.Spec.Arch.Diff(m.Arch))
	}
	assign := circuit.AccuracyAssignment
	if k.Spec.TestSet != nil {
		want, err := k.Spec.Arch.TestSetHash(k.Spec.TestSet)
		if err != nil {
			return nil, err
		}
		if got, err := m.Arch.TestSetHash(ds); err != nil || got != want {
			return nil, fmt.Errorf("keys embed test set %s, the rows given hash to %s", want, got)
		}
		assign = circuit.FixedAccuracyAssignment
	}
	a, cnt, err := assign(m, ds, atLeast)
	if err != nil {
		return nil, err
	}
	proof, pub, err := k.Prove(a)
	if err != nil {
		return nil, err
	}
	com, err := m.ComputeCommitment()
	if err != nil {
		return nil, err
	}
	tsh, err := m.Arch.TestSetHash(ds)
	if err != nil {
		return nil, err
	}
	gv, _ := Versions()
	return &ProofFile{
		Format: ProofFormat, Kind: KindAccuracy, Arch: m.Arch,
		Accuracy: &zkml.AccuracyClaim{Model: com, TestSet: tsh, N: ds.Len(), K: cnt},
		Proof:    proof, PublicInputs: ElementsToHex(pub), Gnark: gv,
	}, nil
}

// PublicElements recomputes the public inputs from the claim and checks
// that they match the ones recorded in the file.
func (p *ProofFile) PublicElements() ([]fr.Element, error) {
	var pub []fr.Element
	var err error
	switch p.Kind {
	case KindInference:
		if p.Inference == nil {
			return nil, errors.New("proof file: inference claim missing")
		}
		pub, err = p.Inference.PublicInputs(p.Arch)
	case KindAccuracy:
		if p.Accuracy == nil {
			return nil, errors.New("proof file: accuracy claim missing")
		}
		pub, err = p.Accuracy.PublicInputs()
	default:
		return nil, fmt.Errorf("proof file: unknown kind %q", p.Kind)
	}
	if err != nil {
		return nil, err
	}
	if p.PublicInputs != nil {
		rec, err := ElementsFromHex(p.PublicInputs)
		if err != nil {
			return nil, err
		}
		if len(rec) != len(pub) {
			return nil, errors.New("proof file: recorded public inputs do not match the claim")
		}
		for i := range rec {
			if !rec[i].Equal(&pub[i]) {
				return nil, fmt.Errorf("proof file: recorded public input %d does not match the claim", i)
			}
		}
	}
	return pub, nil
}

// Save writes the proof file as JSON.
func (p *ProofFile) Save(path string) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode proof: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write proof: %w", err)
	}
	return nil
}

// LoadProofFile reads a proof file.
func LoadProofFile(path string) (*ProofFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read proof: %w", err)
	}
	var p ProofFile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode proof %s: %w", path, err)
	}
	if p.Format != ProofFormat {
		return nil, fmt.Errorf("proof %s: format %q, want %q", path, p.Format, ProofFormat)
	}
	return &p, nil
}
