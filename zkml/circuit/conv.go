package circuit

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"

	"github.com/tenun-chain/tenun/zkml/model"
)

// ConvInference proves: the CNN with commitment Commitment classifies the
// input image (pixels packed as model.Pack with InBits each) as Class.
// Public inputs, in order: Commitment, Input..., Class.
type ConvInference struct {
	Commitment frontend.Variable   `gnark:",public"`
	Input      []frontend.Variable `gnark:",public"`
	Class      frontend.Variable   `gnark:",public"`

	Model []frontend.Variable // packed model (private)

	Arch model.ConvArch `gnark:"-"`
}

func pixelWidths(a model.ConvArch) []int {
	w := make([]int, a.NumInputs())
	for i := range w {
		w[i] = a.InBits
	}
	return w
}

// NewConvInference returns a circuit shaped for arch (for compilation).
func NewConvInference(arch model.ConvArch) (*ConvInference, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	return &ConvInference{
		Input: make([]frontend.Variable, len(model.Layout(pixelWidths(arch)))),
		Model: make([]frontend.Variable, arch.NumModelElems()),
		Arch:  arch.Clone(),
	}, nil
}

// Define implements frontend.Circuit.
func (c *ConvInference) Define(api frontend.API) error {
	a := c.Arch
	lk := NewLookups()
	cm, err := unpackConvModel(api, lk, a, c.Model, c.Commitment)
	if err != nil {
		return err
	}
	x, err := unpack(api, lk, c.Input, pixelWidths(a))
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	pooled, err := convFeatures(api, lk, a, x, cm)
	if err != nil {
		return err
	}
	cls, err := predictRows(api, lk, a.Head, [][]frontend.Variable{pooled}, cm.head)
	if err != nil {
		return err
	}
	api.AssertIsEqual(cls[0], c.Class)
	return lk.Build(api)
}

// convModelVars is a CNN's model unpacked from its committed elements.
type convModelVars struct {
	kernel, bias []frontend.Variable
	head         []layerVars
}

// unpackConvModel unpacks the packed model with range checks (which make
// the commitment bind each item) and asserts its sponge equals commitment.
func unpackConvModel(api frontend.API, lk *Lookups, a model.ConvArch, packed []frontend.Variable, commitment frontend.Variable) (convModelVars, error) {
	items, err := unpack(api, lk, packed, a.ItemWidths())
	if err != nil {
		return convModelVars{}, fmt.Errorf("cnn model: %w", err)
	}
	h, err := sponge(api, model.DomainConvModel, a.Header(), packed)
	if err != nil {
		return convModelVars{}, err
	}
	api.AssertIsEqual(h, commitment)
	nk := a.Channels * a.Kernel * a.Kernel
	biasItems := items[nk : nk+a.Channels]
	bias := make([]frontend.Variable, a.Channels)
	for ch := range bias {
		bias[ch] = api.Sub(biasItems[ch], pow2(a.BiasBits-1))
	}
	return convModelVars{kernel: items[:nk], bias: bias, head: layersFromItems(api, a.Head, items[nk+a.Channels:])}, nil
}

// convFeatures is the convolution, its activation and the pool of one
// image: the head's input.
func convFeatures(api frontend.API, lk *Lookups, a model.ConvArch, x []frontend.Variable, cm convModelVars) ([]frontend.Variable, error) {
	maps, err := conv2D(api, lk, a, x, cm.kernel, cm.bias)
	if err != nil {
		return nil, err
	}
	return maxPool(api, lk, a, maps)
}

// ConvAccuracy proves: the CNN with commitment Commitment predicts the
// label of at least K of the N rows of the test set whose hash is
// TestSetHash. Public inputs, in order: Commitment, TestSetHash, N, K (as
// Accuracy). The test set is a private witness hashed in the circuit
// exactly as for an MLP of the same input shape (model.ConvArch.InputArch),
// so one registered test set serves MLPs and CNNs alike. The dense head's
// hidden layers are checked for all rows at once (predictRows).
type ConvAccuracy struct {
	Commitment  frontend.Variable `gnark:",public"`
	TestSetHash frontend.Variable `gnark:",public"`
	N           frontend.Variable `gnark:",public"`
	K           frontend.Variable `gnark:",public"`

	Model   []frontend.Variable // packed model (private)
	TestSet []frontend.Variable // packed test set (private; bound by TestSetHash)

	Arch model.ConvArch `gnark:"-"`
	Rows int            `gnark:"-"`
}

// NewConvAccuracy returns a circuit shaped for arch and n test rows.
func NewConvAccuracy(arch model.ConvArch, n int) (*ConvAccuracy, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("cnn accuracy: need at least one test row, got %d", n)
	}
	return &ConvAccuracy{
		Model:   make([]frontend.Variable, arch.NumModelElems()),
		TestSet: make([]frontend.Variable, len(model.Layout(arch.InputArch().TestSetWidths(n)))),
		Arch:    arch.Clone(),
		Rows:    n,
	}, nil
}

// Define implements frontend.Circuit.
func (c *ConvAccuracy) Define(api frontend.API) error {
	a, ta := c.Arch, c.Arch.InputArch()
	lk := NewLookups()
	cm, err := unpackConvModel(api, lk, a, c.Model, c.Commitment)
	if err != nil {
		return err
	}
	items, err := unpack(api, lk, c.TestSet, ta.TestSetWidths(c.Rows))
	if err != nil {
		return fmt.Errorf("test set: %w", err)
	}
	h, err := sponge(api, model.DomainTestSet, ta.TestSetHeader(c.Rows), c.TestSet)
	if err != nil {
		return err
	}
	api.AssertIsEqual(h, c.TestSetHash)
	api.AssertIsEqual(c.N, c.Rows)

	nIn := a.NumInputs()
	feats := make([][]frontend.Variable, c.Rows)
	for r := range feats {
		if feats[r], err = convFeatures(api, lk, a, items[r*(nIn+1):r*(nIn+1)+nIn], cm); err != nil {
			return fmt.Errorf("row %d: %w", r, err)
		}
	}
	cls, err := predictRows(api, lk, a.Head, feats, cm.head)
	if err != nil {
		return err
	}
	labels := make([]frontend.Variable, c.Rows)
	for r := range labels {
		labels[r] = items[r*(nIn+1)+nIn]
	}
	if err := atLeastK(api, lk, cls, labels, c.K, c.Rows); err != nil {
		return err
	}
	return lk.Build(api)
}

// conv2D computes the convolution and its saturating ReLU: maps[c][i*cw+j].
// Each output is t = z + 2^Z = bias + 2^Z - 128*sum(window) + sum u*x with
// the unsigned weights u = w + 128 (one multiplication per kernel tap), split
// into the limbs of requantReLU.
func conv2D(api frontend.API, lk *Lookups, a model.ConvArch, x, kernel, bias []frontend.Variable) ([][]frontend.Variable, error) {
	ch, cw, k := a.ConvHeight(), a.ConvWidth(), a.Kernel
	z, hb := a.ZBits(), a.FlagBits()
	widths := append(append(fine(a.Shift), model.ActBits), hb)
	maps := make([][]frontend.Variable, a.Channels)
	for c := range a.Channels {
		for i := range ch {
			for j := range cw {
				terms := []frontend.Variable{bias[c], pow2(z)}
				var window []frontend.Variable
				for di := range k {
					for dj := range k {
						px := x[(i+di)*a.Width+j+dj]
						window = append(window, px)
						terms = append(terms, api.Mul(kernel[(c*k+di)*k+dj], px))
					}
				}
				terms = append(terms, api.Mul(sum(api, window), -model.WeightOffset))
				limbs, err := split(api, sum(api, terms), widths)
				if err != nil {
					return nil, fmt.Errorf("conv channel %d: %w", c, err)
				}
				v, err := requantReLU(api, lk, a.Shift, hb, limbs, false)
				if err != nil {
					return nil, fmt.Errorf("conv channel %d: %w", c, err)
				}
				maps[c] = append(maps[c], v)
			}
		}
	}
	return maps, nil
}

// maxPool takes the maximum of each Pool x Pool window of activations (all
// in [0, 256)). The prover hints the maximum m; every m - v is range-checked
// to 8 bits (m is at least each v) and the product of all m - v must vanish
// (m is one of them). Output order: channel, row, column.
func maxPool(api frontend.API, lk *Lookups, a model.ConvArch, maps [][]frontend.Variable) ([]frontend.Variable, error) {
	cw, p := a.ConvWidth(), a.Pool
	var out []frontend.Variable
	for c := range maps {
		for i := range a.PoolHeight() {
			for j := range a.PoolWidth() {
				var win []frontend.Variable
				for di := range p {
					for dj := range p {
						win = append(win, maps[c][(i*p+di)*cw+j*p+dj])
					}
				}
				if len(win) == 1 {
					out = append(out, win[0])
					continue
				}
				m, err := api.Compiler().NewHint(maxHint, 1, win...)
				if err != nil {
					return nil, fmt.Errorf("pool: %w", err)
				}
				var prod frontend.Variable = 1
				for _, v := range win {
					d := api.Sub(m[0], v)
					lk.Range(api, d, model.ActBits)
					prod = api.Mul(prod, d)
				}
				api.AssertIsEqual(prod, 0)
				out = append(out, m[0])
			}
		}
	}
	return out, nil
}

// maxHint outputs the largest of its (small, non-negative) inputs.
func maxHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) == 0 || len(out) != 1 {
		return errors.New("max: want inputs and one output")
	}
	best := in[0]
	for _, v := range in[1:] {
		if v.Cmp(best) > 0 {
			best = v
		}
	}
	out[0].Set(best)
	return nil
}

// ConvInferenceAssignment builds the full witness for proving that m
// classifies the image x; it returns the class it proves.
func ConvInferenceAssignment(m *model.ConvModel, x []int) (*ConvInference, int, error) {
	cls, err := m.Predict(x)
	if err != nil {
		return nil, 0, err
	}
	packed, err := m.Packed()
	if err != nil {
		return nil, 0, err
	}
	px := make([]uint64, len(x))
	for i, v := range x {
		px[i] = uint64(v)
	}
	input, err := model.Pack(px, pixelWidths(m.Arch))
	if err != nil {
		return nil, 0, err
	}
	com, err := m.ComputeCommitment()
	if err != nil {
		return nil, 0, err
	}
	return &ConvInference{
		Commitment: com.BigInt(),
		Input:      toVars(input),
		Class:      cls,
		Model:      toVars(packed),
		Arch:       m.Arch.Clone(),
	}, cls, nil
}

// ConvAccuracyAssignment builds the full witness for proving that m
// classifies at least k rows of ds correctly; k < 0 claims the true count,
// which is returned.
func ConvAccuracyAssignment(m *model.ConvModel, ds *model.Dataset, k int) (*ConvAccuracy, int, error) {
	correct, err := m.Accuracy(ds)
	if err != nil {
		return nil, 0, err
	}
	if k, err = claimedCount("cnn accuracy", k, correct, ds.Len()); err != nil {
		return nil, 0, err
	}
	packed, err := m.Packed()
	if err != nil {
		return nil, 0, err
	}
	ts, tsh, err := testSetWitness(m.Arch.InputArch(), ds)
	if err != nil {
		return nil, 0, err
	}
	com, err := m.ComputeCommitment()
	if err != nil {
		return nil, 0, err
	}
	return &ConvAccuracy{
		Commitment:  com.BigInt(),
		TestSetHash: tsh.BigInt(),
		N:           ds.Len(),
		K:           k,
		Model:       toVars(packed),
		TestSet:     toVars(ts),
		Arch:        m.Arch.Clone(),
		Rows:        ds.Len(),
	}, k, nil
}
