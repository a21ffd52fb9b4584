package circuit

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
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
// multiplicities m_t. A query costs one constraint (its inverse), a table row
// one constraint. This is gnark's std/rangecheck idea without its extra copy
// constraint per value, plus the saturation table of the ReLU.
//
// Groth16 cost note: every wire in the B polynomial of some constraint costs a
// G2 multi-exponentiation term, several times a G1 one, and full-size field
// elements (such as inverses) cost ~30 times small ones. The argument is laid
// out so that the inverses only appear in A and C.
type Lookups struct {
	tables []*lookupTable
	byKey  map[string]*lookupTable
}

type lookupTable struct {
	rows    []*big.Int          // constant entries, distinct
	queries []frontend.Variable // values that must be entries
}

// NewLookups returns an empty collector.
func NewLookups() *Lookups { return &Lookups{byKey: map[string]*lookupTable{}} }

func (lk *Lookups) table(key string, build func() []*big.Int) *lookupTable {
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
	t := lk.table(fmt.Sprintf("range/%d", bits), func() []*big.Int {
		rows := make([]*big.Int, 1<<bits)
		for i := range rows {
			rows[i] = big.NewInt(int64(i))
		}
		return rows
	})
	t.queries = append(t.queries, v)
}

// Saturation asserts that (e, g) are the saturation flags of hf, for hf in
// [0, 2^hb): e = [hf == 2^(hb-1)], g = [hf > 2^(hb-1)]. The table holds
// hf + 2^hb*e + 2^(hb+1)*g; with e and g boolean and hf range-checked (the
// caller's job) that sum splits uniquely, so one plain lookup binds all three.
func (lk *Lookups) Saturation(api frontend.API, hf, e, g frontend.Variable, hb int) {
	t := lk.table(fmt.Sprintf("saturation/%d", hb), func() []*big.Int {
		mid := int64(1) << (hb - 1)
		rows := make([]*big.Int, 1<<hb)
		for i := range rows {
			v := int64(i)
			switch {
			case v == mid:
				v += 1 << hb
			case v > mid:
				v += 1 << (hb + 1)
			}
			rows[i] = big.NewInt(v)
		}
		return rows
	})
	api.AssertIsBoolean(e)
	api.AssertIsBoolean(g)
	t.queries = append(t.queries, api.Add(hf, api.Mul(e, pow2(hb)), api.Mul(g, pow2(hb+1))))
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
		hintIn := make([]frontend.Variable, 0, 1+len(t.rows)+len(t.queries))
		hintIn = append(hintIn, len(t.rows))
		for _, r := range t.rows {
			hintIn = append(hintIn, r)
		}
		hintIn = append(hintIn, t.queries...)
		mult, err := api.Compiler().NewHint(countHint, len(t.rows), hintIn...)
		if err != nil {
			return fmt.Errorf("lookup table %d: multiplicities: %w", ti, err)
		}
		toCommit := append(append([]frontend.Variable(nil), t.queries...), mult...)
		multicommit.WithCommitment(api, func(api frontend.API, c frontend.Variable) error {
			return t.argument(api, c, mult)
		}, toCommit...)
	}
	return nil
}

// argument checks sum_q 1/(c - q) == sum_t m_t/(c - t).
//
// One hint computes every fraction with a single batch inversion, and each
// fraction f is checked by the constraint f * (c - x) == numerator, emitted
// with f in A (see r1cEmitter): gnark's builder would move the shorter side,
// the full-size f, into B, where each wire costs a G2 term when proving.
func (t *lookupTable) argument(api frontend.API, c frontend.Variable, mult []frontend.Variable) error {
	nq := len(t.queries)
	in := make([]frontend.Variable, 0, 2+nq+2*len(t.rows))
	in = append(in, c, nq)
	in = append(in, t.queries...)
	for i, r := range t.rows {
		in = append(in, r, mult[i])
	}
	fr, err := api.Compiler().NewHint(fractionsHint, nq+len(t.rows), in...)
	if err != nil {
		return fmt.Errorf("lookup fractions: %w", err)
	}
	em := newR1CEmitter(api)
	terms := make([]frontend.Variable, 0, len(fr))
	for k, q := range t.queries {
		em.assertProduct(fr[k], api.Sub(c, q), nil)
		terms = append(terms, fr[k])
	}
	for i, r := range t.rows {
		f := fr[nq+i]
		em.assertProduct(f, api.Sub(c, r), mult[i])
		terms = append(terms, api.Neg(f))
	}
	// 1 * 0 == sum: keeps the fractions out of the B polynomial.
	api.AssertIsEqual(0, sum(api, terms))
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
