// Package model holds quantized MLP models for zero-knowledge inference:
// the architecture and its arithmetic bounds, the JSON model file format,
// plain integer inference, and the Poseidon2 commitments (model commitment,
// test-set hash) that proofs name as public inputs. It is float-free and
// imported by consensus; the float trainer and quantizer live in zkml/train.
//
// # Integer semantics (what every proof is about)
//
// A model is a chain of dense layers. Layer l maps inputs x (integers) to
//
//	z_j = sum_i W[j][i]*x_i + B[j]        W in [-128, 127], B in [-2^(b-1), 2^(b-1))
//
// Hidden layers then apply a rescaling ReLU that saturates at 8 bits:
//
//	h_j = clamp(floor(z_j / 2^shift), 0, 255)
//
// The last layer's z are the logits; the predicted class is the first index
// of the maximum logit. Inputs of the first layer are integers in
// [0, 2^InBits). [Model.Forward] implements exactly this, and the circuits in
// package zkml/circuit prove exactly this.
//
// # Model file format (JSON, "tenun-zkml-mlp/v1")
//
//	{
//	  "format": "tenun-zkml-mlp/v1",
//	  "arch": {"sizes": [64, 24, 10], "in_bits": 5, "shifts": [6], "bias_bits": [19, 17]},
//	  "layers": [{"weights": [[...in...], ...out...], "bias": [...out...]}, ...],
//	  "commitment": "0x...",          // informational; recomputed and checked on load
//	  "meta": {...}                   // informational, not committed
//	}
//
// weights[j][i] is the weight from input i to output j. Everything the
// commitment covers (arch and integers) is in "arch" and "layers".
package model

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

const (
	// WeightBits is the width of every weight: signed int8.
	WeightBits = 8
	// WeightOffset maps a weight w to the unsigned value w+WeightOffset that is packed and committed.
	WeightOffset = 128
	// ActBits is the width of hidden activations (they saturate at ActMax).
	ActBits = 8
	// ActMax is the largest hidden activation.
	ActMax = 1<<ActBits - 1
	// PackBits is how many bits of a BN254 scalar (254 bits) carry data when
	// small integers are packed into one field element. 253 bits keep every
	// packed value below the field modulus, so packing is injective.
	PackBits = 253
	// MaxFlagBits caps the saturating-ReLU lookup table at 2^MaxFlagBits entries.
	MaxFlagBits = 12
	// MaxLayerSize bounds any layer width so that circuits and verification cost stay bounded.
	MaxLayerSize = 4096
	// MaxInBits bounds input widths.
	MaxInBits = 16
)

// Arch is everything about a model that fixes its circuit: layer sizes, input
// width and the per-layer quantization parameters. Two models with the same
// Arch share circuits and keys; the weights differ only in the witness.
type Arch struct {
	// Sizes are the layer widths, inputs first: [in, hidden..., classes].
	Sizes []int `json:"sizes"`
	// InBits is the width of each input value: inputs are in [0, 2^InBits).
	InBits int `json:"in_bits"`
	// Shifts holds, per hidden layer, the right shift applied before the saturating ReLU.
	Shifts []int `json:"shifts"`
	// BiasBits holds, per layer, the width of the signed biases.
	BiasBits []int `json:"bias_bits"`
}

// NumLayers is the number of dense layers.
func (a Arch) NumLayers() int { return len(a.Sizes) - 1 }

// NumClasses is the width of the output layer.
func (a Arch) NumClasses() int { return a.Sizes[len(a.Sizes)-1] }

// NumInputs is the width of the input layer.
func (a Arch) NumInputs() int { return a.Sizes[0] }

// NumWeights counts the weights of all layers.
func (a Arch) NumWeights() int {
	n := 0
	for l := 0; l < a.NumLayers(); l++ {
		n += a.Sizes[l] * a.Sizes[l+1]
	}
	return n
}

// InMax is the largest value an input of layer l can take.
func (a Arch) InMax(l int) int64 {
	if l == 0 {
		return 1<<a.InBits - 1
	}
	return ActMax
}

// DefaultBiasBits is a bias width large enough to hold any dot product of layer l.
func DefaultBiasBits(nIn int, inMax int64) int {
	return bits.Len64(uint64(int64(nIn)*inMax*WeightOffset)) + 1
}

// ZBits returns Z such that every pre-activation z of layer l satisfies
// |z| < 2^Z for any weights, biases and inputs allowed by the arch. The
// circuits size their packed slots from it, so the bound must be sound.
func (a Arch) ZBits(l int) int {
	bound := uint64(int64(a.Sizes[l])*a.InMax(l)*WeightOffset) + 1<<(a.BiasBits[l]-1)
	return bits.Len64(bound)
}

// SlotBits is the width of one packed accumulator slot of layer l. Hidden
// layers hold z+2^Z in [0, 2^(Z+1)); the output layer holds argmax
// differences, which need one more bit of headroom (see zkml/circuit).
func (a Arch) SlotBits(l int) int {
	if l == a.NumLayers()-1 {
		return a.ZBits(l) + 2
	}
	return a.ZBits(l) + 1
}

// SlotsPerElem is how many outputs of layer l share one packed field element.
func (a Arch) SlotsPerElem(l int) int { return PackBits / a.SlotBits(l) }

// FlagBits is the width of the part of z+2^Z above the shift and the 8
// activation bits in hidden layer l; the circuit looks it up in a table of
// 2^FlagBits entries to decide saturation.
func (a Arch) FlagBits(l int) int { return a.ZBits(l) + 1 - a.Shifts[l] - ActBits }

// LabelBits is the width of a class label in a packed test set.
func (a Arch) LabelBits() int {
	n := bits.Len(uint(a.NumClasses() - 1))
	if n == 0 {
		n = 1
	}
	return n
}

// Validate checks that the arch is well formed and that every bound the
// circuits rely on holds.
func (a Arch) Validate() error {
	if len(a.Sizes) < 2 {
		return errors.New("arch: need at least an input and an output layer")
	}
	for i, s := range a.Sizes {
		if s < 1 || s > MaxLayerSize {
			return fmt.Errorf("arch: layer %d size %d out of [1, %d]", i, s, MaxLayerSize)
		}
	}
	if a.NumClasses() < 2 {
		return errors.New("arch: need at least 2 classes")
	}
	if a.InBits < 1 || a.InBits > MaxInBits {
		return fmt.Errorf("arch: in_bits %d out of [1, %d]", a.InBits, MaxInBits)
	}
	if len(a.Shifts) != a.NumLayers()-1 {
		return fmt.Errorf("arch: %d shifts for %d hidden layers", len(a.Shifts), a.NumLayers()-1)
	}
	if len(a.BiasBits) != a.NumLayers() {
		return fmt.Errorf("arch: %d bias widths for %d layers", len(a.BiasBits), a.NumLayers())
	}
	for l, b := range a.BiasBits {
		if b < 2 || b > 48 {
			return fmt.Errorf("arch: layer %d bias_bits %d out of [2, 48]", l, b)
		}
	}
	for l := 0; l < a.NumLayers(); l++ {
		if a.SlotBits(l) > PackBits {
			return fmt.Errorf("arch: layer %d accumulators need %d bits, more than a field element holds", l, a.SlotBits(l))
		}
		if l == a.NumLayers()-1 {
			continue
		}
		if a.Shifts[l] < 0 {
			return fmt.Errorf("arch: layer %d negative shift", l)
		}
		fb := a.FlagBits(l)
		if fb < 1 {
			return fmt.Errorf("arch: layer %d shift %d too large (at most %d)", l, a.Shifts[l], a.ZBits(l)-ActBits)
		}
		if fb > MaxFlagBits {
			return fmt.Errorf("arch: layer %d shift %d too small for its range: needs a 2^%d table (max 2^%d); raise the shift or lower bias_bits",
				l, a.Shifts[l], fb, MaxFlagBits)
		}
	}
	return nil
}

// Header is the arch encoded as small integers; it is absorbed first into the
// model commitment so that a commitment also names the architecture.
func (a Arch) Header() []uint64 {
	h := []uint64{FormatVersion, uint64(a.NumLayers())}
	for _, s := range a.Sizes {
		h = append(h, uint64(s))
	}
	h = append(h, uint64(a.InBits))
	for _, s := range a.Shifts {
		h = append(h, uint64(s))
	}
	for _, b := range a.BiasBits {
		h = append(h, uint64(b))
	}
	return h
}

// Equal reports whether two archs are identical (and so share circuits).
func (a Arch) Equal(b Arch) bool {
	return a.InBits == b.InBits && slices.Equal(a.Sizes, b.Sizes) &&
		slices.Equal(a.Shifts, b.Shifts) && slices.Equal(a.BiasBits, b.BiasBits)
}

// Clone returns a deep copy.
func (a Arch) Clone() Arch {
	return Arch{
		Sizes:    append([]int(nil), a.Sizes...),
		InBits:   a.InBits,
		Shifts:   append([]int(nil), a.Shifts...),
		BiasBits: append([]int(nil), a.BiasBits...),
	}
}

// String is a short human form, e.g. "64-24-10/in5".
func (a Arch) String() string {
	s := ""
	for i, n := range a.Sizes {
		if i > 0 {
			s += "-"
		}
		s += fmt.Sprint(n)
	}
	return fmt.Sprintf("%s/in%d", s, a.InBits)
}
