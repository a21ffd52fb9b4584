package truth

import (
	"math"
	"testing"
)

func TestZZLog(t *testing.T) {
	worst := 0.0
	for _, x := range []uint64{1, 2, 3, 5, 7, 100, 12345, 1 << 40, 1<<40 + 1, 98765432123, math.MaxUint64, math.MaxUint64 - 1, 1<<63 + 12345, 3 << 61, 0xFFFFFFFF, 0x100000001} {
		got := float64(log2Int(x)) / (1 << 32)
		want := math.Log2(float64(x))
		worst = max(worst, math.Abs(got-want)*(1<<32))
		if x < 1<<53 {
			sl := float64(log2Slow(x, 32)) / (1 << 32)
			t.Logf("%d %v %v slow %v", x, got, want, (sl-want)*(1<<32))
		}
	}
	t.Logf("worst error in Q32 units %v", worst)
	for _, d := range []log2Q{0, 1, 1 << 31, 1 << 32, 5<<32 + 123456789, 51 << 32, 52 << 32} {
		got := float64(exp2Neg(d)) / (1 << 52)
		want := math.Exp2(-float64(d) / (1 << 32))
		t.Logf("exp %v %v %v", d, got, (got-want)/want)
	}
}
