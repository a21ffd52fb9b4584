package circuit

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
	"github.com/consensys/gnark/frontend"

	"github.com/tenun-chain/tenun/zkml/model"
)

// permutation is Poseidon2 over BN254 with the sponge's width and rounds and
// gnark-crypto's constants; it matches poseidon2.Permutation there (tested).
//
// It is written out here instead of using gnark's std/permutation/poseidon2
// for one reason: the S-box x^5 is computed as x^2 = x*x, x^3 = x*x^2,
// x^5 = x^3*x^2, which keeps x^3 out of the B polynomial of every
// constraint. Each wire in B costs a G2 multi-exponentiation term at proving
// time, the most expensive kind, and the model commitment of a large MLP is
// hundreds of permutations.
type permutation struct {
	roundKeys [][]*big.Int
	diag      []*big.Int
}

func newPermutation() *permutation {
	p := poseidon2.NewParameters(model.SpongeWidth, model.SpongeFullRounds, model.SpongePartialRounds)
	perm := &permutation{}
	for _, rk := range p.RoundKeys {
		row := make([]*big.Int, len(rk))
		for i := range rk {
			row[i] = rk[i].BigInt(new(big.Int))
		}
		perm.roundKeys = append(perm.roundKeys, row)
	}
	for i := range p.DiagM1 {
		perm.diag = append(perm.diag, p.DiagM1[i].BigInt(new(big.Int)))
	}
	return perm
}

func (p *permutation) sbox(api frontend.API, x frontend.Variable) frontend.Variable {
	x2 := api.Mul(x, x)
	x3 := api.Mul(x, x2)
	return api.Mul(x3, x2)
}

// matMulM4 multiplies each chunk of 4 by the Poseidon2 M4 matrix.
func matMulM4(api frontend.API, s []frontend.Variable) {
	for i := 0; i+3 < len(s); i += 4 {
		t0 := api.Add(s[i], s[i+1])
		t1 := api.Add(s[i+2], s[i+3])
		t2 := api.Add(api.Mul(s[i+1], 2), t1)
		t3 := api.Add(api.Mul(s[i+3], 2), t0)
		t4 := api.Add(api.Mul(t1, 4), t3)
		t5 := api.Add(api.Mul(t0, 4), t2)
		s[i], s[i+1], s[i+2], s[i+3] = api.Add(t3, t5), t5, api.Add(t2, t4), t4
	}
}

// external applies circ(2*M4, M4, ..., M4).
func external(api frontend.API, s []frontend.Variable) {
	matMulM4(api, s)
	var col [4][]frontend.Variable
	for i := range s {
		col[i%4] = append(col[i%4], s[i])
	}
	var sums [4]frontend.Variable
	for k := range sums {
		sums[k] = sum(api, col[k])
	}
	for i := range s {
		s[i] = api.Add(s[i], sums[i%4])
	}
}

// internal applies diag(mu - 1) + ones.
func (p *permutation) internal(api frontend.API, s []frontend.Variable) {
	total := sum(api, s)
	for i := range s {
		s[i] = api.Add(api.Mul(s[i], p.diag[i]), total)
	}
}

func (p *permutation) permute(api frontend.API, s []frontend.Variable) {
	rf, rp := model.SpongeFullRounds/2, model.SpongePartialRounds
	external(api, s)
	full := func(r int) {
		for i := range s {
			s[i] = p.sbox(api, api.Add(s[i], p.roundKeys[r][i]))
		}
		external(api, s)
	}
	for r := range rf {
		full(r)
	}
	for r := rf; r < rf+rp; r++ {
		s[0] = p.sbox(api, api.Add(s[0], p.roundKeys[r][0]))
		p.internal(api, s)
	}
	for r := rf + rp; r < 2*rf+rp; r++ {
		full(r)
	}
}

// sponge is the in-circuit twin of model.SpongeHash.
func sponge(api frontend.API, domain uint64, header []uint64, elems []frontend.Variable) (frontend.Variable, error) {
	if len(header)+len(elems) == 0 {
		return nil, fmt.Errorf("sponge: nothing to absorb")
	}
	perm := newPermutation()
	in := make([]frontend.Variable, 0, len(header)+len(elems))
	for _, h := range header {
		in = append(in, h)
	}
	in = append(in, elems...)
	state := make([]frontend.Variable, model.SpongeWidth)
	for k := range state {
		state[k] = 0
	}
	state[model.SpongeWidth-1] = model.SpongeIV(domain, len(in))
	for i := 0; i < len(in); i += model.SpongeRate {
		for k := 0; k < model.SpongeRate && i+k < len(in); k++ {
			state[k] = api.Add(state[k], in[i+k])
		}
		perm.permute(api, state)
	}
	return state[0], nil
}
