package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Fuel metering by rewriting the module.
//
// wazero has no fuel, and its own way to stop running code
// (WithCloseOnContextDone) leaves compiled code at every loop header to check
// in with Go. Go's wasm backend turns every jump into an iteration of a
// dispatch loop, so that costs 50x on a Go job: measured, and unusable.
//
// Instead, before compiling, the module gets one more mutable i64 global,
// exported as fuelExport, and every loop header gets
//
//	$fuel -= 1
//	if $fuel & 0xffff == 0 {            // every fuelCheckInterval iterations
//	    memory.grow 0                   // a no-op that returns to Go
//	    if $fuel < 0 { unreachable }
//	}
//
// whose fast path compiles to a load, a subtract, a store, a test and a
// branch. So:
//
//   - fuel counts loop iterations (for Go code, roughly basic blocks run),
//     the same on every machine: Limits.Fuel is a reproducible budget and
//     Result.FuelUsed a reproducible measure of work. A job stops within
//     fuelCheckInterval iterations after its budget runs out;
//   - to stop a job for time, the host writes a large negative value into
//     the global from another goroutine (poisonFuel) and the guest traps at
//     its next check. Code without loops runs straight to an end or a call,
//     and recursion ends in a stack overflow trap, so every run stops;
//   - the memory.grow(0) matters as much: wazero's compiled code cannot be
//     preempted by Go's scheduler, so a guest that never calls the host would
//     hold up every stop-the-world GC in the process (and with it, the
//     goroutine that is supposed to stop the guest) until it finishes.
//     memory.grow is implemented by returning to Go, which gives the
//     scheduler a safe point every few hundred microseconds.
//
// The new global is appended and a memory (needed for memory.grow) is added
// only to modules that have none, so no existing index moves and nothing else
// in the module needs rewriting.

const (
	fuelExport = "__tenun_fuel"

	// MaxFuel is the largest Limits.Fuel; 0 means this much (no budget).
	MaxFuel = math.MaxInt64 / 4
	// startFuel is what the module's own start function (run during
	// instantiation, before the job's budget can be set) may use.
	startFuel = 1 << 30
	// fuelCheckInterval is how many loop iterations pass between checks of
	// the counter's sign (and returns to Go); a power of two.
	fuelCheckInterval = 1 << 16
	// poisonFuel is written to stop a run: far below zero, so decrements
	// never wrap, and far from any budget, so a poisoned counter is obvious.
	poisonFuel = math.MinInt64 / 2
)

var errMeter = errors.New("cannot meter module")

// Section ids and their required order (the data count section, 12, sits
// between element and code).
const (
	secCustom    = 0
	secImport    = 2
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secCode      = 10
	secDataCount = 12
)

func sectionRank(id byte) int {
	switch id {
	case secDataCount:
		return 95 // after element (9), before code (10)
	case 13: // tag (exception handling), between memory and global
		return 55
	default:
		return int(id) * 10
	}
}

type section struct {
	id   byte
	body []byte
}

// meter returns module with fuel metering added; see the comment above.
func meter(module []byte) ([]byte, error) {
	if len(module) < 8 || !bytes.Equal(module[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%w: not a wasm binary", errMeter)
	}
	var sections []section
	r := reader{b: module[8:]}
	for !r.done() {
		id := r.byte()
		size := r.u32()
		body := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("%w: section %d: %v", errMeter, id, r.err)
		}
		sections = append(sections, section{id, body})
	}

	importedGlobals, definedGlobals := 0, 0
	var hasGlobal, hasExport, hasMemory bool
	for _, s := range sections {
		switch s.id {
		case secImport:
			globals, memories, err := countImports(s.body)
			if err != nil {
				return nil, err
			}
			importedGlobals = globals
			hasMemory = hasMemory || memories > 0
		case secMemory:
			hasMemory = true
		case secGlobal:
			hasGlobal = true
			r := reader{b: s.body}
			definedGlobals = int(r.u32())
			if r.err != nil {
				return nil, fmt.Errorf("%w: global section: %v", errMeter, r.err)
			}
		case secExport:
			hasExport = true
		}
	}
	fuelIndex := uint32(importedGlobals + definedGlobals)
	if !hasGlobal {
		sections = insertSection(sections, section{secGlobal, []byte{0}})
	}
	if !hasExport {
		sections = insertSection(sections, section{secExport, []byte{0}})
	}
	if !hasMemory {
		// One memory of 0 pages, unexported, for the checks' memory.grow.
		sections = insertSection(sections, section{secMemory, []byte{1, 0x00, 0}})
	}

	out := append([]byte(nil), module[:8]...)
	for _, s := range sections {
		body := s.body
		var err error
		switch s.id {
		case secGlobal:
			// The new global: mutable i64 initialised to startFuel.
			init := append([]byte{0x7e, 0x01, 0x42}, appendS64(nil, startFuel)...)
			body, err = appendToVector(body, append(init, 0x0b))
		case secExport:
			entry := appendU32(nil, uint32(len(fuelExport)))
			entry = append(entry, fuelExport...)
			entry = append(entry, 0x03) // global
			entry = appendU32(entry, fuelIndex)
			if err = checkExportNames(body); err == nil {
				body, err = appendToVector(body, entry)
			}
		case secCode:
			body, err = meterCode(body, fuelIndex)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s.id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

func insertSection(sections []section, s section) []section {
	for i, t := range sections {
		if t.id != secCustom && sectionRank(t.id) > sectionRank(s.id) {
			return append(sections[:i], append([]section{s}, sections[i:]...)...)
		}
	}
	return append(sections, s)
}

// appendToVector adds one encoded entry to a section that is a vector.
func appendToVector(body, entry []byte) ([]byte, error) {
	r := reader{b: body}
	n := r.u32()
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", errMeter, r.err)
	}
	out := appendU32(nil, n+1)
	out = append(out, r.b[r.off:]...)
	return append(out, entry...), nil
}

// checkExportNames refuses a module that already exports fuelExport.
func checkExportNames(body []byte) error {
	r := reader{b: body}
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		name := r.bytes(int(r.u32()))
		r.byte() // kind
		r.u32()  // index
		if string(name) == fuelExport {
			return fmt.Errorf("%w: module already exports %s", errMeter, fuelExport)
		}
	}
	if r.err != nil {
		return fmt.Errorf("%w: export section: %v", errMeter, r.err)
	}
	return nil
}

// countImports returns how many globals and memories a module imports.
func countImports(body []byte) (globals, memories int, err error) {
	r := reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.bytes(int(r.u32())) // module name
		r.bytes(int(r.u32())) // field name
		switch kind := r.byte(); kind {
		case 0x00: // func: type index
			r.u32()
		case 0x01: // table: reftype, limits
			r.byte()
			r.limits()
		case 0x02: // memory: limits
			r.limits()
			memories++
		case 0x03: // global: valtype, mutability
			r.byte()
			r.byte()
			globals++
		default:
			return 0, 0, fmt.Errorf("%w: import kind %#x", errMeter, kind)
		}
	}
	if r.err != nil {
		return 0, 0, fmt.Errorf("%w: import section: %v", errMeter, r.err)
	}
	return globals, memories, nil
}

// fuelCheck is inserted after every loop's block type; see the top of the file.
func fuelCheck(fuelIndex uint32) []byte {
	g := appendU32(nil, fuelIndex)
	get := append([]byte{0x23}, g...)
	var b []byte
	b = append(append(b, get...), 0x42, 0x01, 0x7d)                         // $fuel - 1
	b = append(append(b, 0x24), g...)                                       // -> $fuel
	b = append(append(b, get...), 0x42)                                     // $fuel & (interval-1)
	b = append(appendS64(b, fuelCheckInterval-1), 0x83, 0x50)               // == 0
	b = append(b, 0x04, 0x40)                                               // if
	b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a)                             //   drop(memory.grow(0))
	b = append(append(b, get...), 0x42, 0x00, 0x53, 0x04, 0x40, 0x00, 0x0b) //   if $fuel < 0 { unreachable }
	return append(b, 0x0b)                                                  // end
}

func meterCode(body []byte, fuelIndex uint32) ([]byte, error) {
	check := fuelCheck(fuelIndex)
	r := reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		fn := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("%w: code entry %d: %v", errMeter, i, r.err)
		}
		metered, err := meterFunction(fn, check)
		if err != nil {
			return nil, fmt.Errorf("%w: function body %d: %v", errMeter, i, err)
		}
		out = appendU32(out, uint32(len(metered)))
		out = append(out, metered...)
	}
	if !r.done() {
		return nil, fmt.Errorf("%w: trailing bytes in code section", errMeter)
	}
	return out, nil
}

// meterFunction copies one function body, inserting check after each loop's
// block type. Decoding covers the WebAssembly 2.0 instruction set the
// runtime is configured for; anything else is refused (and would not have
// validated anyway).
func meterFunction(fn []byte, check []byte) ([]byte, error) {
	r := reader{b: fn}
	groups := r.u32() // locals: vector of (count, type)
	for i := uint32(0); i < groups && r.err == nil; i++ {
		r.u32()
		r.byte()
	}
	out := make([]byte, 0, len(fn)+len(fn)/8)
	out = append(out, fn[:r.off]...)
	for !r.done() && r.err == nil {
		start := r.off
		op := r.byte()
		switch {
		case op == 0x03: // loop
			r.blockType()
			out = append(out, fn[start:r.off]...)
			out = append(out, check...)
			continue
		case op == 0x02 || op == 0x04: // block, if
			r.blockType()
		case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1:
			// unreachable, nop, else, end, return, drop, select, ref.is_null
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0xd2 || op >= 0x20 && op <= 0x26:
			r.u32() // br, br_if, call, ref.func, local/global/table get/set/tee
		case op == 0x0e: // br_table
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				r.u32()
			}
			r.u32()
		case op == 0x11: // call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select with types
			r.bytes(int(r.u32()))
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
			r.miscOp()
		case op == 0xfd:
			r.simdOp()
		default:
			return nil, fmt.Errorf("unsupported opcode %#x at %d", op, start)
		}
		out = append(out, fn[start:r.off]...)
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

// reader decodes the parts of the binary format meter needs. The first
// error sticks; later reads return zero values.
type reader struct {
	b   []byte
	off int
	err error
}

var errTruncated = errors.New("truncated")

func (r *reader) done() bool { return r.off >= len(r.b) }

func (r *reader) fail(err error) {
	if r.err == nil {
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

func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
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

func (r *reader) peek() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.fail(errTruncated)
		return 0
	}
	return r.b[r.off]
}

func (r *reader) memarg() {
	if align := r.u32(); align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.u32()
}

// miscOp skips the 0xfc-prefixed saturating conversions, bulk memory and table ops.
func (r *reader) miscOp() {
	switch sub := r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 9, sub == 11, sub == 13, sub >= 15 && sub <= 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	default:
		r.fail(fmt.Errorf("unsupported 0xfc opcode %d", sub))
	}
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

func appendU32(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

// appendS64 appends v as signed LEB128, the encoding of i64.const.
func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
