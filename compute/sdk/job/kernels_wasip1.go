//go:build wasip1

package job

import (
	"runtime"
	"unsafe"
)

// In the sandbox the kernels are host functions of the import module
// tenun_nn; each slice goes as the address of its first element. The
// slices stay reachable across the call (KeepAlive), and Go's collector
// does not move objects, so the addresses stay valid.

//go:wasmimport tenun_nn matmul
func hostMatMul(flags, m, n, k int32, alpha float64, a, b, c unsafe.Pointer)

//go:wasmimport tenun_nn add
func hostAdd(n int32, x, y, out unsafe.Pointer)

//go:wasmimport tenun_nn sub
func hostSub(n int32, x, y, out unsafe.Pointer)

//go:wasmimport tenun_nn mul
func hostMul(n int32, x, y, out unsafe.Pointer)

//go:wasmimport tenun_nn scale
func hostScale(n int32, alpha float64, x, out unsafe.Pointer)

//go:wasmimport tenun_nn axpy
func hostAxpy(n int32, alpha float64, x, y unsafe.Pointer)

//go:wasmimport tenun_nn add_row
func hostAddRow(m, n int32, row, x unsafe.Pointer)

//go:wasmimport tenun_nn relu
func hostRelu(n int32, x, out unsafe.Pointer)

//go:wasmimport tenun_nn relu_grad
func hostReluGrad(n int32, h, d, out unsafe.Pointer)

//go:wasmimport tenun_nn sum_rows
func hostSumRows(m, n int32, x, out unsafe.Pointer)

//go:wasmimport tenun_nn sum
func hostSum(n int32, x unsafe.Pointer) float64

//go:wasmimport tenun_nn exp
func hostExp(n int32, x, out unsafe.Pointer)

//go:wasmimport tenun_nn log
func hostLog(n int32, x, out unsafe.Pointer)

//go:wasmimport tenun_nn softmax
func hostSoftmax(m, n int32, x, out unsafe.Pointer)

//go:wasmimport tenun_nn cross_entropy
func hostCrossEntropy(m, n int32, p, labels unsafe.Pointer) float64

//go:wasmimport tenun_nn onehot_sub
func hostOneHotSub(m, n int32, labels, x unsafe.Pointer)

//go:wasmimport tenun_nn argmax_rows
func hostArgMaxRows(m, n int32, x, out unsafe.Pointer)

func f(s []float64) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }
func l(s []int32) unsafe.Pointer   { return unsafe.Pointer(unsafe.SliceData(s)) }

func matMul(flags, m, n, k int, alpha float64, a, b, c []float64) {
	hostMatMul(int32(flags), int32(m), int32(n), int32(k), alpha, f(a), f(b), f(c))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}

func add(x, y, out []float64) {
	hostAdd(int32(len(x)), f(x), f(y), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(y)
	runtime.KeepAlive(out)
}

func sub(x, y, out []float64) {
	hostSub(int32(len(x)), f(x), f(y), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(y)
	runtime.KeepAlive(out)
}

func mul(x, y, out []float64) {
	hostMul(int32(len(x)), f(x), f(y), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(y)
	runtime.KeepAlive(out)
}

func scale(alpha float64, x, out []float64) {
	hostScale(int32(len(x)), alpha, f(x), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(out)
}

func axpy(alpha float64, x, y []float64) {
	hostAxpy(int32(len(x)), alpha, f(x), f(y))
	runtime.KeepAlive(x)
	runtime.KeepAlive(y)
}

func addRow(m, n int, row, x []float64) {
	hostAddRow(int32(m), int32(n), f(row), f(x))
	runtime.KeepAlive(row)
	runtime.KeepAlive(x)
}

func relu(x, out []float64) {
	hostRelu(int32(len(x)), f(x), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(out)
}

func reluGrad(h, d, out []float64) {
	hostReluGrad(int32(len(h)), f(h), f(d), f(out))
	runtime.KeepAlive(h)
	runtime.KeepAlive(d)
	runtime.KeepAlive(out)
}

func sumRows(m, n int, x, out []float64) {
	hostSumRows(int32(m), int32(n), f(x), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(out)
}

func sum(x []float64) float64 {
	s := hostSum(int32(len(x)), f(x))
	runtime.KeepAlive(x)
	return s
}

func expAll(x, out []float64) {
	hostExp(int32(len(x)), f(x), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(out)
}

func logAll(x, out []float64) {
	hostLog(int32(len(x)), f(x), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(out)
}

func softmax(m, n int, x, out []float64) {
	hostSoftmax(int32(m), int32(n), f(x), f(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(out)
}

func crossEntropy(m, n int, p []float64, labels []int32) float64 {
	s := hostCrossEntropy(int32(m), int32(n), f(p), l(labels))
	runtime.KeepAlive(p)
	runtime.KeepAlive(labels)
	return s
}

func oneHotSub(m, n int, labels []int32, x []float64) {
	hostOneHotSub(int32(m), int32(n), l(labels), f(x))
	runtime.KeepAlive(labels)
	runtime.KeepAlive(x)
}

func argMaxRows(m, n int, x []float64, out []int32) {
	hostArgMaxRows(int32(m), int32(n), f(x), l(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(out)
}
