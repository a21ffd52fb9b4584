package circuit

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/consensys/gnark/constraint/solver"
)

func init() {
	solver.RegisterHint(Hints()...)
}

// Hints lists the hints the circuits of this package need; they are
// registered globally on import, and listed for callers that pass solver
// options explicitly.
func Hints() []solver.Hint {
	return []solver.Hint{splitHint, countHint, argmaxHint, saturationHint, preactivationHint, fractionsHint, maxHint}
}

// splitHint: inputs [v, w_0, o_0, ..., w_{k-1}, o_{k-1}], outputs the k
// limbs of v with widths w and bit offsets o. It fails if v has bits outside
// the limbs, which makes a bad witness fail early with a readable error
// instead of an unsatisfied constraint.
func splitHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) != 2*len(out)+1 {
		return errors.New("split: want value and (width, offset) per limb")
	}
	rest := new(big.Int).Set(in[0])
	for k := range out {
		w, o := uint(in[1+2*k].Uint64()), uint(in[2+2*k].Uint64())
		mask := new(big.Int).Lsh(big.NewInt(1), w)
		mask.Sub(mask, big.NewInt(1))
		out[k].Rsh(rest, o)
		out[k].And(out[k], mask)
		mask.Lsh(mask, o)
		rest.AndNot(rest, mask)
	}
	if rest.Sign() != 0 {
		return fmt.Errorf("split: value %s does not fit in the limbs (bug in the witness or a model outside its arch)", in[0])
	}
	return nil
}

// countHint: inputs [nRows, rows..., queries...], outputs how often each
// table row is queried.
func countHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) < 1 {
		return errors.New("count: missing sizes")
	}
	nRows := int(in[0].Int64())
	if nRows != len(out) || len(in) < 1+nRows {
		return errors.New("count: malformed inputs")
	}
	idx := make(map[string]int, nRows)
	for r := range nRows {
		idx[string(in[1+r].Bytes())] = r
	}
	counts := make([]int64, nRows)
	for _, q := range in[1+nRows:] {
		r, ok := idx[string(q.Bytes())]
		if !ok {
			return fmt.Errorf("count: query %s is not in the table", q)
		}
		counts[r]++
	}
	for r := range out {
		out[r].SetInt64(counts[r])
	}
	return nil
}

// saturationHint: inputs [hb, hf], outputs (e, g): e = [hf == 2^(hb-1)],
// g = [hf > 2^(hb-1)].
func saturationHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) != 2 || len(out) != 2 {
		return errors.New("saturation: want (bits, value)")
	}
	mid := new(big.Int).Lsh(big.NewInt(1), uint(in[0].Uint64()-1))
	c := in[1].Cmp(mid)
	out[0].SetInt64(0)
	out[1].SetInt64(0)
	switch {
	case c == 0:
		out[0].SetInt64(1)
	case c > 0:
		out[1].SetInt64(1)
	}
	return nil
}

// argmaxHint: inputs [nOut, slotBits, slotsPerElem, elems...] where output j
// sits in slot j%slotsPerElem of element j/slotsPerElem; outputs the one-hot
// vector of the first maximum and the maximum itself.
func argmaxHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) < 4 {
		return errors.New("argmax: missing inputs")
	}
	n, s, g := int(in[0].Int64()), uint(in[1].Int64()), int(in[2].Int64())
	if len(out) != n+1 || len(in) != 3+(n+g-1)/g {
		return errors.New("argmax: malformed inputs")
	}
	mask := new(big.Int).Lsh(big.NewInt(1), s)
	mask.Sub(mask, big.NewInt(1))
	best, bestV := -1, new(big.Int)
	for j := range n {
		v := new(big.Int).Rsh(in[3+j/g], s*uint(j%g))
		v.And(v, mask)
		if best < 0 || v.Cmp(bestV) > 0 {
			best, bestV = j, v
		}
	}
	for j := range n {
		out[j].SetInt64(0)
	}
	out[best].SetInt64(1)
	out[n].Set(bestV)
	return nil
}

// signed reads a field element as a centered integer.
func signed(m, v *big.Int) *big.Int {
	half := new(big.Int).Rsh(m, 1)
	if v.Cmp(half) > 0 {
		return new(big.Int).Sub(v, m)
	}
	return new(big.Int).Set(v)
}

// preactivationHint: inputs [rows, nIn, nOut, Z, slot widths..., u (nOut x
// nIn, unsigned w+128), bias (nOut, signed), x (rows x nIn)]; outputs, per
// row and output, the limbs of t = z + 2^Z with the slot widths.
func preactivationHint(m *big.Int, in, out []*big.Int) error {
	if len(in) < 4 {
		return errors.New("preactivation: missing sizes")
	}
	rows, nIn, nOut, z := int(in[0].Int64()), int(in[1].Int64()), int(in[2].Int64()), uint(in[3].Int64())
	nw := len(out) / max(1, rows*nOut)
	if rows*nOut*nw != len(out) || len(in) != 4+nw+nOut*nIn+nOut+rows*nIn {
		return errors.New("preactivation: malformed inputs")
	}
	widths := in[4 : 4+nw]
	u := in[4+nw : 4+nw+nOut*nIn]
	bias := in[4+nw+nOut*nIn : 4+nw+nOut*nIn+nOut]
	xs := in[4+nw+nOut*nIn+nOut:]
	off := new(big.Int).Lsh(big.NewInt(1), z)
	t, prod := new(big.Int), new(big.Int)
	for r := range rows {
		for j := range nOut {
			t.Add(signed(m, bias[j]), off)
			for i := range nIn {
				prod.Sub(u[j*nIn+i], big.NewInt(128))
				prod.Mul(prod, xs[r*nIn+i])
				t.Add(t, prod)
			}
			if t.Sign() < 0 || t.BitLen() > int(z)+1 {
				return fmt.Errorf("preactivation: row %d output %d out of range", r, j)
			}
			rest := new(big.Int).Set(t)
			for k, w := range widths {
				o := out[(r*nOut+j)*nw+k]
				mask := new(big.Int).Lsh(big.NewInt(1), uint(w.Uint64()))
				mask.Sub(mask, big.NewInt(1))
				o.And(rest, mask)
				rest.Rsh(rest, uint(w.Uint64()))
			}
		}
	}
	return nil
}

// fractionsHint: inputs [c, nq, queries (nq), then (row, multiplicity)
// pairs]; outputs 1/(c - q) per query, then m/(c - t) per row, all with one
// modular inversion (Montgomery's batch trick).
func fractionsHint(m *big.Int, in, out []*big.Int) error {
	if len(in) < 2 {
		return errors.New("fractions: missing inputs")
	}
	c, nq := in[0], int(in[1].Int64())
	if nq < 0 || len(in) < 2+nq || (len(in)-2-nq)%2 != 0 || len(out) != nq+(len(in)-2-nq)/2 {
		return errors.New("fractions: malformed inputs")
	}
	den := make([]*big.Int, len(out))
	num := make([]*big.Int, len(out))
	for k := range nq {
		den[k] = new(big.Int).Sub(c, in[2+k])
		den[k].Mod(den[k], m)
	}
	for i := range (len(in) - 2 - nq) / 2 {
		row, mult := in[2+nq+2*i], in[3+nq+2*i]
		den[nq+i] = new(big.Int).Sub(c, row)
		den[nq+i].Mod(den[nq+i], m)
		num[nq+i] = mult
	}
	if m.Cmp(fr.Modulus()) == 0 {
		return fractionsBN254(den, num, out)
	}
	// prefix[k] = den[0] * ... * den[k-1]
	prefix := make([]*big.Int, len(den)+1)
	prefix[0] = big.NewInt(1)
	for k, d := range den {
		if d.Sign() == 0 {
			return errors.New("fractions: challenge equals a queried value")
		}
		prefix[k+1] = new(big.Int).Mul(prefix[k], d)
		prefix[k+1].Mod(prefix[k+1], m)
	}
	inv := new(big.Int).ModInverse(prefix[len(den)], m)
	if inv == nil {
		return errors.New("fractions: no inverse")
	}
	for k := len(den) - 1; k >= 0; k-- {
		out[k].Mul(inv, prefix[k])
		out[k].Mod(out[k], m)
		inv.Mul(inv, den[k])
		inv.Mod(inv, m)
		if num[k] != nil {
			out[k].Mul(out[k], num[k])
			out[k].Mod(out[k], m)
		}
	}
	return nil
}

// fractionsBN254 is fractionsHint's division in gnark-crypto's BN254 field
// arithmetic (Montgomery form, batch inversion): the hint is one sequential
// step of the solver, and big.Int would make it the slowest one.
func fractionsBN254(den, num []*big.Int, out []*big.Int) error {
	d := make(fr.Vector, len(den))
	for k := range den {
		if den[k].Sign() == 0 {
			return errors.New("fractions: challenge equals a queried value")
		}
		d[k].SetBigInt(den[k])
	}
	inv := fr.BatchInvert(d)
	var n fr.Element
	for k := range inv {
		if num[k] != nil {
			n.SetBigInt(num[k])
			inv[k].Mul(&inv[k], &n)
		}
		inv[k].BigInt(out[k])
	}
	return nil
}
