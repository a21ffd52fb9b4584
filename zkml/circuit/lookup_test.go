package circuit

import (
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// rangeCircuit range-checks each value to 8 bits and one of them through
// the saturation table.
type rangeCircuit struct {
	V []frontend.Variable
}

func (c *rangeCircuit) Define(api frontend.API) error {
	lk := NewLookups()
	for _, v := range c.V {
		lk.Range(api, v, 8)
	}
	lk.Saturation(api, c.V[0], 0, 0, 8)
	return lk.Build(api)
}

// The lookup argument compiled by gnark's R1CS builder (where its fractions
// are emitted as raw R1C instructions) accepts values in range, rejects one
// out of range, rejects a prover whose fractions are wrong, and proves.
func TestLookupsInR1CS(t *testing.T) {
	field := ecc.BN254.ScalarField()
	ccs, err := frontend.Compile(field, r1cs.NewBuilder, &rangeCircuit{V: make([]frontend.Variable, 5)})
	if err != nil {
		t.Fatal(err)
	}
	witness := func(v ...int) frontend.Circuit {
		a := &rangeCircuit{}
		for _, x := range v {
			a.V = append(a.V, x)
		}
		return a
	}
	solve := func(a frontend.Circuit, opts ...solver.Option) error {
		w, err := frontend.NewWitness(a, field)
		if err != nil {
			t.Fatal(err)
		}
		return ccs.IsSolved(w, opts...)
	}
	if err := solve(witness(7, 0, 255, 128, 7)); err != nil {
		t.Fatalf("in-range values refused: %v", err)
	}
	// 256 is out of range: countHint refuses it, and with an honest-looking
	// count the argument itself must fail.
	if solve(witness(7, 0, 256, 128, 7)) == nil {
		t.Fatal("256 accepted as an 8-bit value")
	}
	lying := solver.OverrideHint(solver.GetHintID(countHint), func(_ *big.Int, in, out []*big.Int) error {
		for r := range out {
			out[r].SetInt64(0)
		}
		out[0].SetInt64(int64(len(in) - 1 - len(out)))
		return nil
	})
	if solve(witness(7, 0, 255, 128, 7), lying) == nil {
		t.Fatal("wrong multiplicities accepted")
	}
	wrongFractions := solver.OverrideHint(solver.GetHintID(fractionsHint), func(m *big.Int, in, out []*big.Int) error {
		if err := fractionsHint(m, in, out); err != nil {
			return err
		}
		out[0].Add(out[0], big.NewInt(1))
		out[1].Sub(out[1], big.NewInt(1)) // keeps the sum, breaks two fractions
		return nil
	})
	if solve(witness(7, 0, 255, 128, 7), wrongFractions) == nil {
		t.Fatal("wrong fractions accepted")
	}

	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := frontend.NewWitness(witness(9, 1, 2, 3, 4), field)
	proof, err := groth16.Prove(ccs, pk, w)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := w.Public()
	if err := groth16.Verify(proof, vk, pub); err != nil {
		t.Fatal(err)
	}
}

// fractionsHint agrees with one modular inversion per fraction, in BN254
// (gnark-crypto batch path) and in another field (big.Int path).
func TestFractionsHint(t *testing.T) {
	for _, m := range []*big.Int{ecc.BN254.ScalarField(), big.NewInt(1_000_003)} {
		c := big.NewInt(777_777)
		queries := []int64{1, 5, 5, 999}
		rows := [][2]int64{{1, 1}, {5, 2}, {999, 1}, {3, 0}}
		in := []*big.Int{c, big.NewInt(int64(len(queries)))}
		for _, q := range queries {
			in = append(in, big.NewInt(q))
		}
		for _, r := range rows {
			in = append(in, big.NewInt(r[0]), big.NewInt(r[1]))
		}
		out := make([]*big.Int, len(queries)+len(rows))
		for i := range out {
			out[i] = new(big.Int)
		}
		if err := fractionsHint(m, in, out); err != nil {
			t.Fatal(err)
		}
		frac := func(num, x int64) *big.Int {
			d := new(big.Int).Sub(c, big.NewInt(x))
			d.Mod(d, m)
			d.ModInverse(d, m)
			d.Mul(d, big.NewInt(num))
			return d.Mod(d, m)
		}
		for k, q := range queries {
			if out[k].Cmp(frac(1, q)) != 0 {
				t.Fatalf("modulus %s: query %d: got %s want %s", m, k, out[k], frac(1, q))
			}
		}
		for i, r := range rows {
			if out[len(queries)+i].Cmp(frac(r[1], r[0])) != 0 {
				t.Fatalf("modulus %s: row %d: got %s", m, i, out[len(queries)+i])
			}
		}
	}
}
