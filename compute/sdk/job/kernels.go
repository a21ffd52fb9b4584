package job

import (
	"fmt"

	"github.com/tenun-chain/tenun/compute/sdk/kernels"
)

// Matrix product flags, as package kernels defines them.
const (
	TransA     = kernels.TransA
	TransB     = kernels.TransB
	Accumulate = kernels.Accumulate
)

// The kernels below check their slices' lengths here, so a mistake panics
// with the same message natively and in the sandbox (which checks again and
// traps on anything that gets past).

func need(kernel, name string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("job.%s: %s has %d elements, needs %d", kernel, name, have, want))
	}
}

// MatMul sets c (m x n) to alpha*op(a)*op(b), or adds that with Accumulate;
// op(a) is m x k (a is k x m with TransA), op(b) k x n (b is n x k with
// TransB). See kernels.MatMul for the order of summation.
func MatMul(flags, m, n, k int, alpha float64, a, b, c []float64) {
	need("MatMul", "a", len(a), m*k)
	need("MatMul", "b", len(b), k*n)
	need("MatMul", "c", len(c), m*n)
	matMul(flags, m, n, k, alpha, a, b, c)
}

// Add sets out = x + y element-wise over len(x).
func Add(x, y, out []float64) { binary("Add", x, y, out); add(x, y, out) }

// Sub sets out = x - y element-wise.
func Sub(x, y, out []float64) { binary("Sub", x, y, out); sub(x, y, out) }

// Mul sets out = x * y element-wise.
func Mul(x, y, out []float64) { binary("Mul", x, y, out); mul(x, y, out) }

func binary(kernel string, x, y, out []float64) {
	need(kernel, "y", len(y), len(x))
	need(kernel, "out", len(out), len(x))
}

// Scale sets out = alpha * x.
func Scale(alpha float64, x, out []float64) {
	need("Scale", "out", len(out), len(x))
	scale(alpha, x, out)
}

// Axpy adds alpha*x to y.
func Axpy(alpha float64, x, y []float64) { need("Axpy", "y", len(y), len(x)); axpy(alpha, x, y) }

// AddRow adds row (n values) to each of the m rows of x.
func AddRow(m, n int, row, x []float64) {
	need("AddRow", "row", len(row), n)
	need("AddRow", "x", len(x), m*n)
	addRow(m, n, row, x)
}

// Relu sets out = max(x, 0).
func Relu(x, out []float64) { need("Relu", "out", len(out), len(x)); relu(x, out) }

// ReluGrad sets out = d where h > 0, else 0.
func ReluGrad(h, d, out []float64) {
	need("ReluGrad", "d", len(d), len(h))
	need("ReluGrad", "out", len(out), len(h))
	reluGrad(h, d, out)
}

// SumRows sets out (n) to the column sums of x (m x n).
func SumRows(m, n int, x, out []float64) {
	need("SumRows", "x", len(x), m*n)
	need("SumRows", "out", len(out), n)
	sumRows(m, n, x, out)
}

// Sum returns the sum of x in order.
func Sum(x []float64) float64 { return sum(x) }

// Exp sets out = kernels.Exp(x) element-wise.
func Exp(x, out []float64) { need("Exp", "out", len(out), len(x)); expAll(x, out) }

// Log sets out = kernels.Log(x) element-wise.
func Log(x, out []float64) { need("Log", "out", len(out), len(x)); logAll(x, out) }

// Softmax sets each row of out (m x n) to the softmax of that row of x.
func Softmax(m, n int, x, out []float64) {
	need("Softmax", "x", len(x), m*n)
	need("Softmax", "out", len(out), m*n)
	softmax(m, n, x, out)
}

// CrossEntropy returns the summed loss of probabilities p (m x n) against labels.
func CrossEntropy(m, n int, p []float64, labels []int32) float64 {
	need("CrossEntropy", "p", len(p), m*n)
	need("CrossEntropy", "labels", len(labels), m)
	return crossEntropy(m, n, p, labels)
}

// OneHotSub subtracts 1 at each row's label in x (m x n).
func OneHotSub(m, n int, labels []int32, x []float64) {
	need("OneHotSub", "labels", len(labels), m)
	need("OneHotSub", "x", len(x), m*n)
	oneHotSub(m, n, labels, x)
}

// ArgMaxRows sets out (m) to each row's index of its largest value.
func ArgMaxRows(m, n int, x []float64, out []int32) {
	need("ArgMaxRows", "x", len(x), m*n)
	need("ArgMaxRows", "out", len(out), m)
	argMaxRows(m, n, x, out)
}
