package circuit

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/hash/mimc"
	"github.com/consensys/gnark/std/multicommit"
)

// MaxRangeBits is the widest plain range table; wider values are split into
// limbs of at most this width.
const MaxRangeBits = 8

// Lookups collects table lookups while a circuit is defined and proves them
// all in [Lookups.Build] with a log-derivative argument (Haböck 2022):
//
//	sum_q 1/(c - q) == sum_t m_t/(c - t)
//
// where c is derived from gnark's commitment to every queried value and the
// multiplicities m_t. A plain query costs one constraint (its inverse), a
// table row one constraint. This is gnark's std/rangecheck idea without its
// extra copy constraint per value, plus multi-column tables for the
// saturating ReLU.
type Lookups struct {
	tables []*lookupTable
	byKey  map[string]*lookupTable
}

type lookupTable struct {
	rows    [][]*big.Int          // constant rows
	queries [][]frontend.Variable // one tuple per query, same width as rows
}

// NewLookups returns an empty collector.
func NewLookups() *Lookups { return &Lookups{byKey: map[string]*lookupTable{}} }

func (lk *Lookups) table(key string, build func() [][]*big.Int) *lookupTable {
	if t, ok := lk.byKey[key]; ok {
		return t
	}
	t := &lookupTable{rows: build()}
	lk.byKey[key] = t
	lk.tables = append(lk.tables, t)
	return t
}

// Range asserts 0 <= v < 2^bits for 1 <= bits <= MaxRangeBits.
func (lk *Lookups) Range(api frontend.API, v frontend.Variable, bits int) {
	if bits < 1 || bits > MaxRangeBits {
		panic(fmt.Sprintf("lookup: range of %d bits; split wider values first", bits))
	}
	if c, ok := api.Compiler().ConstantValue(v); ok {
		if c.Sign() < 0 || c.BitLen() > bits {
			panic(fmt.Sprintf("lookup: constant %s out of %d bits", c, bits))
		}
		return
	}
	t := lk.table(fmt.Sprintf("range/%d", bits), func() [][]*big.Int {
		rows := make([][]*big.Int, 1<<bits)
		for i := range rows {
			rows[i] = []*big.Int{big.NewInt(int64(i))}
		}
		return rows
	})
	t.queries = append(t.queries, []frontend.Variable{v})
}

// Saturation asserts hf in [0, 2^hb) and that (e, g) are its saturation
// flags: e = [hf == 2^(hb-1)], g = [hf > 2^(hb-1)]. See denseHidden for why.
func (lk *Lookups) Saturation(hf, e, g frontend.Variable, hb int) {
	t := lk.table(fmt.Sprintf("saturation/%d", hb), func() [][]*big.Int {
		mid := int64(1) << (hb - 1)
		rows := make([][]*big.Int, 1<<hb)
		for i := range rows {
			v := int64(i)
			var ev, gv int64
			if v == mid {
				ev = 1
			} else if v > mid {
				gv = 1
			}
			rows[i] = []*big.Int{big.NewInt(v), big.NewInt(ev), big.NewInt(gv)}
		}
		return rows
	})
	t.queries = append(t.queries, []frontend.Variable{hf, e, g})
}

// NumQueries counts the queries collected so far.
func (lk *Lookups) NumQueries() int {
	n := 0
	for _, t := range lk.tables {
		n += len(t.queries)
	}
	return n
}

// Build emits the arguments for every table. Call it once, at the end of Define.
func (lk *Lookups) Build(api frontend.API) error {
	for ti, t := range lk.tables {
		if len(t.queries) == 0 {
			continue
		}
		nCols := len(t.rows[0])
		hintIn := []frontend.Variable{len(t.rows), nCols}
		for _, r := range t.rows {
			for _, c := range r {
				hintIn = append(hintIn, c)
			}
		}
		toCommit := make([]frontend.Variable, 0, len(t.queries)*nCols+len(t.rows))
		for _, q := range t.queries {
			hintIn = append(hintIn, q...)
			toCommit = append(toCommit, q...)
		}
		mult, err := api.Compiler().NewHint(countHint, len(t.rows), hintIn...)
		if err != nil {
			return fmt.Errorf("lookup table %d: multiplicities: %w", ti, err)
		}
		toCommit = append(toCommit, mult...)
		t := t
		multicommit.WithCommitment(api, func(api frontend.API, c frontend.Variable) error {
			return t.argument(api, c, mult)
		}, toCommit...)
	}
	return nil
}

// argument checks sum_q 1/(c - q) == sum_t m_t/(c - t), where multi-column
// tuples are folded with coefficients hashed from c.
func (t *lookupTable) argument(api frontend.API, c frontend.Variable, mult []frontend.Variable) error {
	nCols := len(t.rows[0])
	coef := []frontend.Variable{1}
	if nCols > 1 {
		h, err := mimc.NewMiMC(api)
		if err != nil {
			return fmt.Errorf("lookup: column coefficients: %w", err)
		}
		for k := 1; k < nCols; k++ {
			h.Reset()
			h.Write(c, k)
			coef = append(coef, h.Sum())
		}
	}
	fold := func(vals []frontend.Variable) frontend.Variable {
		acc := vals[0]
		for k := 1; k < nCols; k++ {
			acc = api.Add(acc, api.Mul(coef[k], vals[k]))
		}
		return acc
	}
	lhs := make([]frontend.Variable, len(t.queries))
	for i, q := range t.queries {
		lhs[i] = api.Inverse(api.Sub(c, fold(q)))
	}
	rhs := make([]frontend.Variable, len(t.rows))
	for i, r := range t.rows {
		vals := make([]frontend.Variable, nCols)
		for k := range r {
			vals[k] = r[k]
		}
		rhs[i] = api.DivUnchecked(mult[i], api.Sub(c, fold(vals)))
	}
	api.AssertIsEqual(sum(api, lhs), sum(api, rhs))
	return nil
}

// sum adds any number of variables in one builder call (linear, no constraint).
func sum(api frontend.API, v []frontend.Variable) frontend.Variable {
	switch len(v) {
	case 0:
		return 0
	case 1:
		return v[0]
	}
	return api.Add(v[0], v[1], v[2:]...)
}
