package circuit

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark/constraint/solver"
)

func init() {
	solver.RegisterHint(Hints()...)
}

// Hints lists the hints the circuits of this package need; they are
// registered globally on import, and listed for callers that pass solver
// options explicitly.
func Hints() []solver.Hint {
	return []solver.Hint{splitHint, countHint, argmaxHint, saturationHint}
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

// countHint: inputs [nRows, nCols, rows..., queries...] (row-major), outputs
// how often each table row is queried.
func countHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) < 2 {
		return errors.New("count: missing sizes")
	}
	nRows, nCols := int(in[0].Int64()), int(in[1].Int64())
	if nRows != len(out) || nCols < 1 || len(in) < 2+nRows*nCols || (len(in)-2-nRows*nCols)%nCols != 0 {
		return errors.New("count: malformed inputs")
	}
	key := func(vals []*big.Int) string {
		s := ""
		for _, v := range vals {
			s += v.String() + ","
		}
		return s
	}
	idx := make(map[string]int, nRows)
	for r := range nRows {
		idx[key(in[2+r*nCols:2+(r+1)*nCols])] = r
	}
	counts := make([]int64, nRows)
	q := in[2+nRows*nCols:]
	for i := 0; i < len(q); i += nCols {
		r, ok := idx[key(q[i:i+nCols])]
		if !ok {
			return fmt.Errorf("count: query %v is not in the table", q[i:i+nCols])
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
