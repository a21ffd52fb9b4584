// Command digest prints a fingerprint of the kernels' results on fixed
// pseudo-random inputs (the SHA-256 of every result's bits). The kernels'
// cross-architecture test builds it for this machine and for arm64 (run
// under qemu-user) and compares the two.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"

	. "github.com/tenun-chain/tenun/compute/sdk/kernels"
)

func main() { fmt.Println(digest()) }

// rng is splitmix64, so inputs are the same on every architecture.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// values returns n floats spread over many magnitudes and both signs, so
// that rounding differences (a fused multiply-add, another order) show.
func (r *rng) values(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		mant := float64(r.next()>>11) * 0x1p-53
		exp := int(r.next()%20) - 10
		v[i] = math.Ldexp(mant, exp)
		if r.next()&1 == 1 {
			v[i] = -v[i]
		}
	}
	return v
}

// digest runs every kernel on fixed pseudo-random inputs and hashes the
// bits of every result: the fingerprint that must be the same everywhere.
func digest() string {
	h := sha256.New()
	put := func(v ...float64) {
		for _, x := range v {
			h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)))
		}
	}
	r := rng(3)
	for flags := range AllFlags + 1 {
		m, n, k := 7, 33, 19
		a, b, c := r.values(m*k), r.values(k*n), r.values(m*n)
		MatMul(flags, m, n, k, 0.7, a, b, c)
		put(c...)
	}
	x, y, out := r.values(999), r.values(999), make([]float64, 999)
	for _, f := range []func(x, y, out []float64){Add, Sub, Mul, ReluGrad} {
		f(x, y, out)
		put(out...)
	}
	Scale(1.3, x, out)
	put(out...)
	Axpy(-0.3, x, y)
	put(y...)
	Relu(x, out)
	put(out...)
	ExpAll(x, out)
	put(out...)
	for i := range x {
		x[i] = math.Abs(x[i])
	}
	LogAll(x, out)
	put(out...)
	AddRow(27, 37, x[:37], y[:27*37])
	SumRows(27, 37, y[:27*37], out[:37])
	put(out[:37]...)
	put(Sum(y))
	Softmax(99, 10, y[:990], out[:990])
	put(out[:990]...)
	labels := make([]int32, 99)
	for i := range labels {
		labels[i] = int32(r.next() % 10)
	}
	put(CrossEntropy(99, 10, out[:990], labels))
	return hex.EncodeToString(h.Sum(nil))
}
