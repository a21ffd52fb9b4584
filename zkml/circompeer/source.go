// Package circompeer runs the digits-inference statement through circom and
// snarkjs, as the peer that `tenun bench zk` compares gnark against.
//
// The circom circuit proves the same statement as zkml/circuit.Inference for
// the same model and input: the packed weights are private, unpacked with
// range checks (Num2Bits, circom's idiom: one constraint per bit), hashed
// into a public commitment, run through Dense layers (circomlib-ml), the same
// saturating shift-ReLU and argmax (circomlib-ml's ArgMax, first maximum).
// The one difference is the hash: circomlib-ml bundles MiMC7 but no
// Poseidon, so the commitment is MultiMiMC7 instead of the Poseidon2 sponge.
//
// npm packages (circom2, snarkjs, circomlib-ml) are installed once into a
// project-local cache directory; powers of tau are generated locally and
// cached there, so runs after the first are offline.
package circompeer

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/tenun-chain/tenun/zkml/model"
)

// Source returns the circom program for inference with models of arch.
func Source(arch model.Arch) (string, error) {
	if err := arch.Validate(); err != nil {
		return "", err
	}
	widths := arch.ItemWidths()
	spans := model.Layout(widths)
	var elem, off, wid, bits []string
	for e, sp := range spans {
		o := 0
		for i := sp.Start; i < sp.End; i++ {
			elem = append(elem, fmt.Sprint(e))
			off = append(off, fmt.Sprint(o))
			wid = append(wid, fmt.Sprint(widths[i]))
			o += widths[i]
		}
		bits = append(bits, fmt.Sprint(o))
	}
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("pragma circom 2.0.0;")
	p(`include "circomlib/bitify.circom";`)
	p(`include "circomlib/comparators.circom";`)
	p(`include "circomlib/mimc.circom";`)
	p(`include "Dense.circom";`)
	p(`include "ArgMax.circom";`)
	p("")
	p("// h = clamp(floor(z / 2^S), 0, 255) for |z| < 2^Z (zkml/model semantics).")
	p("template RescaleClamp(Z, S) {")
	p("    signal input in;")
	p("    signal output out;")
	p("    var HB = Z + 1 - S - 8;")
	p("    component nb = Num2Bits(Z + 1);")
	p("    nb.in <== in + (1 << Z);")
	p("    var a = 0;")
	p("    for (var i = 0; i < 8; i++) { a += nb.out[S + i] * (1 << i); }")
	p("    var hf = 0;")
	p("    for (var i = 0; i < HB; i++) { hf += nb.out[S + 8 + i] * (1 << i); }")
	p("    component eq = IsEqual();")
	p("    eq.in[0] <== hf;")
	p("    eq.in[1] <== 1 << (HB - 1);")
	p("    component gt = GreaterThan(HB);")
	p("    gt.in[0] <== hf;")
	p("    gt.in[1] <== 1 << (HB - 1);")
	p("    signal ea;")
	p("    ea <== eq.out * a;")
	p("    out <== ea + 255 * gt.out;")
	p("}")
	p("")
	p("template Inference() {")
	p("    var NE = %d;", len(spans))
	p("    var NI = %d;", len(widths))
	p("    var ELEM[NI] = [%s];", strings.Join(elem, ","))
	p("    var OFF[NI] = [%s];", strings.Join(off, ","))
	p("    var WID[NI] = [%s];", strings.Join(wid, ","))
	p("    var BITS[NE] = [%s];", strings.Join(bits, ","))
	p("    signal input x[%d];", arch.NumInputs())
	p("    signal input packed[NE];")
	p("    signal output commitment;")
	p("    signal output class;")
	p("")
	p("    component inBits[%d];", arch.NumInputs())
	p("    for (var i = 0; i < %d; i++) { inBits[i] = Num2Bits(%d); inBits[i].in <== x[i]; }", arch.NumInputs(), arch.InBits)
	p("    component nb[NE];")
	p("    for (var e = 0; e < NE; e++) { nb[e] = Num2Bits(BITS[e]); nb[e].in <== packed[e]; }")
	p("    signal item[NI];")
	p("    for (var i = 0; i < NI; i++) {")
	p("        var acc = 0;")
	p("        for (var k = 0; k < WID[i]; k++) { acc += nb[ELEM[i]].out[OFF[i] + k] * (1 << k); }")
	p("        item[i] <== acc;")
	p("    }")
	p("    component h = MultiMiMC7(NE, 91);")
	p("    for (var e = 0; e < NE; e++) { h.in[e] <== packed[e]; }")
	p("    h.k <== 0;")
	p("    commitment <== h.out;")
	wOff, bOff := 0, arch.NumWeights()
	prev := "x"
	for l := 0; l < arch.NumLayers(); l++ {
		nIn, nOut := arch.Sizes[l], arch.Sizes[l+1]
		p("")
		p("    component d%d = Dense(%d, %d);", l, nIn, nOut)
		p("    for (var i = 0; i < %d; i++) { d%d.in[i] <== %s[i]; }", nIn, l, prev)
		p("    for (var i = 0; i < %d; i++) { for (var j = 0; j < %d; j++) { d%d.weights[i][j] <== item[%d + j * %d + i] - %d; } }",
			nIn, nOut, l, wOff, nIn, model.WeightOffset)
		p("    for (var j = 0; j < %d; j++) { d%d.bias[j] <== item[%d + j] - %d; }", nOut, l, bOff, int64(1)<<(arch.BiasBits[l]-1))
		wOff += nIn * nOut
		bOff += nOut
		if l < arch.NumLayers()-1 {
			p("    component act%d[%d];", l, nOut)
			p("    signal h%d[%d];", l, nOut)
			p("    for (var j = 0; j < %d; j++) { act%d[j] = RescaleClamp(%d, %d); act%d[j].in <== d%d.out[j]; h%d[j] <== act%d[j].out; }",
				nOut, l, arch.ZBits(l), arch.Shifts[l], l, l, l, l)
			prev = fmt.Sprintf("h%d", l)
		} else {
			p("    component am = ArgMax(%d);", nOut)
			p("    for (var j = 0; j < %d; j++) { am.in[j] <== d%d.out[j] + (1 << %d); }", nOut, l, arch.ZBits(l))
			p("    class <== am.out;")
		}
	}
	p("}")
	p("")
	p("component main {public [x]} = Inference();")
	return b.String(), nil
}

// Input returns the circom input (JSON-ready) for model m on input x.
func Input(m *model.Model, x []int) (map[string]any, error) {
	packed, err := m.Packed()
	if err != nil {
		return nil, err
	}
	if len(x) != m.Arch.NumInputs() {
		return nil, fmt.Errorf("input has %d values, model takes %d", len(x), m.Arch.NumInputs())
	}
	ps := make([]string, len(packed))
	for i, v := range packed {
		ps[i] = new(big.Int).Set(v).String()
	}
	xs := make([]string, len(x))
	for i, v := range x {
		xs[i] = fmt.Sprint(v)
	}
	return map[string]any{"x": xs, "packed": ps}, nil
}
