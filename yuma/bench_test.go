package yuma

import (
	"fmt"
	"testing"
)

func benchmarkEpoch(b *testing.B, n int, mode BondsMode, liquid bool) {
	s, err := SyntheticSubnet(n, 64, 1)
	if err != nil {
		b.Fatal(err)
	}
	p := DefaultParams()
	p.BondsMode, p.LiquidAlpha = mode, liquid
	// Two warm-up epochs so that bonds are populated (steady state).
	for k := 0; k < 2; k++ {
		if _, err := Epoch(s, p, SyntheticBlock, 1_000_000_000); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Epoch(s, p, SyntheticBlock, 1_000_000_000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEpoch4096 is the acceptance benchmark: 4,096 uids, 64 validators
// with dense weights, Yuma 3 defaults. Target: under 100 ms.
func BenchmarkEpoch4096(b *testing.B) { benchmarkEpoch(b, 4096, ModeYuma3, false) }

func BenchmarkEpochSizes(b *testing.B) {
	for _, n := range []int{256, 1024, 4096} {
		for _, c := range []struct {
			name   string
			mode   BondsMode
			liquid bool
		}{{"yuma3", ModeYuma3, false}, {"yuma3-liquid", ModeYuma3, true}, {"original", ModeOriginal, false}} {
			b.Run(fmt.Sprintf("n=%d/%s", n, c.name), func(b *testing.B) { benchmarkEpoch(b, n, c.mode, c.liquid) })
		}
	}
}
