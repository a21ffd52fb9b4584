//go:build !wasip1

package job

import "github.com/tenun-chain/tenun/compute/sdk/kernels"

// Outside the sandbox the kernels are plain Go calls to the code the
// sandbox runs as host functions.

func matMul(flags, m, n, k int, alpha float64, a, b, c []float64) {
	kernels.MatMul(flags, m, n, k, alpha, a, b, c)
}
func add(x, y, out []float64)                               { kernels.Add(x, y, out) }
func sub(x, y, out []float64)                               { kernels.Sub(x, y, out) }
func mul(x, y, out []float64)                               { kernels.Mul(x, y, out) }
func scale(alpha float64, x, out []float64)                 { kernels.Scale(alpha, x, out) }
func axpy(alpha float64, x, y []float64)                    { kernels.Axpy(alpha, x, y) }
func addRow(m, n int, row, x []float64)                     { kernels.AddRow(m, n, row, x) }
func relu(x, out []float64)                                 { kernels.Relu(x, out) }
func reluGrad(h, d, out []float64)                          { kernels.ReluGrad(h, d, out) }
func sumRows(m, n int, x, out []float64)                    { kernels.SumRows(m, n, x, out) }
func sum(x []float64) float64                               { return kernels.Sum(x) }
func expAll(x, out []float64)                               { kernels.ExpAll(x, out) }
func logAll(x, out []float64)                               { kernels.LogAll(x, out) }
func softmax(m, n int, x, out []float64)                    { kernels.Softmax(m, n, x, out) }
func crossEntropy(m, n int, p []float64, l []int32) float64 { return kernels.CrossEntropy(m, n, p, l) }
func oneHotSub(m, n int, l []int32, x []float64)            { kernels.OneHotSub(m, n, l, x) }
func argMaxRows(m, n int, x []float64, out []int32)         { kernels.ArgMaxRows(m, n, x, out) }
