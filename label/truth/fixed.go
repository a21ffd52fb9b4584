package truth

import "math/bits"

// Prob is a probability (or a pseudo-count) in fixed point with 32 fraction
// bits: One is 1.0. A uint64 holds sums of up to 2^32 probabilities.
type Prob uint64

// ProbBits is the number of fraction bits in a Prob.
const ProbBits = 32

// One is the Prob for 1.0.
const One Prob = 1 << ProbBits

// Ratio returns num/den as a Prob, rounded down; den must be > 0.
func Ratio(num, den uint64) Prob { return Prob(mulDiv(num, uint64(One), den)) }

// PPM returns p in parts per million, rounded to nearest, for display and storage.
func (p Prob) PPM() uint64 { return (uint64(p)*1_000_000 + uint64(One)/2) >> ProbBits }

// MaxClasses bounds the number of classes so that sums of exp2 terms fit (see expShift).
const MaxClasses = 256

// log2Q is a base-2 logarithm in fixed point with 32 fraction bits.
type log2Q int64

// mulDiv returns a*b/c rounded down, with a 128-bit intermediate; the
// quotient must fit in 64 bits (callers guarantee a*b/c < 2^64).
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// mulQ multiplies two Q32 values: (a*b) >> 32 with a 128-bit intermediate.
func mulQ(a, b Prob) Prob {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	return Prob(hi<<(64-ProbBits) | lo>>ProbBits)
}

// log2Int returns log2(x) for an integer x > 0 with 32 fraction bits. It
// normalises x to m in [1,2) (Q62), then three times divides m by the
// 8-bit-table value just below it (multiplying by a table reciprocal), adding
// that value's logarithm, until m < 1+2^-24 where log2(m) = (m-1)/ln 2 to
// within 2^-49. Four 128-bit multiplies instead of 32 squarings: EM takes
// workers*classes^2 logarithms per round.
func log2Int(x uint64) log2Q {
	n := bits.Len64(x) - 1
	var m uint64
	if n <= 62 {
		m = x << (62 - n)
	} else {
		m = x >> 1
	}
	r := log2Q(n) << 32
	for s := range 3 {
		idx := m >> (54 - 8*s) & 255
		m = mulQ62(m, logTab.recip[s][idx])
		r += logTab.log[s][idx]
	}
	hi, _ := bits.Mul64(m-1<<62, log2eQ62) // (m-1)*log2(e): Q124, >>92 gives Q32
	return r + log2Q(hi>>28)
}

// log2eQ62 is 1/ln(2) * 2^62, rounded to nearest.
const log2eQ62 = 6653256548922161246

// logTab holds, per stage s and byte b, recip = 1/(1+b/2^(8(s+1))) in Q62
// rounded up (so m never drops below 1) and log = log2(1/recip) in Q32.
var logTab = buildLogTab()

func buildLogTab() (t struct {
	recip [3][256]uint64
	log   [3][256]log2Q
}) {
	for s := range 3 {
		w := uint(8 * (s + 1))
		for b := range uint64(256) {
			d := 1<<w + b
			q, rem := bits.Div64(1<<w>>2, 0, d) // 2^(62+w) / d
			if rem != 0 {
				q++
			}
			t.recip[s][b] = q
			// log2(d / 2^w) rounded to 32 bits from a 40-bit result.
			t.log[s][b] = (log2Slow(d, 40) - log2Q(w)<<40 + 1<<7) >> 8
		}
	}
	return t
}

// log2Slow returns log2(x) for x > 0 with frac fraction bits (frac < 58),
// rounded down, by repeated squaring: each square that reaches 2 yields a 1
// bit. Used only to build tables.
func log2Slow(x uint64, frac uint) log2Q {
	n := bits.Len64(x) - 1
	var m uint64
	if n <= 62 {
		m = x << (62 - n)
	} else {
		m = x >> 1
	}
	r := log2Q(n) << frac
	for bit := log2Q(1) << (frac - 1); bit > 0; bit >>= 1 {
		m = mulQ62(m, m) // in [1,4)
		if m >= 1<<63 {
			m >>= 1
			r += bit
		}
	}
	return r
}

// log2Ratio returns log2(num/den) with 32 fraction bits; num, den > 0.
func log2Ratio(num, den uint64) log2Q { return log2Int(num) - log2Int(den) }

// expShift is the number of fraction bits of exp2Neg's result. Q52 leaves
// 12 bits of headroom, so the sum of MaxClasses terms of at most 1.0 fits.
const expShift = 52

// exp2Neg returns 2^(-d) in Q52 for d >= 0 given in 32-bit fixed point.
// It splits the fraction of d into four bytes and multiplies four table
// entries, so it costs three 128-bit multiplies.
func exp2Neg(d log2Q) uint64 {
	n := uint64(d) >> 32
	if n >= expShift {
		return 0
	}
	f := uint64(d)
	m := exp2Tab[3][f>>24&255]
	m = mulQ62(m, exp2Tab[2][f>>16&255])
	m = mulQ62(m, exp2Tab[1][f>>8&255])
	m = mulQ62(m, exp2Tab[0][f&255])
	return m >> (62 - expShift + n)
}

func mulQ62(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi<<2 | lo>>62
}

// exp2Tab[j][b] = 2^(-b / 256^(4-j)) in Q62, so that exp2Tab[3] covers the
// top byte of a 32-bit fraction and exp2Tab[0] the bottom byte.
var exp2Tab = buildExp2Tab()

// ln2Q62 is ln(2) * 2^62, rounded to nearest.
const ln2Q62 = 3196577161300663915

// buildExp2Tab fills the tables with integer arithmetic only, so every
// machine computes the same bits: 2^-x = 1/e^(x ln 2), with e^y summed as a
// Taylor series in Q62 (y < ln 2, so about 25 terms reach zero).
func buildExp2Tab() (t [4][256]uint64) {
	for j := range 4 {
		shift := uint(8 * (4 - j)) // x = b / 2^shift
		for b := range 256 {
			hi, lo := bits.Mul64(uint64(b), ln2Q62)
			y := hi<<(64-shift) | lo>>shift // b*ln2 / 2^shift in Q62
			sum, term := uint64(1)<<62, uint64(1)<<62
			for k := uint64(1); term != 0; k++ {
				term = mulQ62(term, y) / k
				sum += term
			}
			q, _ := bits.Div64(1<<60, 0, sum) // 2^124 / sum = 1/e^y in Q62
			t[j][b] = q
		}
	}
	return t
}

// divPow2 returns 2^p / d for 64 <= p < 128 and d > 2^(p-64).
func divPow2(p uint, d uint64) (q, r uint64) { return bits.Div64(1<<(p-64), 0, d) }

func mulHiLo(a, b uint64) (hi, lo uint64) { return bits.Mul64(a, b) }
