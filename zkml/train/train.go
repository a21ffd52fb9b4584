// Package train fits float MLPs and quantizes them into zkml/model's integer
// models. It runs on the owner's machine, never inside consensus: floats and
// math/rand are fine here, and only the quantized, committed model reaches the chain.
package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"github.com/tenun-chain/tenun/zkml/model"
)

// FloatMLP is a float64 MLP (ReLU hidden layers, linear output) used only
// for training; W[l][j][i] connects input i to output j of layer l.
type FloatMLP struct {
	Sizes []int
	W     [][][]float64
	B     [][]float64
}

// TrainConfig configures [Train]. Zero values take the defaults noted.
type TrainConfig struct {
	Hidden    []int   // hidden layer widths (default [24])
	Epochs    int     // default 60
	BatchSize int     // default 32
	LR        float64 // Adam step size (default 0.005)
	L2        float64 // weight decay (default 1e-4)
	Seed      uint64  // RNG seed for init and shuffling
	InScale   float64 // float input = integer input / InScale (default 16, the digits pixel range)
	// Noise is the stddev of Gaussian noise added to float inputs while training (0: none).
	Noise float64
	// ImageWidth > 0 treats inputs as images of that width and trains on
	// random translations by up to one pixel (a cheap, strong augmentation).
	ImageWidth int
	// OnEpoch, when set, is called after each epoch (1-based), for progress.
	OnEpoch func(epoch int) `json:"-"`
}

func (c *TrainConfig) defaults() {
	if len(c.Hidden) == 0 {
		c.Hidden = []int{24}
	}
	if c.Epochs == 0 {
		c.Epochs = 60
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	if c.LR == 0 {
		c.LR = 0.005
	}
	if c.L2 == 0 {
		c.L2 = 1e-4
	}
	if c.InScale == 0 {
		c.InScale = 16
	}
}

// DigitsTrainConfig is the configuration used for the digits model: one
// hidden layer of 32, Gaussian input noise as regularizer. About 92% on the
// 360-row test split after quantization.
func DigitsTrainConfig() TrainConfig {
	return TrainConfig{Hidden: []int{32}, Epochs: 100, LR: 0.002, L2: 1e-4, Noise: 0.4, Seed: 1, InScale: 16}
}

// Train fits an MLP with softmax cross-entropy and Adam. It is deterministic
// for a given seed. Not consensus code: float64 is fine here, the quantized
// model is what gets committed.
func Train(ds *model.Dataset, nClasses int, cfg TrainConfig) (*FloatMLP, error) {
	cfg.defaults()
	if ds.Len() == 0 {
		return nil, errors.New("train: empty data set")
	}
	for r, y := range ds.Y {
		if y < 0 || y >= nClasses {
			return nil, fmt.Errorf("train: row %d label %d out of [0, %d)", r, y, nClasses)
		}
	}
	sizes := append(append([]int{len(ds.X[0])}, cfg.Hidden...), nClasses)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7e6e75))
	net := &FloatMLP{Sizes: sizes}
	for l := 0; l+1 < len(sizes); l++ {
		nIn, nOut := sizes[l], sizes[l+1]
		std := math.Sqrt(2 / float64(nIn)) // He init for ReLU
		w := make([][]float64, nOut)
		for j := range w {
			w[j] = make([]float64, nIn)
			for i := range w[j] {
				w[j][i] = rng.NormFloat64() * std
			}
		}
		net.W = append(net.W, w)
		net.B = append(net.B, make([]float64, nOut))
	}
	xs := make([][]float64, ds.Len())
	for r, row := range ds.X {
		xs[r] = make([]float64, len(row))
		for i, v := range row {
			xs[r][i] = float64(v) / cfg.InScale
		}
	}

	opt := newAdam(net, cfg.LR)
	grad := net.zeroLike()
	order := make([]int, ds.Len())
	for i := range order {
		order[i] = i
	}
	for epoch := range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for start := 0; start < len(order); start += cfg.BatchSize {
			end := min(start+cfg.BatchSize, len(order))
			grad.clear()
			for _, r := range order[start:end] {
				net.backprop(augment(xs[r], cfg, rng), ds.Y[r], grad)
			}
			opt.step(net, grad, 1/float64(end-start), cfg.L2)
		}
		if cfg.OnEpoch != nil {
			cfg.OnEpoch(epoch + 1)
		}
	}
	return net, nil
}

// forward returns every layer's activations (post-ReLU for hidden layers).
func (n *FloatMLP) forward(x []float64) [][]float64 {
	acts := [][]float64{x}
	cur := x
	for l := range n.W {
		out := make([]float64, len(n.W[l]))
		for j, row := range n.W[l] {
			z := n.B[l][j]
			for i, w := range row {
				z += w * cur[i]
			}
			if l < len(n.W)-1 && z < 0 {
				z = 0
			}
			out[j] = z
		}
		acts = append(acts, out)
		cur = out
	}
	return acts
}

// Predict returns the argmax class of a float input.
func (n *FloatMLP) Predict(x []float64) int {
	acts := n.forward(x)
	out := acts[len(acts)-1]
	best := 0
	for i := range out {
		if out[i] > out[best] {
			best = i
		}
	}
	return best
}

// backprop adds the cross-entropy gradient of one example to g.
func (n *FloatMLP) backprop(x []float64, y int, g *FloatMLP) {
	acts := n.forward(x)
	logits := acts[len(acts)-1]
	mx := logits[0]
	for _, v := range logits {
		mx = max(mx, v)
	}
	sum := 0.0
	delta := make([]float64, len(logits))
	for j, v := range logits {
		delta[j] = math.Exp(v - mx)
		sum += delta[j]
	}
	for j := range delta {
		delta[j] /= sum
	}
	delta[y]--
	for l := len(n.W) - 1; l >= 0; l-- {
		in := acts[l]
		var prev []float64
		if l > 0 {
			prev = make([]float64, len(in))
		}
		for j, d := range delta {
			g.B[l][j] += d
			row, grow := n.W[l][j], g.W[l][j]
			for i := range row {
				grow[i] += d * in[i]
				if prev != nil {
					prev[i] += d * row[i]
				}
			}
		}
		if l > 0 {
			for i := range prev {
				if in[i] <= 0 { // ReLU derivative
					prev[i] = 0
				}
			}
		}
		delta = prev
	}
}

func (n *FloatMLP) zeroLike() *FloatMLP {
	z := &FloatMLP{Sizes: n.Sizes}
	for l := range n.W {
		w := make([][]float64, len(n.W[l]))
		for j := range w {
			w[j] = make([]float64, len(n.W[l][j]))
		}
		z.W = append(z.W, w)
		z.B = append(z.B, make([]float64, len(n.B[l])))
	}
	return z
}

func (n *FloatMLP) clear() {
	for l := range n.W {
		for j := range n.W[l] {
			clear(n.W[l][j])
		}
		clear(n.B[l])
	}
}

// params visits every parameter of n alongside the same one in others.
func (n *FloatMLP) params(f func(p *float64, i int, isWeight bool)) {
	k := 0
	for l := range n.W {
		for j := range n.W[l] {
			for i := range n.W[l][j] {
				f(&n.W[l][j][i], k, true)
				k++
			}
		}
		for j := range n.B[l] {
			f(&n.B[l][j], k, false)
			k++
		}
	}
}

type adam struct {
	lr     float64
	m, v   []float64
	t      int
	b1, b2 float64
}

func newAdam(n *FloatMLP, lr float64) *adam {
	cnt := 0
	n.params(func(*float64, int, bool) { cnt++ })
	return &adam{lr: lr, m: make([]float64, cnt), v: make([]float64, cnt), b1: 0.9, b2: 0.999}
}

func (a *adam) step(n, g *FloatMLP, scale, l2 float64) {
	a.t++
	grads := make([]float64, len(a.m))
	g.params(func(p *float64, i int, _ bool) { grads[i] = *p * scale })
	c1 := 1 - math.Pow(a.b1, float64(a.t))
	c2 := 1 - math.Pow(a.b2, float64(a.t))
	n.params(func(p *float64, i int, isWeight bool) {
		gr := grads[i]
		if isWeight {
			gr += l2 * *p
		}
		a.m[i] = a.b1*a.m[i] + (1-a.b1)*gr
		a.v[i] = a.b2*a.v[i] + (1-a.b2)*gr*gr
		*p -= a.lr * (a.m[i] / c1) / (math.Sqrt(a.v[i]/c2) + 1e-8)
	})
}

// augment returns x, translated and/or noised per cfg.
func augment(x []float64, cfg TrainConfig, rng *rand.Rand) []float64 {
	if cfg.Noise == 0 && cfg.ImageWidth == 0 {
		return x
	}
	out := make([]float64, len(x))
	if w := cfg.ImageWidth; w > 0 && len(x)%w == 0 {
		dx, dy := rng.IntN(3)-1, rng.IntN(3)-1
		h := len(x) / w
		for r := range h {
			for c := range w {
				sr, sc := r-dy, c-dx
				if sr >= 0 && sr < h && sc >= 0 && sc < w {
					out[r*w+c] = x[sr*w+sc]
				}
			}
		}
	} else {
		copy(out, x)
	}
	if cfg.Noise > 0 {
		for i := range out {
			out[i] += rng.NormFloat64() * cfg.Noise
		}
	}
	return out
}

// FloatFormat is the "format" of float model files written by `tenun zk train`.
const FloatFormat = "tenun-zkml-float/v1"

type floatFile struct {
	Format  string        `json:"format"`
	Sizes   []int         `json:"sizes"`
	InScale float64       `json:"in_scale"`
	W       [][][]float64 `json:"weights"`
	B       [][]float64   `json:"bias"`
}

// SaveFloat writes a float model with the input scale it was trained for.
func SaveFloat(path string, f *FloatMLP, inScale float64) error {
	b, err := json.Marshal(floatFile{Format: FloatFormat, Sizes: f.Sizes, InScale: inScale, W: f.W, B: f.B})
	if err != nil {
		return fmt.Errorf("encode float model: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write float model: %w", err)
	}
	return nil
}

// LoadFloat reads a float model and its input scale.
func LoadFloat(path string) (*FloatMLP, float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read float model: %w", err)
	}
	var ff floatFile
	if err := json.Unmarshal(b, &ff); err != nil {
		return nil, 0, fmt.Errorf("decode float model %s: %w", path, err)
	}
	if ff.Format != FloatFormat {
		return nil, 0, fmt.Errorf("float model %s: format %q, want %q", path, ff.Format, FloatFormat)
	}
	if len(ff.Sizes) < 2 || len(ff.W) != len(ff.Sizes)-1 || len(ff.B) != len(ff.W) {
		return nil, 0, fmt.Errorf("float model %s: layer count mismatch", path)
	}
	for l := range ff.W {
		if len(ff.W[l]) != ff.Sizes[l+1] || len(ff.B[l]) != ff.Sizes[l+1] {
			return nil, 0, fmt.Errorf("float model %s: layer %d shape mismatch", path, l)
		}
		for _, row := range ff.W[l] {
			if len(row) != ff.Sizes[l] {
				return nil, 0, fmt.Errorf("float model %s: layer %d shape mismatch", path, l)
			}
		}
	}
	return &FloatMLP{Sizes: ff.Sizes, W: ff.W, B: ff.B}, ff.InScale, nil
}

// FloatAccuracy counts correct predictions of a float model on integer rows.
func (n *FloatMLP) FloatAccuracy(ds *model.Dataset, inScale float64) int {
	correct := 0
	for r, row := range ds.X {
		x := make([]float64, len(row))
		for i, v := range row {
			x[i] = float64(v) / inScale
		}
		if n.Predict(x) == ds.Y[r] {
			correct++
		}
	}
	return correct
}
