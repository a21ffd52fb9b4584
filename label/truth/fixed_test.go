package truth

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLog2Int(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := []uint64{1, 2, 3, 7, 100, 1<<32 - 1, 1 << 32, 1<<32 + 1, 1<<53 - 1}
	for range 2000 {
		xs = append(xs, r.Uint64N(1<<53-1)+1, r.Uint64N(1<<20)+1)
	}
	for _, x := range xs {
		got := float64(log2Int(x)) / (1 << 32)
		want := math.Log2(float64(x)) // exact inputs: float64 holds x
		if d := math.Abs(got-want) * (1 << 32); d > 3 {
			t.Fatalf("log2Int(%d) = %v, want %v (%.1f units off)", x, got, want, d)
		}
	}
	// The top of the range, where normalising drops a bit.
	if got, want := log2Int(math.MaxUint64), log2Q(64)<<32; want-got > 2 {
		t.Fatalf("log2Int(MaxUint64) = %d, want about %d", got, want)
	}
}

func TestExp2Neg(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	if got := exp2Neg(0); got != 1<<expShift {
		t.Fatalf("exp2Neg(0) = %d, want exactly 2^%d", got, expShift)
	}
	if got := exp2Neg(expShift << 32); got != 0 {
		t.Fatalf("exp2Neg(%d) = %d, want 0", expShift, got)
	}
	for range 2000 {
		d := log2Q(r.Uint64N(40 << 32))
		got := float64(exp2Neg(d)) / (1 << expShift)
		want := math.Exp2(-float64(d) / (1 << 32))
		// Truncation to Q52 costs 2^-52 absolute; the tables far less.
		if math.Abs(got-want) > 4.0/(1<<expShift)+want*1e-15 {
			t.Fatalf("exp2Neg(%d) = %v, want %v", d, got, want)
		}
	}
}

func TestSoftmax(t *testing.T) {
	tests := []struct {
		name string
		acc  []log2Q
		want []float64
	}{
		{"equal", []log2Q{5 << 32, 5 << 32}, []float64{0.5, 0.5}},
		{"one bit apart", []log2Q{0, 1 << 32}, []float64{1.0 / 3, 2.0 / 3}},
		{"far apart", []log2Q{-100 << 32, 0, -100 << 32}, []float64{0, 1, 0}},
		{"four", []log2Q{0, -1 << 32, -2 << 32, -3 << 32}, []float64{8.0 / 15, 4.0 / 15, 2.0 / 15, 1.0 / 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make([]Prob, len(tt.acc))
			softmax(tt.acc, out, make([]uint64, len(tt.acc)))
			var sum Prob
			for c, p := range out {
				sum += p
				if got := float64(p) / float64(One); math.Abs(got-tt.want[c]) > 1e-9 {
					t.Errorf("class %d: %v, want %v", c, got, tt.want[c])
				}
			}
			if sum > One || One-sum > Prob(len(out)) {
				t.Errorf("row sums to %d, want One (%d) within %d", sum, One, len(out))
			}
		})
	}
}

func TestRatioAndPPM(t *testing.T) {
	if got := Ratio(1, 3); got != One/3 {
		t.Errorf("Ratio(1,3) = %d, want %d", got, One/3)
	}
	if got := Ratio(1<<62, 1<<62); got != One {
		t.Errorf("Ratio of large equal values = %d, want One", got)
	}
	if got := (One / 2).PPM(); got != 500_000 {
		t.Errorf("PPM(1/2) = %d", got)
	}
	if got := Ratio(1, 3).PPM(); got != 333_333 {
		t.Errorf("PPM(1/3) = %d", got)
	}
}

// The tables are built at start-up with integer arithmetic; pin a few
// entries so a change to that code that moves any bit is noticed.
func TestTablesPinned(t *testing.T) {
	if got := exp2Tab[3][128]; got != 3260954456333195556 { // 2^61.5 = ...553.09: 3 units high
		t.Errorf("exp2Tab[3][128] = %d", got)
	}
	if got := logTab.log[0][128]; got != 2512394810 { // log2(1.5) * 2^32
		t.Errorf("logTab.log[0][128] = %d", got)
	}
}
