package model

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
)

// ConvFormatName is the "format" field of a convolutional model file.
const ConvFormatName = "tenun-zkml-cnn/v1"

// DomainConvModel separates CNN commitments from MLP ones.
const DomainConvModel = 3

// ConvArch is a small convolutional network: one square convolution (valid
// padding, stride 1) with Channels output maps, a saturating ReLU after a
// right shift (as a hidden dense layer), a Pool x Pool max pool (stride
// Pool, leftover rows and columns dropped), then the dense Head on the
// flattened maps (channel, row, column order).
//
// Integer semantics: z[c][i][j] = bias[c] + sum_{di,dj} w[c][di][dj] *
// x[i+di][j+dj]; h = clamp(floor(z / 2^Shift), 0, 255); p = max of each
// pool window of h; logits = Head(p). Every input is in [0, 2^InBits).
type ConvArch struct {
	Height   int  `json:"height"`
	Width    int  `json:"width"`
	InBits   int  `json:"in_bits"`
	Kernel   int  `json:"kernel"`
	Channels int  `json:"channels"`
	Shift    int  `json:"shift"`
	BiasBits int  `json:"bias_bits"`
	Pool     int  `json:"pool"`
	Head     Arch `json:"head"` // Head.Sizes[0] = Channels * PoolHeight * PoolWidth, Head.InBits = ActBits
}

// ConvHeight and ConvWidth are the sizes of the convolution's output maps.
func (a ConvArch) ConvHeight() int { return a.Height - a.Kernel + 1 }
func (a ConvArch) ConvWidth() int  { return a.Width - a.Kernel + 1 }

// PoolHeight and PoolWidth are the sizes of the pooled maps.
func (a ConvArch) PoolHeight() int { return a.ConvHeight() / a.Pool }
func (a ConvArch) PoolWidth() int  { return a.ConvWidth() / a.Pool }

// NumInputs is the number of input pixels.
func (a ConvArch) NumInputs() int { return a.Height * a.Width }

// NumClasses is the number of classes the head outputs.
func (a ConvArch) NumClasses() int { return a.Head.NumClasses() }

// InputArch is the input-and-label shape of the CNN as a one-layer MLP
// arch (pixels in, classes out): how its inputs are packed and how its test
// sets are hashed, the same as for an MLP of that shape. Only the shape is
// meant: the bias width is the smallest valid one, to pass Arch.Validate.
func (a ConvArch) InputArch() Arch {
	return Arch{Sizes: []int{a.NumInputs(), a.NumClasses()}, InBits: a.InBits, Shifts: []int{}, BiasBits: []int{2}}
}

// ZBits bounds the convolution's pre-activations: |z| < 2^ZBits.
func (a ConvArch) ZBits() int {
	bound := uint64(int64(a.Kernel*a.Kernel)*(int64(1)<<a.InBits-1)*WeightOffset) + 1<<(a.BiasBits-1)
	return bits.Len64(bound)
}

// FlagBits is the width of the high part of a shifted pre-activation (see
// the saturation table of the circuits).
func (a ConvArch) FlagBits() int { return a.ZBits() + 1 - a.Shift - ActBits }

// Validate checks the arch and every bound the circuits rely on.
func (a ConvArch) Validate() error {
	switch {
	case a.Height < 1 || a.Width < 1 || a.Height*a.Width > MaxLayerSize:
		return fmt.Errorf("cnn arch: image %dx%d out of range", a.Height, a.Width)
	case a.InBits < 1 || a.InBits > ActBits:
		return fmt.Errorf("cnn arch: in_bits %d out of [1, %d]", a.InBits, ActBits)
	case a.Kernel < 1 || a.Kernel > min(a.Height, a.Width):
		return fmt.Errorf("cnn arch: kernel %d does not fit a %dx%d image", a.Kernel, a.Height, a.Width)
	case a.Channels < 1 || a.Channels > 64:
		return fmt.Errorf("cnn arch: %d channels out of [1, 64]", a.Channels)
	case a.BiasBits < 2 || a.BiasBits > 32:
		return fmt.Errorf("cnn arch: bias_bits %d out of [2, 32]", a.BiasBits)
	case a.Pool < 1 || a.PoolHeight() < 1 || a.PoolWidth() < 1:
		return fmt.Errorf("cnn arch: pool %d leaves no output of %dx%d maps", a.Pool, a.ConvHeight(), a.ConvWidth())
	case a.Shift < 0 || a.FlagBits() < 1 || a.FlagBits() > MaxFlagBits:
		return fmt.Errorf("cnn arch: shift %d gives %d flag bits, want [1, %d]", a.Shift, a.FlagBits(), MaxFlagBits)
	}
	if err := a.Head.Validate(); err != nil {
		return fmt.Errorf("cnn head: %w", err)
	}
	if want := a.Channels * a.PoolHeight() * a.PoolWidth(); a.Head.NumInputs() != want || a.Head.InBits != ActBits {
		return fmt.Errorf("cnn arch: head takes %d inputs of %d bits, pooled maps give %d of %d", a.Head.NumInputs(), a.Head.InBits, want, ActBits)
	}
	return nil
}

// Header encodes the arch as small integers (absorbed first into the commitment).
func (a ConvArch) Header() []uint64 {
	h := []uint64{FormatVersion, uint64(a.Height), uint64(a.Width), uint64(a.InBits), uint64(a.Kernel),
		uint64(a.Channels), uint64(a.Shift), uint64(a.BiasBits), uint64(a.Pool)}
	return append(h, a.Head.Header()...)
}

// ItemWidths lists the committed item widths: convolution weights (channel,
// row, column) in 8 bits, its biases, then the head's items.
func (a ConvArch) ItemWidths() []int {
	var w []int
	for range a.Channels * a.Kernel * a.Kernel {
		w = append(w, WeightBits)
	}
	for range a.Channels {
		w = append(w, a.BiasBits)
	}
	return append(w, a.Head.ItemWidths()...)
}

// NumModelElems is how many packed field elements carry a model of this arch.
func (a ConvArch) NumModelElems() int { return len(Layout(a.ItemWidths())) }

// Clone returns a deep copy.
func (a ConvArch) Clone() ConvArch { a.Head = a.Head.Clone(); return a }

// ConvModel is a quantized CNN of a ConvArch.
type ConvModel struct {
	Format string    `json:"format"`
	Arch   ConvArch  `json:"arch"`
	Kernel [][][]int `json:"kernel"` // [channel][row][column], int8
	Bias   []int64   `json:"bias"`
	Head   []Layer   `json:"head"`
}

// headModel is the dense head as an MLP model.
func (m *ConvModel) headModel() *Model {
	return &Model{Format: FormatName, Arch: m.Arch.Head, Layers: m.Head}
}

// Validate checks the arch, shapes and integer ranges.
func (m *ConvModel) Validate() error {
	if m.Format != ConvFormatName {
		return fmt.Errorf("cnn model: format %q, want %q", m.Format, ConvFormatName)
	}
	a := m.Arch
	if err := a.Validate(); err != nil {
		return err
	}
	if len(m.Kernel) != a.Channels || len(m.Bias) != a.Channels {
		return fmt.Errorf("cnn model: %d kernels and %d biases, want %d", len(m.Kernel), len(m.Bias), a.Channels)
	}
	bmax := int64(1) << (a.BiasBits - 1)
	for c, k := range m.Kernel {
		if len(k) != a.Kernel {
			return fmt.Errorf("cnn model: kernel %d has %d rows, want %d", c, len(k), a.Kernel)
		}
		for _, row := range k {
			if len(row) != a.Kernel {
				return fmt.Errorf("cnn model: kernel %d row of %d, want %d", c, len(row), a.Kernel)
			}
			for _, w := range row {
				if w < -WeightOffset || w >= WeightOffset {
					return fmt.Errorf("cnn model: kernel %d weight %d out of int8", c, w)
				}
			}
		}
		if m.Bias[c] < -bmax || m.Bias[c] >= bmax {
			return fmt.Errorf("cnn model: bias %d = %d out of %d bits", c, m.Bias[c], a.BiasBits)
		}
	}
	return m.headModel().Validate()
}

// Items lists the committed integers in the order of ConvArch.ItemWidths.
func (m *ConvModel) Items() ([]uint64, []int) {
	var vals []uint64
	for _, k := range m.Kernel {
		for _, row := range k {
			for _, w := range row {
				vals = append(vals, uint64(w+WeightOffset))
			}
		}
	}
	for _, b := range m.Bias {
		vals = append(vals, uint64(b+int64(1)<<(m.Arch.BiasBits-1)))
	}
	hv, _ := m.headModel().Items()
	return append(vals, hv...), m.Arch.ItemWidths()
}

// Packed returns the model packed into field elements.
func (m *ConvModel) Packed() ([]*big.Int, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	vals, widths := m.Items()
	return Pack(vals, widths)
}

// ComputeCommitment is the Poseidon2 sponge (domain DomainConvModel) over
// the arch header and the packed model.
func (m *ConvModel) ComputeCommitment() (Digest, error) {
	packed, err := m.Packed()
	if err != nil {
		return Digest{}, err
	}
	return DigestOf(SpongeHash(DomainConvModel, m.Arch.Header(), packed)), nil
}

// Features runs the convolution, ReLU and pooling and returns the flattened
// pooled maps (the head's input).
func (m *ConvModel) Features(x []int) ([]int, error) {
	a := m.Arch
	if len(x) != a.NumInputs() {
		return nil, fmt.Errorf("input has %d pixels, model takes %d", len(x), a.NumInputs())
	}
	for i, v := range x {
		if v < 0 || v >= 1<<a.InBits {
			return nil, fmt.Errorf("input %d = %d out of [0, %d)", i, v, 1<<a.InBits)
		}
	}
	ch, cw, ph, pw := a.ConvHeight(), a.ConvWidth(), a.PoolHeight(), a.PoolWidth()
	out := make([]int, 0, a.Channels*ph*pw)
	for c := range a.Channels {
		h := make([]int64, ch*cw)
		for i := range ch {
			for j := range cw {
				z := m.Bias[c]
				for di := range a.Kernel {
					for dj := range a.Kernel {
						z += int64(m.Kernel[c][di][dj]) * int64(x[(i+di)*a.Width+j+dj])
					}
				}
				z >>= uint(a.Shift) // arithmetic shift: floor division
				h[i*cw+j] = min(max(z, 0), ActMax)
			}
		}
		for i := range ph {
			for j := range pw {
				best := int64(0)
				for di := range a.Pool {
					for dj := range a.Pool {
						best = max(best, h[(i*a.Pool+di)*cw+j*a.Pool+dj])
					}
				}
				out = append(out, int(best))
			}
		}
	}
	return out, nil
}

// Forward runs integer inference and returns the logits.
func (m *ConvModel) Forward(x []int) ([]int64, error) {
	f, err := m.Features(x)
	if err != nil {
		return nil, err
	}
	return m.headModel().Forward(f)
}

// Predict returns the predicted class.
func (m *ConvModel) Predict(x []int) (int, error) {
	logits, err := m.Forward(x)
	if err != nil {
		return 0, err
	}
	return Argmax(logits), nil
}

// Accuracy counts correct predictions on a data set.
func (m *ConvModel) Accuracy(ds *Dataset) (int, error) {
	if ds == nil {
		return 0, errors.New("cnn accuracy: no data set")
	}
	correct := 0
	for r := range ds.X {
		cls, err := m.Predict(ds.X[r])
		if err != nil {
			return 0, fmt.Errorf("row %d: %w", r, err)
		}
		if cls == ds.Y[r] {
			correct++
		}
	}
	return correct, nil
}
