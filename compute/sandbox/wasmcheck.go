package sandbox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Bounds on what a module may make the host allocate outside its linear
// memory (which Limits.MemoryBytes covers). wazero allocates a table's
// initial size at instantiation, grows tables on table.grow up to their
// declared maximum (or 2^32), and sizes call frames by the number of locals,
// so a few bytes of module could otherwise ask for gigabytes.
const (
	// MaxTableElements bounds the elements of all tables together (8 bytes
	// each on the host); a Go program has one table of one entry per function.
	MaxTableElements = 1 << 20
	// MaxFunctionLocals bounds the locals of one function, as V8 does.
	MaxFunctionLocals = 50000
)

// moduleInfo is what checkStructure learns that meter needs.
type moduleInfo struct {
	has             [secDataCount + 1]bool
	importedGlobals int
	definedGlobals  int
	hasMemory       bool
	types           []string     // signature of each type, as signature() writes it
	funcImports     []funcImport // in import order
}

// funcImport is one imported function.
type funcImport struct {
	module, name string
	typeIndex    uint32
}

// checkStructure decodes every section of a WebAssembly 2.0 module far enough
// to prove that each count it declares is backed by bytes, that every
// function body decodes, and that tables and locals stay within the bounds
// above. It is not a validator (wazero validates the metered module); it
// makes sure wazero's decoder is never asked to preallocate for data that is
// not there, and that meter's own decoding of the code is sound.
func checkStructure(sections []section) (moduleInfo, error) {
	var info moduleInfo
	var tablesBounded bool
	for _, s := range sections {
		info.has[s.id] = true
		r := &reader{b: s.body}
		switch s.id {
		case secType:
			for n := r.count(); n > 0 && r.err == nil; n-- {
				if form := r.byte(); form != 0x60 {
					r.fail(fmt.Errorf("type form %#x", form))
				}
				params := r.bytes(int(r.count())) // parameter types, one byte each
				results := r.bytes(int(r.count()))
				info.types = append(info.types, signature(params, results))
			}
		case secImport:
			for n := r.count(); n > 0 && r.err == nil; n-- {
				mod, name := r.name(), r.name()
				switch kind := r.byte(); kind {
				case 0x00: // function: type index
					info.funcImports = append(info.funcImports, funcImport{string(mod), string(name), r.u32()})
				case 0x01: // table: reference type, limits
					r.byte()
					r.limits()
				case 0x02: // memory
					r.limits()
					info.hasMemory = true
				case 0x03: // global: value type, mutability
					r.byte()
					r.byte()
					info.importedGlobals++
				default:
					r.fail(fmt.Errorf("import kind %#x", kind))
				}
			}
		case secFunction:
			for n := r.count(); n > 0 && r.err == nil; n-- {
				r.u32()
			}
		case secTable:
			var mins, maxes uint64
			tablesBounded = true
			for n := r.count(); n > 0 && r.err == nil; n-- {
				r.byte() // reference type
				min, max, hasMax := r.limits()
				mins += uint64(min)
				maxes += uint64(max)
				tablesBounded = tablesBounded && hasMax
			}
			if mins > MaxTableElements {
				r.fail(fmt.Errorf("tables start with %d elements; the limit is %d", mins, MaxTableElements))
			}
			tablesBounded = tablesBounded && maxes <= MaxTableElements
		case secMemory:
			for n := r.count(); n > 0 && r.err == nil; n-- {
				r.limits()
				info.hasMemory = true
			}
		case secGlobal:
			n := r.count()
			info.definedGlobals = int(n)
			for ; n > 0 && r.err == nil; n-- {
				r.byte() // value type
				r.byte() // mutability
				r.constExpr()
			}
		case secExport:
			for n := r.count(); n > 0 && r.err == nil; n-- {
				if name := r.name(); string(name) == fuelExport {
					r.fail(fmt.Errorf("module already exports %s", fuelExport))
				}
				r.byte() // kind
				r.u32()  // index
			}
		case secStart, secDataCount:
			r.u32()
		case secElement:
			for n := r.count(); n > 0 && r.err == nil; n-- {
				r.elementSegment()
			}
		case secCode:
			for n := r.count(); n > 0 && r.err == nil; n-- {
				f := &reader{b: r.bytes(int(r.u32()))}
				if locals := f.locals(); locals > MaxFunctionLocals {
					f.fail(fmt.Errorf("%d locals; the limit is %d", locals, MaxFunctionLocals))
				}
				for !f.done() && f.err == nil {
					if _, grows := f.instruction(); grows && !tablesBounded {
						f.fail(fmt.Errorf("table.grow on a table without a maximum; declare one (all tables at most %d elements)", MaxTableElements))
					}
				}
				r.fail(f.err)
			}
		case secData:
			for n := r.count(); n > 0 && r.err == nil; n-- {
				switch flags := r.u32(); flags {
				case 0: // active, memory 0
					r.constExpr()
				case 1: // passive
				case 2: // active, explicit memory
					r.u32()
					r.constExpr()
				default:
					r.fail(fmt.Errorf("data segment flags %d", flags))
				}
				r.bytes(int(r.count()))
			}
		}
		if r.err == nil && !r.done() {
			r.fail(errors.New("trailing bytes"))
		}
		if r.err != nil {
			return info, fmt.Errorf("%w: section %d: %v", errMeter, s.id, r.err)
		}
	}
	return info, nil
}

// reader decodes the binary format. The first error sticks; later reads
// return zero values.
type reader struct {
	b   []byte
	off int
	err error
}

var errTruncated = errors.New("truncated")

func (r *reader) done() bool { return r.off >= len(r.b) }

func (r *reader) fail(err error) {
	if r.err == nil && err != nil {
		r.err = err
	}
}

func (r *reader) byte() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.fail(errTruncated)
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) peek() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.fail(errTruncated)
		return 0
	}
	return r.b[r.off]
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.off {
		r.fail(errTruncated)
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

// leb skips a LEB128 number of at most max bytes.
func (r *reader) leb(max int) {
	for i := 0; i < max; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.fail(errors.New("LEB128 too long"))
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 || n > 5 || v > math.MaxUint32 {
		r.fail(errors.New("bad u32"))
		return 0
	}
	r.off += n
	return uint32(v)
}

// count reads a vector length and checks it against the bytes left, since
// every element takes at least one byte.
func (r *reader) count() uint32 {
	n := r.u32()
	if r.err == nil && int64(n) > int64(len(r.b)-r.off) {
		r.fail(fmt.Errorf("vector of %d longer than the %d bytes left", n, len(r.b)-r.off))
		return 0
	}
	return n
}

func (r *reader) name() []byte { return r.bytes(int(r.count())) }

func (r *reader) limits() (min, max uint32, hasMax bool) {
	flags := r.byte()
	if flags > 1 { // shared or 64-bit limits: not WebAssembly 2.0
		r.fail(fmt.Errorf("limits flags %#x", flags))
	}
	min = r.u32()
	if flags&1 != 0 {
		max, hasMax = r.u32(), true
	}
	return min, max, hasMax
}

// locals skips a function's local declarations and returns how many there are.
func (r *reader) locals() uint64 {
	var total uint64
	for n := r.count(); n > 0 && r.err == nil; n-- {
		total += uint64(r.u32())
		r.byte() // type
	}
	return total
}

// constExpr skips a constant expression up to and including its end.
func (r *reader) constExpr() {
	for r.err == nil {
		if op, _ := r.instruction(); op == 0x0b {
			return
		}
	}
}

// elementSegment skips one element segment, in any of its eight encodings.
func (r *reader) elementSegment() {
	flags := r.u32()
	if flags > 7 {
		r.fail(fmt.Errorf("element segment flags %d", flags))
		return
	}
	if flags&0b011 == 0b010 { // active with an explicit table index
		r.u32()
	}
	if flags&0b001 == 0 { // active: offset expression
		r.constExpr()
	}
	if flags&0b011 != 0 { // passive, declarative or explicit table: element kind or type
		r.byte()
	}
	n := r.count()
	for ; n > 0 && r.err == nil; n-- {
		if flags&0b100 != 0 {
			r.constExpr()
		} else {
			r.u32() // function index
		}
	}
}

func (r *reader) blockType() {
	switch c := r.peek(); c {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f: // empty or one value type
		r.byte()
	default:
		r.leb(5) // s33 type index
	}
}

func (r *reader) memarg() {
	if align := r.u32(); align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.u32()
}

// instruction skips one instruction with its immediates and returns its
// opcode (the prefix byte for prefixed ones) and whether it is table.grow.
// It covers the WebAssembly 2.0 instruction set the runtime is configured
// for; anything else fails (and would not have validated anyway).
func (r *reader) instruction() (op byte, tableGrow bool) {
	op = r.byte()
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
		r.blockType()
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1:
		// unreachable, nop, else, end, return, drop, select, ref.is_null
	case op == 0x0c || op == 0x0d || op == 0x10 || op == 0xd2 || op >= 0x20 && op <= 0x26:
		r.u32() // br, br_if, call, ref.func, local/global/table get/set/tee
	case op == 0x0e: // br_table
		for n := r.count(); n > 0 && r.err == nil; n-- {
			r.u32()
		}
		r.u32()
	case op == 0x11: // call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select with types
		r.bytes(int(r.count()))
	case op >= 0x28 && op <= 0x3e:
		r.memarg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41:
		r.leb(5)
	case op == 0x42:
		r.leb(10)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op >= 0x45 && op <= 0xc4: // numeric, sign extension
	case op == 0xd0: // ref.null
		r.byte()
	case op == 0xfc:
		tableGrow = r.miscOp()
	case op == 0xfd:
		r.simdOp()
	default:
		r.fail(fmt.Errorf("unsupported opcode %#x", op))
	}
	return op, tableGrow
}

// miscOp skips the 0xfc-prefixed saturating conversions, bulk memory and
// table ops, and reports whether it was table.grow.
func (r *reader) miscOp() (tableGrow bool) {
	sub := r.u32()
	switch {
	case sub <= 7: // saturating truncations
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 9, sub == 11, sub == 13, sub >= 15 && sub <= 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	default:
		r.fail(fmt.Errorf("unsupported 0xfc opcode %d", sub))
	}
	return sub == 15
}

// simdOp skips a 0xfd-prefixed SIMD instruction.
func (r *reader) simdOp() {
	switch sub := r.u32(); {
	case sub <= 0x0b, sub == 0x5c, sub == 0x5d: // loads, store, load_zero
		r.memarg()
	case sub == 0x0c, sub == 0x0d: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 0x15 && sub <= 0x22: // extract/replace lane
		r.byte()
	case sub >= 0x54 && sub <= 0x5b: // load/store lane
		r.memarg()
		r.byte()
	case sub <= 0xff: // everything else in SIMD has no immediates
	default:
		r.fail(fmt.Errorf("unsupported 0xfd opcode %d", sub))
	}
}

// wasiSignatures maps each WASI preview1 function wazero provides to its
// signature, read once from wazero's own host module.
var wasiSignatures = sync.OnceValues(func() (map[string]string, error) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	mod, err := wasi_snapshot_preview1.Instantiate(ctx, rt)
	if err != nil {
		return nil, fmt.Errorf("sandbox: instantiate WASI: %w", err)
	}
	defer mod.Close(ctx)
	sigs := map[string]string{}
	for name, def := range rt.Module(wasi_snapshot_preview1.ModuleName).ExportedFunctionDefinitions() {
		sigs[name] = signature(def.ParamTypes(), def.ResultTypes())
	}
	return sigs, nil
})

// checkImports refuses a module that imports a function the sandbox does
// not provide, or with another signature: such a module could never run,
// so it is refused before it is posted or compiled.
func checkImports(info moduleInfo) error {
	wasi, err := wasiSignatures()
	if err != nil {
		return err
	}
	for _, imp := range info.funcImports {
		var have map[string]string
		switch imp.module {
		case wasi_snapshot_preview1.ModuleName:
			have = wasi
		case KernelModule:
			if !littleEndian {
				return fmt.Errorf("%w: imports %s.%s; the kernels are not available on this (big-endian) host", ErrInvalidModule, imp.module, imp.name)
			}
			have = kernelSignatures
		default:
			return fmt.Errorf("%w: imports %s.%s; only %s and %s are provided", ErrInvalidModule, imp.module, imp.name, wasi_snapshot_preview1.ModuleName, KernelModule)
		}
		want, ok := have[imp.name]
		if !ok {
			return fmt.Errorf("%w: imports unknown function %s.%s", ErrInvalidModule, imp.module, imp.name)
		}
		if int(imp.typeIndex) >= len(info.types) {
			return fmt.Errorf("%w: import %s.%s has type %d of %d", ErrInvalidModule, imp.module, imp.name, imp.typeIndex, len(info.types))
		}
		if got := info.types[imp.typeIndex]; got != want {
			return fmt.Errorf("%w: imports %s.%s as %s; it is %s", ErrInvalidModule, imp.module, imp.name, got, want)
		}
	}
	return nil
}

// Check tells whether module could run in the sandbox without compiling it:
// its structure, its size and that it imports only functions the sandbox
// provides, with their signatures. Clients run it before posting a job, so
// a module that can never run is refused before anyone pays for it.
func Check(module []byte) error {
	if len(module) == 0 || len(module) > MaxModuleBytes {
		return fmt.Errorf("%w: module is %d bytes; it must be 1 to %d", ErrInvalidModule, len(module), MaxModuleBytes)
	}
	_, info, err := meterInfo(module)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	return checkImports(info)
}
