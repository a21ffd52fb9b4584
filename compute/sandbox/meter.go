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
// in the module needs rewriting. Custom sections (names, DWARF) are dropped:
// they do not affect execution, and wazero would parse them.
//
// Before any of that, checkStructure (wasmcheck.go) walks the whole module,
// because wazero's decoder allocates by the counts it reads before checking
// that the bytes are there: 4 bytes claiming 100 million globals made it
// allocate 4 GB.

const (
	fuelExport = "__tenun_fuel"

	// MaxFuel is the largest Limits.Fuel; 0 means this much (no budget).
	MaxFuel = math.MaxInt64 / 4
	// startFuel is what the module's own start function (run during
	// instantiation, before the job's budget can be set or the time limits
	// can reach it) may use: some milliseconds. WASI commands do their work
	// from _start; a start function needing more is refused as invalid.
	startFuel = 1 << 24
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
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

func sectionRank(id byte) int {
	if id == secDataCount {
		return 95 // after element (9), before code (10)
	}
	return int(id) * 10
}

type section struct {
	id   byte
	body []byte
}

// meter returns module, checked, with fuel metering added; see the comment above.
func meter(module []byte) ([]byte, error) {
	out, info, err := meterInfo(module)
	if err != nil {
		return nil, err
	}
	if err := checkImports(info); err != nil {
		return nil, err
	}
	return out, nil
}

// meterInfo is meter without the import check, returning what the
// structure check learnt.
func meterInfo(module []byte) ([]byte, moduleInfo, error) {
	if len(module) < 8 || !bytes.Equal(module[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, moduleInfo{}, fmt.Errorf("%w: not a version 1 wasm binary", errMeter)
	}
	var sections []section
	r := reader{b: module[8:]}
	last := -1
	for !r.done() {
		id := r.byte()
		body := r.bytes(int(r.u32()))
		if r.err != nil {
			return nil, moduleInfo{}, fmt.Errorf("%w: section %d: %v", errMeter, id, r.err)
		}
		if id == secCustom {
			continue
		}
		if id > secDataCount {
			return nil, moduleInfo{}, fmt.Errorf("%w: unsupported section %d", errMeter, id)
		}
		if rank := sectionRank(id); rank <= last {
			return nil, moduleInfo{}, fmt.Errorf("%w: section %d out of order or repeated", errMeter, id)
		} else {
			last = rank
		}
		sections = append(sections, section{id, body})
	}
	info, err := checkStructure(sections)
	if err != nil {
		return nil, info, err
	}

	fuelIndex := uint32(info.importedGlobals + info.definedGlobals)
	if !info.has[secGlobal] {
		sections = insertSection(sections, section{secGlobal, []byte{0}})
	}
	if !info.has[secExport] {
		sections = insertSection(sections, section{secExport, []byte{0}})
	}
	if !info.hasMemory {
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
			body, err = appendToVector(body, entry)
		case secCode:
			body, err = meterCode(body, fuelCheck(fuelIndex))
		}
		if err != nil {
			return nil, info, err
		}
		out = append(out, s.id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, info, nil
}

func insertSection(sections []section, s section) []section {
	for i, t := range sections {
		if sectionRank(t.id) > sectionRank(s.id) {
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

// meterCode copies the code section with check inserted after the block type
// of every loop. checkStructure has already decoded every body.
func meterCode(body, check []byte) ([]byte, error) {
	r := reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n; i++ {
		fn := r.bytes(int(r.u32()))
		f := reader{b: fn}
		f.locals()
		metered := make([]byte, 0, len(fn)+len(fn)/8)
		metered = append(metered, fn[:f.off]...)
		for !f.done() && f.err == nil {
			start := f.off
			op, _ := f.instruction()
			metered = append(metered, fn[start:f.off]...)
			if op == 0x03 { // loop
				metered = append(metered, check...)
			}
		}
		if err := errors.Join(r.err, f.err); err != nil {
			return nil, fmt.Errorf("%w: function body %d: %v", errMeter, i, err)
		}
		out = appendU32(out, uint32(len(metered)))
		out = append(out, metered...)
	}
	return out, nil
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
