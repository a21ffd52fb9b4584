package model

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
)

// FormatName is the "format" field of a model file.
const FormatName = "tenun-zkml-mlp/v1"

// Layer is one dense layer: Weights[j][i] connects input i to output j.
type Layer struct {
	Weights [][]int `json:"weights"`
	Bias    []int64 `json:"bias"`
}

// Model is a quantized MLP (see the package documentation for its semantics).
type Model struct {
	Format string  `json:"format"`
	Arch   Arch    `json:"arch"`
	Layers []Layer `json:"layers"`
	// Commitment is informational in the file; Load recomputes and checks it.
	Commitment *Digest `json:"commitment,omitempty"`
	// Meta is free-form and not committed.
	Meta map[string]any `json:"meta,omitempty"`
}

// Validate checks the arch, shapes and integer ranges.
func (m *Model) Validate() error {
	if m.Format != FormatName {
		return fmt.Errorf("model: format %q, want %q", m.Format, FormatName)
	}
	if err := m.Arch.Validate(); err != nil {
		return err
	}
	a := m.Arch
	if len(m.Layers) != a.NumLayers() {
		return fmt.Errorf("model: %d layers, arch has %d", len(m.Layers), a.NumLayers())
	}
	for l, ly := range m.Layers {
		nIn, nOut := a.Sizes[l], a.Sizes[l+1]
		if len(ly.Weights) != nOut || len(ly.Bias) != nOut {
			return fmt.Errorf("model: layer %d has %d weight rows and %d biases, want %d", l, len(ly.Weights), len(ly.Bias), nOut)
		}
		bmin, bmax := -int64(1)<<(a.BiasBits[l]-1), int64(1)<<(a.BiasBits[l]-1)-1
		for j := range nOut {
			if len(ly.Weights[j]) != nIn {
				return fmt.Errorf("model: layer %d row %d has %d weights, want %d", l, j, len(ly.Weights[j]), nIn)
			}
			for i, w := range ly.Weights[j] {
				if w < -WeightOffset || w >= WeightOffset {
					return fmt.Errorf("model: layer %d weight [%d][%d] = %d out of int8", l, j, i, w)
				}
			}
			if b := ly.Bias[j]; b < bmin || b > bmax {
				return fmt.Errorf("model: layer %d bias %d = %d out of %d bits", l, j, b, a.BiasBits[l])
			}
		}
	}
	return nil
}

// Items lists the committed integers with their widths: all weights (layer,
// output, input order) as w+128 in 8 bits, then all biases (layer, output
// order) offset by 2^(b-1) in b bits.
func (m *Model) Items() ([]uint64, []int) {
	var vals []uint64
	var widths []int
	for _, ly := range m.Layers {
		for _, row := range ly.Weights {
			for _, w := range row {
				vals = append(vals, uint64(w+WeightOffset))
				widths = append(widths, WeightBits)
			}
		}
	}
	for l, ly := range m.Layers {
		bb := m.Arch.BiasBits[l]
		for _, b := range ly.Bias {
			vals = append(vals, uint64(b+int64(1)<<(bb-1)))
			widths = append(widths, bb)
		}
	}
	return vals, widths
}

// ItemWidths is the width list of [Model.Items] for an arch; circuits unpack with it.
func (a Arch) ItemWidths() []int {
	var widths []int
	for i := 0; i < a.NumWeights(); i++ {
		widths = append(widths, WeightBits)
	}
	for l := 0; l < a.NumLayers(); l++ {
		for j := 0; j < a.Sizes[l+1]; j++ {
			widths = append(widths, a.BiasBits[l])
		}
	}
	return widths
}

// NumModelElems is how many packed field elements carry a model of this arch.
func (a Arch) NumModelElems() int { return len(Layout(a.ItemWidths())) }

// Packed returns the model packed into field elements (the private witness of
// every circuit).
func (m *Model) Packed() ([]*big.Int, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	vals, widths := m.Items()
	return Pack(vals, widths)
}

// ComputeCommitment returns the Poseidon2 sponge over the arch header and the
// packed model. This is the value a model owner publishes and every proof
// about the model takes as its first public input.
func (m *Model) ComputeCommitment() (Digest, error) {
	packed, err := m.Packed()
	if err != nil {
		return Digest{}, err
	}
	return DigestOf(SpongeHash(DomainModel, m.Arch.Header(), packed)), nil
}

// Forward runs integer inference and returns the logits.
func (m *Model) Forward(x []int) ([]int64, error) {
	a := m.Arch
	if len(x) != a.NumInputs() {
		return nil, fmt.Errorf("input has %d values, model takes %d", len(x), a.NumInputs())
	}
	cur := make([]int64, len(x))
	for i, v := range x {
		if v < 0 || v >= 1<<a.InBits {
			return nil, fmt.Errorf("input %d = %d out of [0, %d)", i, v, 1<<a.InBits)
		}
		cur[i] = int64(v)
	}
	for l, ly := range m.Layers {
		next := make([]int64, len(ly.Weights))
		for j, row := range ly.Weights {
			z := ly.Bias[j]
			for i, w := range row {
				z += int64(w) * cur[i]
			}
			if l < len(m.Layers)-1 {
				z >>= uint(a.Shifts[l]) // arithmetic shift: floor division
				z = min(max(z, 0), ActMax)
			}
			next[j] = z
		}
		cur = next
	}
	return cur, nil
}

// Argmax returns the first index of the largest value.
func Argmax(v []int64) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// Predict returns the predicted class.
func (m *Model) Predict(x []int) (int, error) {
	logits, err := m.Forward(x)
	if err != nil {
		return 0, err
	}
	return Argmax(logits), nil
}

// Accuracy counts correct predictions on a data set.
func (m *Model) Accuracy(ds *Dataset) (correct int, err error) {
	for r := range ds.X {
		p, err := m.Predict(ds.X[r])
		if err != nil {
			return 0, fmt.Errorf("row %d: %w", r, err)
		}
		if p == ds.Y[r] {
			correct++
		}
	}
	return correct, nil
}

// Save writes the model as indented JSON with its commitment filled in.
func (m *Model) Save(path string) error {
	c, err := m.ComputeCommitment()
	if err != nil {
		return err
	}
	m.Commitment = &c
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encode model: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	return nil
}

// Load reads a model file, validates it and checks the stored commitment (if
// any) against the recomputed one.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode model %s: %w", path, err)
	}
	c, err := m.ComputeCommitment()
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	if m.Commitment != nil && *m.Commitment != c {
		return nil, fmt.Errorf("model %s: stored commitment %s does not match its weights (%s)", path, m.Commitment, c)
	}
	m.Commitment = &c
	return &m, nil
}

// saveRaw writes the model as is (tests use it to forge stale files).
func saveRaw(m *Model, path string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
