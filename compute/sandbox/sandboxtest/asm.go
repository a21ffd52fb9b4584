// Package sandboxtest assembles small WebAssembly modules for tests of the
// sandbox and its users: a WASI command whose _start calls one imported
// function with constant arguments, so a test can make any kernel call,
// good or bad, without a toolchain.
package sandboxtest

import (
	"encoding/binary"
	"math"
)

// Value types.
const (
	I32 byte = 0x7f
	F64 byte = 0x7c
)

// Arg is one constant argument: an i32 or an f64.
type Arg struct {
	Type byte
	I    int32
	F    float64
}

// I32Arg and F64Arg make arguments.
func I32Arg(v int32) Arg   { return Arg{Type: I32, I: v} }
func F64Arg(v float64) Arg { return Arg{Type: F64, F: v} }

func u32(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

func s32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if x == 0 && c&0x40 == 0 || x == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func section(id byte, body []byte) []byte { return append(u32([]byte{id}, uint32(len(body))), body...) }

func name(b []byte, s string) []byte { return append(u32(b, uint32(len(s))), s...) }

// CallModule returns a WASI command with one page of memory (exported as
// "memory") whose _start calls module.function, declared with params and
// results, once for each call in calls (each a list of constant arguments;
// a result is dropped). With no calls it does nothing.
func CallModule(module, function string, params, results []byte, calls ...[]Arg) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	types := []byte{2, 0x60, 0, 0, 0x60}
	types = append(u32(types, uint32(len(params))), params...)
	types = append(u32(types, uint32(len(results))), results...)
	m = append(m, section(1, types)...)
	imp := name(name([]byte{1}, module), function)
	m = append(m, section(2, append(imp, 0x00, 1))...) // function of type 1: index 0
	m = append(m, section(3, []byte{1, 0})...)         // _start: type 0, index 1
	m = append(m, section(5, []byte{1, 0x00, 1})...)   // one page
	exp := name([]byte{2}, "_start")
	exp = append(exp, 0x00, 1)
	exp = name(exp, "memory")
	exp = append(exp, 0x02, 0)
	m = append(m, section(7, exp)...)
	body := []byte{0} // no locals
	for _, call := range calls {
		for _, a := range call {
			if a.Type == F64 {
				body = binary.LittleEndian.AppendUint64(append(body, 0x44), math.Float64bits(a.F))
			} else {
				body = s32(append(body, 0x41), a.I)
			}
		}
		body = append(body, 0x10, 0) // call 0
		for range results {
			body = append(body, 0x1a) // drop
		}
	}
	body = append(body, 0x0b)
	code := u32([]byte{1}, uint32(len(body)))
	m = append(m, section(10, append(code, body...))...)
	return m
}

// MatMulParams is the signature of tenun_nn.matmul.
var MatMulParams = []byte{I32, I32, I32, I32, F64, I32, I32, I32}

// MatMul returns the arguments of one tenun_nn.matmul call.
func MatMul(flags, m, n, k int32, alpha float64, a, b, c int32) []Arg {
	return []Arg{I32Arg(flags), I32Arg(m), I32Arg(n), I32Arg(k), F64Arg(alpha), I32Arg(a), I32Arg(b), I32Arg(c)}
}
