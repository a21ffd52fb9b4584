package yuma

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fx converts an f32 literal as Rust's fixed(val: f32) does: the exact
// binary value of the f32, rounded to nearest (ties to even) at 2^-32.
func fx(v float32) I32F32 {
	return I32F32(math.RoundToEven(float64(v) * (1 << 32)))
}

func fxs(vs ...float32) []I32F32 {
	out := make([]I32F32, len(vs))
	for i, v := range vs {
		out[i] = fx(v)
	}
	return out
}

func bigOf(a I32F32) *big.Int { return big.NewInt(int64(a)) }

// floorDiv and truncDiv on big integers give the reference semantics.
func floorShift(x *big.Int, s uint) *big.Int { return new(big.Int).Rsh(x, s) } // Rsh floors for negatives

func TestI32F32MulMatchesBigFloor(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []int64{0, 1, -1, 1 << 32, -(1 << 32), 1<<63 - 1, -1 << 63, 3 << 31, -(3 << 31)}
	for i := 0; i < 20000; i++ {
		var a, b int64
		switch i % 3 {
		case 0:
			a, b = int64(r.Uint64()), int64(r.Uint64())
		case 1:
			a, b = r.Int64N(1<<40)-1<<39, r.Int64N(1<<40)-1<<39
		default:
			a, b = vals[r.IntN(len(vals))], int64(r.Uint64()>>uint(r.IntN(64)))
		}
		want := floorShift(new(big.Int).Mul(big.NewInt(a), big.NewInt(b)), 32)
		got, ok := I32F32(a).checkedMul(I32F32(b))
		fits := want.IsInt64()
		if ok != fits {
			t.Fatalf("checkedMul(%d,%d) ok=%v, want fits=%v", a, b, ok, fits)
		}
		if fits && int64(got) != want.Int64() {
			t.Fatalf("checkedMul(%d,%d) = %d, want %s", a, b, got, want)
		}
		sat := I32F32(a).Mul(I32F32(b))
		switch {
		case fits && int64(sat) != want.Int64():
			t.Fatalf("Mul(%d,%d) = %d, want %s", a, b, sat, want)
		case !fits && want.Sign() > 0 && sat != maxI32F32, !fits && want.Sign() < 0 && sat != minI32F32:
			t.Fatalf("Mul(%d,%d) = %d, want saturation", a, b, sat)
		}
	}
}

func TestI32F32DivMatchesBigTrunc(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		a := int64(r.Uint64()) >> uint(r.IntN(40))
		b := int64(r.Uint64()) >> uint(r.IntN(63))
		if i%7 == 0 {
			b = 0
		}
		got, ok := I32F32(a).checkedDiv(I32F32(b))
		if b == 0 {
			if ok || I32F32(a).SafeDiv(0) != 0 {
				t.Fatalf("div by zero must fail and SafeDiv give 0")
			}
			continue
		}
		want := new(big.Int).Quo(new(big.Int).Lsh(big.NewInt(a), 32), big.NewInt(b)) // Quo truncates
		if ok != want.IsInt64() {
			t.Fatalf("checkedDiv(%d,%d) ok=%v want %v", a, b, ok, want.IsInt64())
		}
		if ok && int64(got) != want.Int64() {
			t.Fatalf("checkedDiv(%d,%d) = %d, want %s", a, b, got, want)
		}
		if !ok && I32F32(a).SafeDiv(I32F32(b)) != 0 {
			t.Fatalf("SafeDiv must give 0 on overflow")
		}
	}
}

func TestI64F64SafeDivMatchesBig(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	toBig := func(a I64F64) *big.Int {
		v := new(big.Int).Lsh(big.NewInt(a.Int), 64)
		return v.Add(v, new(big.Int).SetUint64(a.Frac))
	}
	for i := 0; i < 20000; i++ {
		a := I64F64{Int: int64(r.Uint64()) >> uint(r.IntN(64)), Frac: r.Uint64()}
		b := I64F64{Int: int64(r.Uint64()) >> uint(r.IntN(64)), Frac: r.Uint64()}
		switch i % 4 {
		case 1:
			a.Frac, b.Frac = 0, 0 // integer-valued (stake normalisation)
		case 2:
			b.Int = 0 // divisor below 1
		}
		if b.IsZero() {
			continue
		}
		want := new(big.Int).Quo(new(big.Int).Lsh(toBig(a), 64), toBig(b))
		got := a.SafeDiv(b)
		limit := new(big.Int).Lsh(big.NewInt(1), 127)
		if want.CmpAbs(limit) >= 0 && !(want.Sign() < 0 && want.CmpAbs(limit) == 0) {
			if !got.IsZero() {
				t.Fatalf("SafeDiv overflow must give 0")
			}
			continue
		}
		if toBig(got).Cmp(want) != 0 {
			t.Fatalf("SafeDiv(%+v, %+v) = %s, want %s", a, b, toBig(got), want)
		}
	}
}

func TestConversionsAndConstants(t *testing.T) {
	// bonds_moving_average 900_000 gives a = 429496730 / 2^32 (SPEC §2.8a).
	if got := bmaAlpha(DefaultParams()); got != 429496730 {
		t.Fatalf("bmaAlpha = %d, want 429496730", got)
	}
	if got := U16ProportionToFixed(65535); got != One32 {
		t.Fatalf("u16 proportion of 65535 = %d", got)
	}
	// kappa 32767/65535 truncates.
	if got, want := U16ProportionToFixed(32767), I32F32((int64(32767)<<32)/65535); got != want {
		t.Fatalf("kappa = %d, want %d", got, want)
	}
	for _, c := range []struct {
		x    I32F32
		want uint16
	}{{0, 0}, {One32, 65535}, {2 * One32, 65535}, {-One32, 0}, {half32, 32767}, {fx(0.1), 6553}} {
		if got := FixedProportionToU16(c.x); got != c.want {
			t.Errorf("FixedProportionToU16(%s) = %d, want %d", c.x, got, c.want)
		}
	}
	if got := (I32F32(5) << 31).Round(); got != 3*One32 { // 2.5 -> 3
		t.Errorf("round(2.5) = %s", got)
	}
	if got := (-(I32F32(5) << 31)).Round(); got != -3*One32 { // -2.5 -> -3
		t.Errorf("round(-2.5) = %s", got)
	}
	if got := fx(0.5).MulU64Floor(1_000_000_001); got != 500_000_000 {
		t.Errorf("0.5·1000000001 = %d", got)
	}
}

// SPEC §2.0 set_weights examples.
func TestMaxUpscaleU16(t *testing.T) {
	const m = 65535
	cases := []struct{ in, want []uint16 }{
		{[]uint16{m / 4, m / 2, (m / 4) * 3, m}, []uint16{16383, 32767, 49149, 65535}},
		{[]uint16{2 * (m / 3), m / 3}, []uint16{65535, 32768}},
		{[]uint16{m / 2, m / 2}, []uint16{65535, 65535}},
		{[]uint16{0, 0}, []uint16{0, 0}},
		{[]uint16{32767, 32767}, []uint16{65535, 65535}},
		{[]uint16{1, 0, 2}, []uint16{32768, 0, 65535}},
	}
	for _, c := range cases {
		got := MaxUpscaleU16(c.in)
		for k := range got {
			if got[k] != c.want[k] {
				t.Errorf("MaxUpscaleU16(%v) = %v, want %v", c.in, got, c.want)
				break
			}
		}
	}
}

func TestFixedStringAndParse(t *testing.T) {
	for bitsVal, want := range map[int64]string{
		429496729: "0.0999999999", 858993459: "0.2", 1288490188: "0.2999999998", 1717986918: "0.4",
		0: "0", 1 << 32: "1", -(1 << 31): "-0.5", 1 << 30: "0.25", 1: "0.0000000002",
	} {
		if got := I32F32(bitsVal).String(); got != want {
			t.Errorf("String(%d) = %s, want %s", bitsVal, got, want)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20000; i++ {
		v := I32F32(int64(r.Uint64()) >> uint(r.IntN(63)))
		p, err := ParseI32F32(v.String())
		if err != nil || p != v {
			t.Fatalf("round trip %d -> %q -> %d (%v)", v, v.String(), p, err)
		}
	}
	if v, _ := ParseI32F32("0.1"); v != 429496730 {
		t.Errorf("parse 0.1 = %d", v)
	}
}

func TestExp(t *testing.T) {
	if v, ok := fixedExp(0); !ok || v != One32 {
		t.Fatalf("exp(0) = %s", v)
	}
	// exp(1) is the stored 23-bit constant 2.7182817459...
	if v, ok := fixedExp(One32); !ok || v != 22802600<<9 {
		t.Fatalf("exp(1) = %s", v)
	}
	for _, x := range []float64{-20, -10, -5, -1.5, -0.7, -0.1, 0.1, 0.5, 0.9999, 1.5, 3, 5, 10, 15, 20} {
		v, ok := fixedExp(I32F32(math.Round(x * (1 << 32))))
		if !ok {
			t.Fatalf("exp(%v) failed", x)
		}
		// The port keeps substrate-fixed's 32-term Taylor series, which
		// falls short of e^x for large |x| (exp(20) ≈ 4.812e8, not
		// 4.852e8); compare with that series, not with math.Exp.
		series, term := 1.0, 1.0
		for i := 1; i < 32; i++ {
			term *= math.Abs(x) / float64(i)
			series += term
		}
		if x < 0 {
			series = 1 / series
		}
		got, want := float64(v)/(1<<32), series
		if math.Abs(got-want) > 1e-6*math.Max(1, want) {
			t.Errorf("exp(%v) = %v, want %v", x, got, want)
		}
	}
	if expSafe(FromInt(100)) != expSafe(FromInt(20)) || expSafe(FromInt(-100)) != expSafe(FromInt(-20)) {
		t.Error("exp_safe must clamp to [-20, 20]")
	}
}

func TestAlphaSigmoidBounds(t *testing.T) {
	p := DefaultParams()
	lo, hi := U16ProportionToFixed(p.AlphaLow), U16ProportionToFixed(p.AlphaHigh)
	steep := FromInt(int64(p.AlphaSigmoidSteepness)).SatDiv(FromInt(-100))
	// d = 0 (weight at consensus): σ ≈ 0.0067, α ≈ lo.
	a0 := alphaSigmoid(fx(0.3), fx(0.3), 0, lo, hi, steep)
	// d = 1 (weight 1 on a zero-consensus miner): σ ≈ 0.9933, α ≈ hi.
	a1 := alphaSigmoid(0, One32, 0, lo, hi, steep)
	f := func(v I32F32) float64 { return float64(v) / (1 << 32) }
	lof, hif := f(lo), f(hi)
	if w := lof + 0.0066929*(hif-lof); math.Abs(f(a0)-w) > 1e-6 {
		t.Errorf("alpha(d=0) = %v, want ≈ %v", f(a0), w)
	}
	if w := lof + 0.9933071*(hif-lof); math.Abs(f(a1)-w) > 1e-6 {
		t.Errorf("alpha(d=1) = %v, want ≈ %v", f(a1), w)
	}
	// A bond above the weight is the "sell" side: d = b − w.
	if a := alphaSigmoid(0, fx(0.2), fx(0.9), lo, hi, steep); !(a > a0 && a < a1) {
		t.Errorf("sell-side alpha %s not between %s and %s", a, a0, a1)
	}
}

// The reciprocal division in exp must equal plain division for every
// dividend below 2^63 (the only ones exp produces).
func TestReciprocalDivision(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for d := uint64(2); d < 32; d++ {
		rc := newReciprocal(d)
		edges := []uint64{0, 1, d - 1, d, d + 1, 1<<63 - 1, 1<<63 - d, 1 << 62, 1<<32 - 1, 1 << 32}
		for k := uint64(1); k < 1000; k++ {
			edges = append(edges, k*d, k*d-1, (1<<63-1)/d*d-k)
		}
		for i := 0; i < 100000; i++ {
			edges = append(edges, r.Uint64()>>(1+uint(r.IntN(63))))
		}
		for _, n := range edges {
			if n >= 1<<63 {
				continue
			}
			if got := rc.div(n); got != n/d {
				t.Fatalf("%d/%d = %d, want %d", n, d, got, n/d)
			}
		}
	}
}

// The closed forms of the u16 proportion conversions equal subtensor's
// I32F32 arithmetic for every input.
func TestU16ProportionClosedForm(t *testing.T) {
	for u := 0; u <= 65535; u++ {
		if got, want := U16ProportionToFixed(uint16(u)), FromU16(uint16(u)).SafeDiv(u16Max32); got != want {
			t.Fatalf("U16ProportionToFixed(%d) = %d, want %d", u, got, want)
		}
	}
	r := rand.New(rand.NewPCG(13, 14))
	for i := 0; i < 200000; i++ {
		x := I32F32(int64(r.Uint64()) >> uint(r.IntN(64)))
		if i%3 == 0 {
			x = I32F32(r.Int64N(int64(One32) + 2))
		}
		if got, want := FixedProportionToU16(x), x.SatMul(u16Max32).SatToU16(); got != want {
			t.Fatalf("FixedProportionToU16(%d) = %d, want %d", x, got, want)
		}
	}
}
