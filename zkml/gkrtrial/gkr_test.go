package gkrtrial

import (
	"fmt"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	p2 "github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	gkrp "github.com/consensys/gnark/std/hash/poseidon2/gkr-poseidon2"
)

type C struct {
	In  []frontend.Variable
	Out frontend.Variable `gnark:",public"`
}

func (c *C) Define(api frontend.API) error {
	h, err := gkrp.New(api)
	if err != nil {
		return err
	}
	h.Write(c.In...)
	api.AssertIsEqual(h.Sum(), c.Out)
	return nil
}

func TestGKR(t *testing.T) {
	n := 3300
	c := &C{In: make([]frontend.Variable, n)}
	t0 := time.Now()
	cs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("constraints", cs.GetNbConstraints(), "wires", cs.GetNbInternalVariables(), time.Since(t0))
	hs := p2.NewMerkleDamgardHasher()
	a := &C{In: make([]frontend.Variable, n)}
	for i := range n {
		var e fr.Element
		e.SetUint64(uint64(i*7 + 1))
		b := e.Bytes()
		hs.Write(b[:])
		a.In[i] = e
	}
	var out fr.Element
	out.SetBytes(hs.Sum(nil))
	a.Out = out
	pk, vk, err := groth16.Setup(cs)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := frontend.NewWitness(a, ecc.BN254.ScalarField())
	t0 = time.Now()
	proof, err := groth16.Prove(cs, pk, w)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("prove", time.Since(t0))
	pw, _ := w.Public()
	if err := groth16.Verify(proof, vk, pw); err != nil {
		t.Fatal(err)
	}
}
