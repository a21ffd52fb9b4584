package sandbox

import (
	"context"
	"fmt"
	"strings"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tenun-chain/tenun/compute/sdk/kernels"
)

// Tensor kernels as host functions.
//
// A job's inner loops (matrix products above all) run several times slower
// as wasm than natively: Go's wasm code and wazero's explicit bounds checks
// cost about ten instructions per float load. So the sandbox offers the
// deterministic kernels of package kernels as an import module, KernelModule,
// the idea of WASI-NN made reproducible: a job passes pointers into its
// linear memory and shapes, the host checks them and runs the kernel as
// native code, bit for bit the same on every provider (see package kernels).
//
// Each call is checked before it touches anything: shapes within MaxKernelDim
// and a call's work within MaxKernelWork, every operand 8-byte (f64) or 4-byte
// (i32 labels) aligned and inside linear memory, outputs not overlapping
// inputs except where an element-wise output is exactly its input, and labels
// in range. A bad call traps with an error naming the kernel, the operand and
// the problem; like any trap it is the job's own reproducible failure
// (ErrTrap), so providers report it and are paid, not slashed.
//
// Fuel is charged by the work done, in the units of package kernels: one per
// multiply-add or element, CostExp per exp or log, CostCall per call. A call
// that would overdraw the budget traps with ErrFuel before doing the work,
// and one that finds the counter poisoned (a time limit) stops at once.

// KernelModule is the import module name of the tensor kernels.
const KernelModule = "tenun_nn"

// Bounds on one kernel call, so that the watchdog (which can only stop the
// guest between calls) is never far behind: about a quarter of a second of
// native work at most.
const (
	MaxKernelDim  = 1 << 24
	MaxKernelWork = 1 << 28
)

type valueTypes = []api.ValueType

var (
	i32 = api.ValueTypeI32
	f64 = api.ValueTypeF64
)

// kernelFunc is one host function: its wasm signature and its body, which
// reads its arguments through a kernelCall.
type kernelFunc struct {
	name    string
	params  valueTypes
	results valueTypes
	run     func(c *kernelCall) float64 // the f64 result, if the function has one
}

// kernelFuncs are the functions of KernelModule; every pointer is an i32
// offset into the caller's linear memory, every size an i32 count.
var kernelFuncs = []kernelFunc{
	{"matmul", valueTypes{i32, i32, i32, i32, f64, i32, i32, i32}, nil, func(c *kernelCall) float64 {
		flags, m, n, k := c.u32(0), c.dim(1, "m"), c.dim(2, "n"), c.dim(3, "k")
		alpha := c.f64(4)
		if flags&^kernels.AllFlags != 0 {
			c.fail("unknown flags %#x (known: %#x)", flags, kernels.AllFlags)
		}
		am, ak, bk, bn := m, k, k, n
		if flags&kernels.TransA != 0 {
			am, ak = k, m
		}
		if flags&kernels.TransB != 0 {
			bk, bn = n, k
		}
		c.charge(kernels.MatMulCost(m, n, k))
		a := c.f64s(5, "a", am, ak)
		b := c.f64s(6, "b", bk, bn)
		out := c.f64s(7, "c", m, n)
		c.disjoint(7, "c", 5, "a")
		c.disjoint(7, "c", 6, "b")
		kernels.MatMul(int(flags), m, n, k, alpha, a.v, b.v, out.v)
		return 0
	}},
	elementwise("add", kernels.Add),
	elementwise("sub", kernels.Sub),
	elementwise("mul", kernels.Mul),
	{"scale", valueTypes{i32, f64, i32, i32}, nil, func(c *kernelCall) float64 {
		n := c.dim(0, "n")
		c.charge(uint64(n) + kernels.CostCall)
		x, out := c.f64s(2, "x", 1, n), c.f64s(3, "out", 1, n)
		c.sameOrDisjoint(3, "out", 2, "x")
		kernels.Scale(c.f64(1), x.v, out.v)
		return 0
	}},
	{"axpy", valueTypes{i32, f64, i32, i32}, nil, func(c *kernelCall) float64 {
		n := c.dim(0, "n")
		c.charge(uint64(n) + kernels.CostCall)
		x, y := c.f64s(2, "x", 1, n), c.f64s(3, "y", 1, n)
		c.sameOrDisjoint(3, "y", 2, "x")
		kernels.Axpy(c.f64(1), x.v, y.v)
		return 0
	}},
	{"add_row", valueTypes{i32, i32, i32, i32}, nil, func(c *kernelCall) float64 {
		m, n := c.dim(0, "m"), c.dim(1, "n")
		c.charge(uint64(m)*uint64(n) + kernels.CostCall)
		row, x := c.f64s(2, "row", 1, n), c.f64s(3, "x", m, n)
		c.disjoint(3, "x", 2, "row")
		kernels.AddRow(m, n, row.v, x.v)
		return 0
	}},
	unary("relu", 1, kernels.Relu),
	unary("exp", kernels.CostExp, kernels.ExpAll),
	unary("log", kernels.CostExp, kernels.LogAll),
	{"relu_grad", valueTypes{i32, i32, i32, i32}, nil, func(c *kernelCall) float64 {
		n := c.dim(0, "n")
		c.charge(uint64(n) + kernels.CostCall)
		h, d, out := c.f64s(1, "h", 1, n), c.f64s(2, "d", 1, n), c.f64s(3, "out", 1, n)
		c.sameOrDisjoint(3, "out", 1, "h")
		c.sameOrDisjoint(3, "out", 2, "d")
		kernels.ReluGrad(h.v, d.v, out.v)
		return 0
	}},
	{"sum_rows", valueTypes{i32, i32, i32, i32}, nil, func(c *kernelCall) float64 {
		m, n := c.dim(0, "m"), c.dim(1, "n")
		c.charge(uint64(m)*uint64(n) + uint64(n) + kernels.CostCall)
		x, out := c.f64s(2, "x", m, n), c.f64s(3, "out", 1, n)
		c.disjoint(3, "out", 2, "x")
		kernels.SumRows(m, n, x.v, out.v)
		return 0
	}},
	{"sum", valueTypes{i32, i32}, valueTypes{f64}, func(c *kernelCall) float64 {
		n := c.dim(0, "n")
		c.charge(uint64(n) + kernels.CostCall)
		return kernels.Sum(c.f64s(1, "x", 1, n).v)
	}},
	{"softmax", valueTypes{i32, i32, i32, i32}, nil, func(c *kernelCall) float64 {
		m, n := c.dim(0, "m"), c.dim(1, "n")
		c.charge(uint64(m)*uint64(n)*(kernels.CostExp+3) + kernels.CostCall)
		x, out := c.f64s(2, "x", m, n), c.f64s(3, "out", m, n)
		c.sameOrDisjoint(3, "out", 2, "x")
		kernels.Softmax(m, n, x.v, out.v)
		return 0
	}},
	{"cross_entropy", valueTypes{i32, i32, i32, i32}, valueTypes{f64}, func(c *kernelCall) float64 {
		m, n := c.dim(0, "m"), c.dim(1, "n")
		c.charge(uint64(m)*(kernels.CostExp+2) + kernels.CostCall)
		p, labels := c.f64s(2, "p", m, n), c.labels(3, m, n)
		return kernels.CrossEntropy(m, n, p.v, labels.v)
	}},
	{"onehot_sub", valueTypes{i32, i32, i32, i32}, nil, func(c *kernelCall) float64 {
		m, n := c.dim(0, "m"), c.dim(1, "n")
		c.charge(uint64(m) + kernels.CostCall)
		labels, x := c.labels(2, m, n), c.f64s(3, "x", m, n)
		c.disjoint(3, "x", 2, "labels")
		kernels.OneHotSub(m, n, labels.v, x.v)
		return 0
	}},
	{"argmax_rows", valueTypes{i32, i32, i32, i32}, nil, func(c *kernelCall) float64 {
		m, n := c.dim(0, "m"), c.dim(1, "n")
		c.charge(uint64(m)*uint64(n) + kernels.CostCall)
		x, out := c.f64s(2, "x", m, n), c.i32s(3, "out", m)
		c.disjoint(3, "out", 2, "x")
		kernels.ArgMaxRows(m, n, x.v, out.v)
		return 0
	}},
}

// elementwise is a binary kernel out = f(x, y) over n elements.
func elementwise(name string, f func(x, y, out []float64)) kernelFunc {
	return kernelFunc{name, valueTypes{i32, i32, i32, i32}, nil, func(c *kernelCall) float64 {
		n := c.dim(0, "n")
		c.charge(uint64(n) + kernels.CostCall)
		x, y, out := c.f64s(1, "x", 1, n), c.f64s(2, "y", 1, n), c.f64s(3, "out", 1, n)
		c.sameOrDisjoint(3, "out", 1, "x")
		c.sameOrDisjoint(3, "out", 2, "y")
		f(x.v, y.v, out.v)
		return 0
	}}
}

// unary is a kernel out = f(x) over n elements costing cost each.
func unary(name string, cost uint64, f func(x, out []float64)) kernelFunc {
	return kernelFunc{name, valueTypes{i32, i32, i32}, nil, func(c *kernelCall) float64 {
		n := c.dim(0, "n")
		c.charge(uint64(n)*cost + kernels.CostCall)
		x, out := c.f64s(1, "x", 1, n), c.f64s(2, "out", 1, n)
		c.sameOrDisjoint(2, "out", 1, "x")
		f(x.v, out.v)
		return 0
	}}
}

// kernelSignatures maps each function of KernelModule to its signature, for
// checking a module's imports before it is compiled or posted.
var kernelSignatures = func() map[string]string {
	sigs := map[string]string{}
	for _, f := range kernelFuncs {
		sigs[f.name] = signature(f.params, f.results)
	}
	return sigs
}()

func signature(params, results []api.ValueType) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, t := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(api.ValueTypeName(t))
	}
	b.WriteString(") -> (")
	for i, t := range results {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(api.ValueTypeName(t))
	}
	b.WriteByte(')')
	return b.String()
}

// instantiateKernels adds KernelModule to rt.
func instantiateKernels(ctx context.Context, rt wazero.Runtime) error {
	if !littleEndian {
		// The kernels read linear memory (little-endian) in place.
		return nil
	}
	b := rt.NewHostModuleBuilder(KernelModule)
	for _, f := range kernelFuncs {
		f := f
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			c := kernelCall{name: f.name, mod: mod, stack: stack}
			if mem := mod.Memory(); mem != nil {
				c.mem, _ = mem.Read(0, mem.Size())
			}
			v := f.run(&c)
			if len(f.results) == 1 {
				stack[0] = api.EncodeF64(v)
			}
		}), f.params, f.results).Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// KernelError is what a bad kernel call traps with.
type KernelError struct {
	Func, Problem string
}

func (e *KernelError) Error() string {
	return fmt.Sprintf("%s.%s: %s", KernelModule, e.Func, e.Problem)
}

// errKernelFuel is the trap of a call the fuel budget cannot pay for.
type errKernelFuel struct{ name string }

func (e errKernelFuel) Error() string {
	return fmt.Sprintf("%s.%s: fuel exhausted", KernelModule, e.name)
}

// kernelCall is one call's arguments and the checked views of its operands.
type kernelCall struct {
	name  string
	mod   api.Module
	stack []uint64
	mem   []byte
	spans [8]span // operand spans by argument index, for the overlap checks
}

type span struct{ off, end uint64 }

type f64View struct{ v []float64 }
type i32View struct{ v []int32 }

func (c *kernelCall) fail(format string, args ...any) {
	panic(&KernelError{Func: c.name, Problem: fmt.Sprintf(format, args...)})
}

func (c *kernelCall) u32(i int) uint32  { return api.DecodeU32(c.stack[i]) }
func (c *kernelCall) f64(i int) float64 { return api.DecodeF64(c.stack[i]) }

// dim reads a size argument: a non-negative i32 up to MaxKernelDim.
func (c *kernelCall) dim(i int, name string) int {
	v := int32(c.u32(i))
	if v < 0 || v > MaxKernelDim {
		c.fail("%s = %d: sizes must be 0 to %d", name, v, MaxKernelDim)
	}
	return int(v)
}

// charge takes cost from the fuel counter, trapping first if the call is
// too large, the budget cannot pay for it, or a time limit poisoned it.
func (c *kernelCall) charge(cost uint64) {
	if cost > MaxKernelWork {
		c.fail("%d units of work in one call; the limit is %d: split it", cost, MaxKernelWork)
	}
	g, ok := c.mod.ExportedGlobal(fuelExport).(api.MutableGlobal)
	if !ok {
		c.fail("module is not metered") // the sandbox always meters; a plain runtime does not
	}
	left := int64(g.Get()) - int64(cost)
	g.Set(uint64(left))
	if left < 0 {
		panic(errKernelFuel{c.name})
	}
}

// region checks that rows x cols elements of size bytes at argument i lie
// in linear memory, aligned, and records the span.
func (c *kernelCall) region(i int, name string, rows, cols int, size uint64) (uint64, uint64) {
	ptr := uint64(c.u32(i))
	n := uint64(rows) * uint64(cols)
	bytes := n * size
	if ptr%size != 0 {
		c.fail("%s at %#x is not %d-byte aligned", name, ptr, size)
	}
	if ptr+bytes > uint64(len(c.mem)) {
		c.fail("%s (%dx%d, %d bytes at %#x) is outside linear memory (%d bytes)", name, rows, cols, bytes, ptr, len(c.mem))
	}
	c.spans[i] = span{ptr, ptr + bytes}
	return ptr, n
}

func (c *kernelCall) f64s(i int, name string, rows, cols int) f64View {
	ptr, n := c.region(i, name, rows, cols, 8)
	if n == 0 {
		return f64View{}
	}
	return f64View{unsafe.Slice((*float64)(unsafe.Pointer(&c.mem[ptr])), n)}
}

func (c *kernelCall) i32s(i int, name string, n int) i32View {
	ptr, count := c.region(i, name, 1, n, 4)
	if count == 0 {
		return i32View{}
	}
	return i32View{unsafe.Slice((*int32)(unsafe.Pointer(&c.mem[ptr])), count)}
}

// labels reads m class labels and checks each is in [0, n).
func (c *kernelCall) labels(i, m, n int) i32View {
	l := c.i32s(i, "labels", m)
	for r, v := range l.v {
		if v < 0 || int(v) >= n {
			c.fail("labels[%d] = %d is outside 0..%d", r, v, n-1)
		}
	}
	return l
}

func (c *kernelCall) overlap(i, j int) bool {
	a, b := c.spans[i], c.spans[j]
	return a.off < b.end && b.off < a.end
}

// disjoint traps if operands i and j share any byte.
func (c *kernelCall) disjoint(i int, ni string, j int, nj string) {
	if c.overlap(i, j) {
		c.fail("%s overlaps %s", ni, nj)
	}
}

// sameOrDisjoint allows an element-wise output to be exactly its input.
func (c *kernelCall) sameOrDisjoint(i int, ni string, j int, nj string) {
	if c.spans[i] != c.spans[j] && c.overlap(i, j) {
		c.fail("%s partly overlaps %s (element-wise outputs may only be their input exactly)", ni, nj)
	}
}
