package train

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/tenun-chain/tenun/zkml/model"
)

// QuantizeConfig configures [Quantize]. Zero values take the defaults noted.
type QuantizeConfig struct {
	InBits  int     // integer input width (default 5: digits pixels are 0..16)
	InScale float64 // integer input = float input * InScale (default 16)
	// Percentile of positive calibration pre-activations that is mapped to
	// the top of the 8-bit activation range when picking each shift (default 0.999).
	Percentile float64
}

// Quantize converts a float MLP into an integer model. Each layer gets its
// own weight scale 127/max|W| (weights round to int8); biases are rounded in
// the accumulator scale; each hidden layer's shift is picked on the
// calibration rows so that the given percentile of activations fits in 8 bits.
func Quantize(f *FloatMLP, calib *model.Dataset, cfg QuantizeConfig) (*model.Model, error) {
	if cfg.InBits == 0 {
		cfg.InBits = 5
	}
	if cfg.InScale == 0 {
		cfg.InScale = 16
	}
	if cfg.Percentile == 0 {
		cfg.Percentile = 0.999
	}
	if calib == nil || calib.Len() == 0 {
		return nil, errors.New("quantize: need calibration rows")
	}
	nl := len(f.W)
	arch := model.Arch{Sizes: slices.Clone(f.Sizes), InBits: cfg.InBits, Shifts: make([]int, nl-1), BiasBits: make([]int, nl)}
	for l := range nl {
		arch.BiasBits[l] = model.DefaultBiasBits(arch.Sizes[l], arch.InMax(l))
	}
	m := &model.Model{Format: model.FormatName, Arch: arch, Layers: make([]model.Layer, nl)}

	// acts[r] is the integer input of the current layer for calibration row r.
	acts := make([][]int64, calib.Len())
	for r, row := range calib.X {
		acts[r] = make([]int64, len(row))
		for i, v := range row {
			if v < 0 || v >= 1<<cfg.InBits {
				return nil, fmt.Errorf("quantize: calibration row %d input %d = %d out of %d bits", r, i, v, cfg.InBits)
			}
			acts[r][i] = int64(v)
		}
	}
	inScale := cfg.InScale // integer value = float value * inScale
	for l := range nl {
		maxW := 0.0
		for _, row := range f.W[l] {
			for _, w := range row {
				maxW = max(maxW, math.Abs(w))
			}
		}
		ws := 1.0
		if maxW > 0 {
			ws = 127 / maxW
		}
		bb := arch.BiasBits[l]
		bmax := float64(int64(1)<<(bb-1) - 1)
		ly := model.Layer{Weights: make([][]int, len(f.W[l])), Bias: make([]int64, len(f.W[l]))}
		for j, row := range f.W[l] {
			ly.Weights[j] = make([]int, len(row))
			for i, w := range row {
				ly.Weights[j][i] = int(math.Max(-127, math.Min(127, math.Round(w*ws))))
			}
			ly.Bias[j] = int64(math.Max(-bmax, math.Min(bmax, math.Round(f.B[l][j]*ws*inScale))))
		}
		m.Layers[l] = ly
		if l == nl-1 {
			break
		}
		// Pre-activations on the calibration rows pick the shift.
		zs := make([][]int64, len(acts))
		var pos []int64
		for r, x := range acts {
			zs[r] = make([]int64, len(ly.Weights))
			for j, row := range ly.Weights {
				z := ly.Bias[j]
				for i, w := range row {
					z += int64(w) * x[i]
				}
				zs[r][j] = z
				if z > 0 {
					pos = append(pos, z)
				}
			}
		}
		shift := 0
		if len(pos) > 0 {
			slices.Sort(pos)
			p := pos[min(len(pos)-1, int(cfg.Percentile*float64(len(pos))))]
			shift = max(0, bits.Len64(uint64(p))-model.ActBits)
		}
		z := arch.ZBits(l)
		shift = min(max(shift, z+1-model.ActBits-model.MaxFlagBits), z-model.ActBits)
		arch.Shifts[l] = shift
		for r := range zs {
			for j, v := range zs[r] {
				zs[r][j] = min(max(v>>uint(shift), 0), model.ActMax)
			}
		}
		acts = zs
		inScale = inScale * ws / float64(int64(1)<<shift)
	}
	m.Arch = arch
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	return m, nil
}

// RandomModel returns a model with uniformly random int8 weights and small
// random biases, for benchmarks that need a model of a given shape.
func RandomModel(arch model.Arch, seed uint64) (*model.Model, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	m := &model.Model{Format: model.FormatName, Arch: arch.Clone(), Layers: make([]model.Layer, arch.NumLayers())}
	for l := range m.Layers {
		nIn, nOut := arch.Sizes[l], arch.Sizes[l+1]
		ly := model.Layer{Weights: make([][]int, nOut), Bias: make([]int64, nOut)}
		span := int64(1) << (arch.BiasBits[l] - 4)
		for j := range nOut {
			ly.Weights[j] = make([]int, nIn)
			for i := range nIn {
				ly.Weights[j][i] = rng.IntN(256) - model.WeightOffset
			}
			ly.Bias[j] = rng.Int64N(2*span) - span
		}
		m.Layers[l] = ly
	}
	return m, m.Validate()
}
