package yuma

import (
	"math/bits"
)

// I32F32 is a signed fixed-point number with 32 integer and 32 fractional
// bits, stored as its raw two's-complement bits (value = bits / 2^32). It
// reproduces substrate-fixed's I32F32 exactly (SPEC §1.3):
//
//   - Mul is (a·b) >> 32 with an arithmetic shift, i.e. floor;
//   - Div is (a << 32) / b truncated toward zero;
//   - Add is plain wrapping addition (Rust's iter().sum() on the same bits);
//   - the Sat* variants clamp at the type bounds.
//
// Every epoch vector is computed in this type, so any deviation from these
// rounding rules shows up as a different u16 bond or emission.
type I32F32 int64

// Frequently used I32F32 constants.
const (
	Zero32 I32F32 = 0
	One32  I32F32 = 1 << 32
	half32 I32F32 = 1 << 31

	maxI32F32 I32F32 = 1<<63 - 1
	minI32F32 I32F32 = -1 << 63
)

// u16Max32 is I32F32::from_num(u16::MAX).
const u16Max32 I32F32 = 65535 << 32

// FromInt converts an integer, saturating at the type bounds.
func FromInt(v int64) I32F32 {
	if v > int64(maxI32F32>>32) {
		return maxI32F32
	}
	if v < int64(minI32F32>>32) {
		return minI32F32
	}
	return I32F32(v << 32)
}

// FromU16 converts a u16 to its integer value (e.g. 65535 -> 65535.0), as
// get_weights_sparse and get_bonds_sparse read storage.
func FromU16(u uint16) I32F32 { return I32F32(int64(u) << 32) }

// U16ProportionToFixed is subtensor's u16_proportion_to_fixed: u / 65535
// computed with I32F32 division, i.e. floor(u·2^32 / 65535). Because
// 2^32 = 65535·65537 + 1 that floor equals u·65537 + u/65535 exactly, which
// avoids a division per bond (TestU16ProportionClosedForm checks all u).
func U16ProportionToFixed(u uint16) I32F32 {
	return I32F32(uint64(u)*65537 + uint64(u)/65535)
}

// FixedProportionToU16 is subtensor's fixed_proportion_to_u16: floor(x·65535),
// saturating to [0, 65535]. Multiplying by the integer-valued 65535.0 is
// exact (x·65535 in bits), so floor(bits·65535 / 2^32) is computed directly.
func FixedProportionToU16(x I32F32) uint16 {
	if x <= 0 {
		return 0
	}
	if x >= One32 {
		return 65535
	}
	return uint16((uint64(x) * 65535) >> 32)
}

// Bits returns the raw two's-complement representation.
func (a I32F32) Bits() int64 { return int64(a) }

// Add is plain (wrapping) addition, matching Rust's Sum on fixed types.
func (a I32F32) Add(b I32F32) I32F32 { return a + b }

// SatAdd is saturating addition.
func (a I32F32) SatAdd(b I32F32) I32F32 {
	s := a + b
	// Overflow iff both operands have the same sign and the sum's sign differs.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		if a >= 0 {
			return maxI32F32
		}
		return minI32F32
	}
	return s
}

// SatSub is saturating subtraction.
func (a I32F32) SatSub(b I32F32) I32F32 {
	d := a - b
	if (a >= 0) != (b >= 0) && (d >= 0) != (a >= 0) {
		if a >= 0 {
			return maxI32F32
		}
		return minI32F32
	}
	return d
}

func (a I32F32) checkedAdd(b I32F32) (I32F32, bool) {
	s := a + b
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, false
	}
	return s, true
}

// mulFull returns the signed 128-bit product of a and b as (hi, lo).
func mulFull(a, b int64) (int64, uint64) {
	h, l := bits.Mul64(uint64(a), uint64(b))
	hi := int64(h)
	// Two's-complement correction of the unsigned product.
	if a < 0 {
		hi -= b
	}
	if b < 0 {
		hi -= a
	}
	return hi, l
}

// checkedMul returns floor(a·b / 2^32) and false when it does not fit.
func (a I32F32) checkedMul(b I32F32) (I32F32, bool) {
	hi, lo := mulFull(int64(a), int64(b))
	// The shifted result fits in 64 bits iff bits 127..95 of the product
	// are a sign extension, i.e. hi >> 31 is 0 or -1.
	if t := hi >> 31; t != 0 && t != -1 {
		return 0, false
	}
	return I32F32(uint64(hi)<<32 | lo>>32), true
}

// Mul is the saturating product floor(a·b / 2^32) (saturating_mul).
func (a I32F32) Mul(b I32F32) I32F32 {
	hi, lo := mulFull(int64(a), int64(b))
	if t := hi >> 31; t != 0 && t != -1 {
		if hi < 0 {
			return minI32F32
		}
		return maxI32F32
	}
	return I32F32(uint64(hi)<<32 | lo>>32)
}

// SatMul is an alias of Mul that names the saturating behaviour explicitly.
func (a I32F32) SatMul(b I32F32) I32F32 { return a.Mul(b) }

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v) // -MinInt64 wraps to 1<<63, which is the right magnitude
	}
	return uint64(v)
}

// checkedDiv returns (a << 32) / b truncated toward zero, and false on
// division by zero or overflow.
func (a I32F32) checkedDiv(b I32F32) (I32F32, bool) {
	if b == 0 {
		return 0, false
	}
	ua, ub := abs64(int64(a)), abs64(int64(b))
	hi, lo := ua>>32, ua<<32
	if hi >= ub {
		return 0, false // quotient needs more than 64 bits
	}
	q, _ := bits.Div64(hi, lo, ub)
	if (a < 0) != (b < 0) {
		if q > 1<<63 {
			return 0, false
		}
		return I32F32(-int64(q)), true
	}
	if q > 1<<63-1 {
		return 0, false
	}
	return I32F32(q), true
}

// SafeDiv is subtensor's safe_div: the truncating quotient, or 0 on division
// by zero or overflow.
func (a I32F32) SafeDiv(b I32F32) I32F32 {
	q, ok := a.checkedDiv(b)
	if !ok {
		return 0
	}
	return q
}

// SatDiv is saturating_div: the truncating quotient clamped to the bounds.
// Division by zero saturates by the dividend's sign (Rust would panic; the
// epoch never divides by zero here).
func (a I32F32) SatDiv(b I32F32) I32F32 {
	q, ok := a.checkedDiv(b)
	if ok {
		return q
	}
	if (a < 0) != (b < 0) {
		return minI32F32
	}
	return maxI32F32
}

// Round rounds half away from zero (fixed's round()), saturating.
func (a I32F32) Round() I32F32 {
	if a >= 0 {
		return a.SatAdd(half32) &^ (One32 - 1)
	}
	if a == minI32F32 {
		return a // already integral; negating would overflow
	}
	return -((-a).SatAdd(half32) &^ (One32 - 1))
}

// Floor returns the integer part rounded toward negative infinity.
func (a I32F32) Floor() int64 { return int64(a) >> 32 }

// SatToU16 converts to u16 truncating (floor), clamped to [0, 65535].
func (a I32F32) SatToU16() uint16 {
	v := a.Floor()
	if v < 0 {
		return 0
	}
	if v > 65535 {
		return 65535
	}
	return uint16(v)
}

// MulU64Floor returns floor(a · e) as u64, saturating, the way the epoch
// converts normalised emission to an amount (an I96F32 product truncated to
// u64). Negative a gives 0.
func (a I32F32) MulU64Floor(e uint64) uint64 {
	if a <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), e)
	if hi>>32 != 0 {
		return 1<<64 - 1
	}
	return hi<<32 | lo>>32
}

func clampFixed(v, lo, hi I32F32) I32F32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// ---------------------------------------------------------------------------
// I64F64

// I64F64 is a signed fixed-point number with 64 integer and 64 fractional
// bits: Int is the integer part (floor) and Frac the fractional bits, so the
// pair is the two's-complement 128-bit value Int·2^64 + Frac. The epoch uses
// it for stake normalisation and the bonds-moving-average ratio.
type I64F64 struct {
	Int  int64
	Frac uint64
}

var maxI64F64 = I64F64{Int: 1<<63 - 1, Frac: 1<<64 - 1}

// I64F64FromU64 is saturating_from_num(u64).
func I64F64FromU64(v uint64) I64F64 {
	if v > 1<<63-1 {
		return maxI64F64
	}
	return I64F64{Int: int64(v)}
}

// IsZero reports whether the value is 0.
func (a I64F64) IsZero() bool { return a.Int == 0 && a.Frac == 0 }

// Add is plain wrapping 128-bit addition.
func (a I64F64) Add(b I64F64) I64F64 {
	lo, c := bits.Add64(a.Frac, b.Frac, 0)
	return I64F64{Int: a.Int + b.Int + int64(c), Frac: lo}
}

// SatToU64 truncates to an unsigned integer (floor), 0 for negatives.
func (a I64F64) SatToU64() uint64 {
	if a.Int < 0 {
		return 0
	}
	return uint64(a.Int)
}

// ToI32F32 is I32F32::saturating_from_num: drop 32 fractional bits
// (arithmetic shift, so floor) and clamp.
func (a I64F64) ToI32F32() I32F32 {
	if t := a.Int >> 31; t != 0 && t != -1 {
		if a.Int < 0 {
			return minI32F32
		}
		return maxI32F32
	}
	return I32F32(uint64(a.Int)<<32 | a.Frac>>32)
}

func (a I64F64) neg() I64F64 {
	lo, b := bits.Sub64(0, a.Frac, 0)
	return I64F64{Int: -a.Int - int64(b), Frac: lo}
}

// u128 is an unsigned 128-bit magnitude.
type u128 struct{ hi, lo uint64 }

func (a I64F64) magnitude() u128 {
	if a.Int < 0 {
		n := a.neg()
		return u128{uint64(n.Int), n.Frac}
	}
	return u128{uint64(a.Int), a.Frac}
}

// SafeDiv is safe_div for I64F64: (a << 64) / b truncated toward zero, 0 on
// division by zero or when the quotient does not fit.
func (a I64F64) SafeDiv(b I64F64) I64F64 {
	if b.IsZero() {
		return I64F64{}
	}
	ua, ub := a.magnitude(), b.magnitude()
	q, ok := divShift64(ua, ub)
	if !ok {
		return I64F64{}
	}
	neg := (a.Int < 0) != (b.Int < 0)
	if neg {
		if q.hi > 1<<63 || (q.hi == 1<<63 && q.lo != 0) {
			return I64F64{}
		}
		return I64F64{Int: int64(q.hi), Frac: q.lo}.neg()
	}
	if q.hi > 1<<63-1 {
		return I64F64{}
	}
	return I64F64{Int: int64(q.hi), Frac: q.lo}
}

// divShift64 computes floor((a << 64) / b) for 128-bit magnitudes, and false
// when the quotient needs more than 128 bits.
func divShift64(a, b u128) (u128, bool) {
	switch {
	case b.hi == 0:
		// 192-bit numerator (a.hi, a.lo, 0) by a 64-bit divisor.
		d := b.lo
		if a.hi >= d {
			return u128{}, false
		}
		q1, r := bits.Div64(a.hi, a.lo, d)
		q0, _ := bits.Div64(r, 0, d)
		return u128{q1, q0}, true
	case b.lo == 0:
		// b = D·2^64 (integer-valued, e.g. a stake total): the quotient is a / D.
		d := b.hi
		q1 := a.hi / d
		q0, _ := bits.Div64(a.hi%d, a.lo, d)
		return u128{q1, q0}, true
	default:
		// General case: restoring division over the 192-bit numerator. The
		// divisor is at least 2^64, so the quotient is at most a < 2^128.
		var q, r u128
		var carry uint64
		num := [3]uint64{a.hi, a.lo, 0}
		for i := 0; i < 192; i++ {
			w := num[i/64]
			bit := (w >> (63 - uint(i%64))) & 1
			carry = r.hi >> 63
			r.hi = r.hi<<1 | r.lo>>63
			r.lo = r.lo<<1 | bit
			q.hi = q.hi<<1 | q.lo>>63
			q.lo <<= 1
			if carry != 0 || r.hi > b.hi || (r.hi == b.hi && r.lo >= b.lo) {
				lo, bw := bits.Sub64(r.lo, b.lo, 0)
				hi, _ := bits.Sub64(r.hi, b.hi, bw)
				r = u128{hi, lo}
				q.lo |= 1
			}
		}
		return q, true
	}
}

// ---------------------------------------------------------------------------
// exp

// eConst is substrate_fixed::transcendental::E: e truncated to 23 fractional
// bits (22802600 / 2^23 = 2.7182817459...), widened to I32F32.
const eConst I32F32 = 22802600 << 9

// fixedExp ports substrate_fixed::transcendental::exp::<I32F32, I32F32>:
// exp(0) = 1, exp(1) = the stored constant, otherwise the Taylor series
// 1 + x + sum_{i=2}^{31} t_i with t_i = floor(t_{i-1}·x) / i; negative
// arguments use 1/exp(|x|). It returns false where the original returns Err.
func fixedExp(x I32F32) (I32F32, bool) {
	if x == 0 {
		return One32, true
	}
	if x == One32 {
		return eConst, true
	}
	neg := x < 0
	if neg {
		if x == minI32F32 {
			return 0, false
		}
		x = -x
	}
	result, ok := x.checkedAdd(One32)
	if !ok {
		return 0, false
	}
	// x > 0, so every term is non-negative and unsigned arithmetic applies.
	ux := uint64(x)
	term := ux
	for i := uint64(2); i < 32; i++ {
		if term == 0 {
			break // 0·x/i stays 0: the remaining terms add nothing
		}
		hi, lo := bits.Mul64(term, ux)
		if hi>>31 != 0 {
			return 0, false // floor(term·x / 2^32) exceeds the type
		}
		// Dividing by the integer-valued fixed i is ((t<<32)/(i<<32)) =
		// t/i exactly (truncation, t >= 0), done by reciprocal multiply.
		term = expDiv[i].div(hi<<32 | lo>>32)
		if result, ok = result.checkedAdd(I32F32(term)); !ok {
			return 0, false
		}
	}
	if neg {
		return One32.checkedDiv(result)
	}
	return result, true
}

// reciprocal divides a dividend n < 2^63 by a small constant d exactly:
// with l = ceil(log2 d) and m = floor(2^(63+l)/d) + 1, floor(n/d) =
// floor(n·m / 2^(63+l)) (Granlund & Montgomery 1994, Theorem 4.2, N = 63).
// It replaces a hardware divide in exp's 30-term loop.
type reciprocal struct {
	m     uint64
	shift uint // l - 1: the product's high word is shifted by it
}

func newReciprocal(d uint64) reciprocal {
	l := uint(bits.Len64(d - 1)) // ceil(log2 d) for d >= 2
	// 2^(63+l) as a 128-bit (hi, lo) numerator: hi = 2^(l-1), lo = 0.
	q, _ := bits.Div64(1<<(l-1), 0, d)
	return reciprocal{m: q + 1, shift: l - 1}
}

func (r reciprocal) div(n uint64) uint64 {
	hi, _ := bits.Mul64(n, r.m)
	return hi >> r.shift
}

// expDiv[i] divides by i for the Taylor terms i = 2..31.
var expDiv = func() (t [32]reciprocal) {
	for i := uint64(2); i < 32; i++ {
		t[i] = newReciprocal(i)
	}
	return t
}()

// expSafe is subtensor's exp_safe: clamp x to [-20, 20], then exp; on
// overflow return 0 for x <= 0 and the maximum value otherwise.
func expSafe(x I32F32) I32F32 {
	x = clampFixed(x, FromInt(-20), FromInt(20))
	v, ok := fixedExp(x)
	if !ok {
		if x <= 0 {
			return 0
		}
		return maxI32F32
	}
	return v
}
