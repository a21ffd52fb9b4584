// Package kernels holds Tenun's deterministic tensor kernels: the float64
// matrix product, element-wise operations, reductions, activations, softmax
// and cross-entropy that the compute sandbox offers WASI jobs as host
// functions (import module "tenun_nn"), so their inner loops run as native
// code instead of wasm. The same code runs in a job's native build (see
// package job), so a program gets the same bytes natively and in the sandbox.
//
// Every result is the same bit for bit on every provider and architecture:
//
//   - each sum runs in one fixed order (over the shared dimension, from
//     index 0 up, starting at +0), whatever the loop order or blocking;
//   - every a*b+c is written float64(a*b)+c, which forbids Go from fusing
//     it into an FMA (arm64, ppc64, s390x and GOAMD64=v3 would otherwise);
//   - exp and log are this package's own pure-Go code, not package math,
//     which uses assembly on some architectures;
//   - no goroutines, so no parallel reduction can change the order.
//
// The package uses only the standard library, because it is also compiled
// into jobs built outside this repository.
package kernels

import "math"

// Matrix product flags.
const (
	TransA     = 1 // A is stored k x m and used transposed
	TransB     = 2 // B is stored n x k and used transposed
	Accumulate = 4 // C += alpha*op(A)*op(B) instead of C = alpha*op(A)*op(B)
	AllFlags   = TransA | TransB | Accumulate
)

// Fuel costs: one unit per multiply-add or element touched, so a job pays
// for the work it asks for whichever kernel (or its own loop) does it.
const (
	CostCall = 1  // every call
	CostExp  = 16 // one exp or log, in element operations
)

// MatMulCost is the fuel of one matrix product: m*n*k multiply-adds plus
// the m*n outputs.
func MatMulCost(m, n, k int) uint64 {
	return uint64(m)*uint64(n)*uint64(k) + uint64(m)*uint64(n) + CostCall
}

// MatMul sets C (m x n, row-major) to alpha*op(A)*op(B), or adds that to C
// with Accumulate; op(A) is m x k and op(B) k x n. Each output's dot
// product sums over k in order from +0, and is then scaled and added:
// C[i][j] = C[i][j] + float64(alpha*s). The slices must hold exactly the
// sizes their shapes imply and C must not overlap A or B (the sandbox checks
// both; here a short slice panics).
func MatMul(flags, m, n, k int, alpha float64, a, b, c []float64) {
	acc := flags&Accumulate != 0
	c = c[:m*n]
	if m == 0 || n == 0 {
		return
	}
	switch {
	case flags&TransB != 0 && flags&TransA == 0:
		// Rows of A and B are both contiguous over k: dot products, four
		// outputs at a time so each load of A feeds four sums.
		a, b = a[:m*k], b[:n*k]
		for i := range m {
			ai := a[i*k : i*k+k]
			ci := c[i*n : i*n+n]
			j := 0
			for ; j+4 <= n; j += 4 {
				b0, b1, b2, b3 := b[j*k:j*k+k], b[(j+1)*k:(j+1)*k+k], b[(j+2)*k:(j+2)*k+k], b[(j+3)*k:(j+3)*k+k]
				b0, b1, b2, b3 = b0[:len(ai)], b1[:len(ai)], b2[:len(ai)], b3[:len(ai)] // no bounds checks below
				var s0, s1, s2, s3 float64
				for p, x := range ai {
					s0 += float64(x * b0[p])
					s1 += float64(x * b1[p])
					s2 += float64(x * b2[p])
					s3 += float64(x * b3[p])
				}
				store(ci[j:j+4], acc, alpha, s0, s1, s2, s3)
			}
			for ; j < n; j++ {
				bj := b[j*k : j*k+k]
				bj = bj[:len(ai)]
				var s float64
				for p, x := range ai {
					s += float64(x * bj[p])
				}
				store1(&ci[j], acc, alpha, s)
			}
		}
	default:
		// B is used untransposed (its rows run over n) or A transposed: sum
		// row by row of B into a row of partial sums, which adds the terms
		// of every output in the same order as a dot product would.
		// op(A)[i][p] is a[i*si+p*sp].
		si, sp := k, 1
		if flags&TransA != 0 {
			si, sp = 1, m
		}
		a = a[:m*k]
		transB := flags&TransB != 0
		if !transB {
			b = b[:k*n]
		} else {
			b = b[:n*k]
		}
		// Four rows of C at a time, so each value of B read feeds four sums.
		var buf [4 * 128]float64
		var sums []float64
		if 4*n <= len(buf) {
			sums = buf[:4*n]
		} else {
			sums = make([]float64, 4*n)
		}
		s0, s1, s2, s3 := sums[:n], sums[n:2*n], sums[2*n:3*n], sums[3*n:4*n]
		for i := 0; i < m; i += 4 {
			rows := min(4, m-i)
			clear(sums)
			for p := range k {
				var x0, x1, x2, x3 float64 // rows past m stay 0 and are never stored
				x0 = a[i*si+p*sp]
				if rows > 1 {
					x1 = a[(i+1)*si+p*sp]
				}
				if rows > 2 {
					x2 = a[(i+2)*si+p*sp]
				}
				if rows > 3 {
					x3 = a[(i+3)*si+p*sp]
				}
				if transB {
					for j := range n {
						y := b[j*k+p]
						s0[j] += float64(x0 * y)
						s1[j] += float64(x1 * y)
						s2[j] += float64(x2 * y)
						s3[j] += float64(x3 * y)
					}
					continue
				}
				bp := b[p*n : p*n+n]
				s0, s1, s2, s3 := s0[:len(bp)], s1[:len(bp)], s2[:len(bp)], s3[:len(bp)]
				for j, y := range bp {
					s0[j] += float64(x0 * y)
					s1[j] += float64(x1 * y)
					s2[j] += float64(x2 * y)
					s3[j] += float64(x3 * y)
				}
			}
			for r, sr := range [][]float64{s0, s1, s2, s3}[:rows] {
				ci := c[(i+r)*n : (i+r)*n+n]
				for j, v := range sr {
					store1(&ci[j], acc, alpha, v)
				}
			}
		}
	}
}

func store1(c *float64, acc bool, alpha, s float64) {
	v := float64(alpha * s)
	if acc {
		v = *c + v
	}
	*c = v
}

func store(c []float64, acc bool, alpha, s0, s1, s2, s3 float64) {
	v0, v1, v2, v3 := float64(alpha*s0), float64(alpha*s1), float64(alpha*s2), float64(alpha*s3)
	if acc {
		v0, v1, v2, v3 = c[0]+v0, c[1]+v1, c[2]+v2, c[3]+v3
	}
	c[0], c[1], c[2], c[3] = v0, v1, v2, v3
}

// Add sets out[i] = x[i] + y[i].
func Add(x, y, out []float64) {
	y, out = y[:len(x)], out[:len(x)]
	for i, v := range x {
		out[i] = v + y[i]
	}
}

// Sub sets out[i] = x[i] - y[i].
func Sub(x, y, out []float64) {
	y, out = y[:len(x)], out[:len(x)]
	for i, v := range x {
		out[i] = v - y[i]
	}
}

// Mul sets out[i] = x[i] * y[i].
func Mul(x, y, out []float64) {
	y, out = y[:len(x)], out[:len(x)]
	for i, v := range x {
		out[i] = v * y[i]
	}
}

// Scale sets out[i] = alpha * x[i].
func Scale(alpha float64, x, out []float64) {
	out = out[:len(x)]
	for i, v := range x {
		out[i] = alpha * v
	}
}

// Axpy adds alpha*x to y: y[i] = y[i] + float64(alpha*x[i]).
func Axpy(alpha float64, x, y []float64) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += float64(alpha * v)
	}
}

// AddRow adds row (length n) to every row of x (m x n).
func AddRow(m, n int, row, x []float64) {
	row, x = row[:n], x[:m*n]
	for i := range m {
		xi := x[i*n : i*n+n]
		for j, v := range row {
			xi[j] += v
		}
	}
}

// Relu sets out[i] = max(x[i], 0), with +0 for every x[i] <= 0 (and NaN).
func Relu(x, out []float64) {
	out = out[:len(x)]
	for i, v := range x {
		out[i] = relu(v)
	}
}

func relu(v float64) float64 {
	if int64(math.Float64bits(v)) <= 0 { // sign set, or +0: not above 0
		return 0
	}
	return v
}

// ReluGrad sets out[i] = d[i] where h[i] > 0 and +0 elsewhere: the ReLU's
// backward pass, h being its output (or input).
func ReluGrad(h, d, out []float64) {
	d, out = d[:len(h)], out[:len(h)]
	for i, v := range h {
		if int64(math.Float64bits(v)) <= 0 {
			out[i] = 0
		} else {
			out[i] = d[i]
		}
	}
}

// SumRows sets out[j] to the sum of column j of x (m x n), over the rows in
// order from +0: the reduction a bias gradient needs.
func SumRows(m, n int, x, out []float64) {
	x, out = x[:m*n], out[:n]
	clear(out)
	for i := range m {
		xi := x[i*n : i*n+n]
		for j, v := range xi {
			out[j] += v
		}
	}
}

// Sum returns the sum of x in order from +0.
func Sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

// ExpAll sets out[i] = Exp(x[i]).
func ExpAll(x, out []float64) {
	out = out[:len(x)]
	for i, v := range x {
		out[i] = Exp(v)
	}
}

// LogAll sets out[i] = Log(x[i]).
func LogAll(x, out []float64) {
	out = out[:len(x)]
	for i, v := range x {
		out[i] = Log(v)
	}
}

// Softmax sets each row of out (m x n) to the softmax of that row of x:
// shifted by the row's maximum so Exp never overflows, then divided by the
// row's sum (in order). out may be x.
func Softmax(m, n int, x, out []float64) {
	x, out = x[:m*n], out[:m*n]
	for i := range m {
		xi, oi := x[i*n:i*n+n], out[i*n:i*n+n]
		if n == 0 {
			continue
		}
		maxV := xi[0]
		for _, v := range xi {
			if v > maxV {
				maxV = v
			}
		}
		sum := 0.0
		for j, v := range xi {
			e := Exp(v - maxV)
			oi[j] = e
			sum += e
		}
		for j, v := range oi {
			oi[j] = v / sum
		}
	}
}

// MinProb is where CrossEntropy clips a probability, so a zero costs a
// large finite loss instead of +Inf.
const MinProb = 1e-300

// CrossEntropy returns the summed loss -Log(max(p[i][label[i]], MinProb))
// over the rows of p (m x n), in order. Labels must be in [0, n).
func CrossEntropy(m, n int, p []float64, labels []int32) float64 {
	p, labels = p[:m*n], labels[:m]
	total := 0.0
	for i, l := range labels {
		total += -Log(max(p[i*n+int(l)], MinProb))
	}
	return total
}

// OneHotSub subtracts 1 from x[i][label[i]] for every row of x (m x n):
// turns softmax probabilities into the cross-entropy's gradient.
func OneHotSub(m, n int, labels []int32, x []float64) {
	x, labels = x[:m*n], labels[:m]
	for i, l := range labels {
		x[i*n+int(l)] -= 1
	}
}

// ArgMaxRows sets out[i] to the index of the largest value of row i of x
// (m x n), the first one on ties; 0 for an empty row.
func ArgMaxRows(m, n int, x []float64, out []int32) {
	x, out = x[:m*n], out[:m]
	for i := range m {
		xi := x[i*n : i*n+n]
		best := 0
		for j := 1; j < n; j++ {
			if xi[j] > xi[best] {
				best = j
			}
		}
		out[i] = int32(best)
	}
}
