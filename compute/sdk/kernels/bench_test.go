package kernels

import "testing"

func benchMM(bm *testing.B, flags, m, n, k int) {
	a, b, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
	for i := range a {
		a[i] = float64(i%7) - 3
	}
	for i := range b {
		b[i] = float64(i%5) - 2
	}
	bm.ResetTimer()
	for range bm.N {
		MatMul(flags, m, n, k, 0.5, a, b, c)
	}
	bm.ReportMetric(float64(m*n*k)*float64(bm.N)/bm.Elapsed().Seconds()/1e9, "Gmadd/s")
}

func BenchmarkFwd1(b *testing.B) { benchMM(b, TransB, 16, 64, 64) }
func BenchmarkFwd2(b *testing.B) { benchMM(b, TransB, 16, 10, 64) }
func BenchmarkDh(b *testing.B)   { benchMM(b, 0, 16, 64, 10) }
func BenchmarkDw2(b *testing.B)  { benchMM(b, TransA|Accumulate, 10, 64, 16) }
func BenchmarkDw1(b *testing.B)  { benchMM(b, TransA|Accumulate, 64, 64, 16) }
