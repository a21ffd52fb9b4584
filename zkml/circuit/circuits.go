// Package circuit holds the gnark (BN254, R1CS) circuits for quantized MLPs
// (see zkml/model for the integer semantics they prove):
//
//   - [Inference]: the model committed to by Commitment maps the public
//     input to the public class.
//   - [Accuracy]: the committed model classifies at least K of the N rows of
//     the test set whose hash is TestSetHash correctly.
//
// Both unpack the private packed model with range checks, hash it with the
// Poseidon2 sponge of zkml/model and assert the hash equals the public
// commitment, so every proof about a model names the same value. Range checks
// and the saturating ReLU use one log-derivative lookup argument ([Lookups]).
package circuit

import (
	"fmt"
	"math/big"
	"math/bits"

	"github.com/consensys/gnark/frontend"

	"github.com/tenun-chain/tenun/zkml/model"
)

// Inference proves: the model with commitment Commitment classifies the
// input (packed into field elements, see model.Arch.PackInput) as Class.
// Public inputs, in order: Commitment, Input..., Class.
type Inference struct {
	Commitment frontend.Variable   `gnark:",public"`
	Input      []frontend.Variable `gnark:",public"`
	Class      frontend.Variable   `gnark:",public"`

	Model []frontend.Variable // packed model (private)

	Arch model.Arch `gnark:"-"`
}

// NewInference returns a circuit shaped for arch (for compilation).
func NewInference(arch model.Arch) (*Inference, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	return &Inference{
		Input: make([]frontend.Variable, arch.NumInputElems()),
		Model: make([]frontend.Variable, arch.NumModelElems()),
		Arch:  arch.Clone(),
	}, nil
}

// Define implements frontend.Circuit.
func (c *Inference) Define(api frontend.API) error {
	lk := NewLookups()
	layers, err := unpackModel(api, lk, c.Arch, c.Model, c.Commitment)
	if err != nil {
		return err
	}
	x, err := unpack(api, lk, c.Input, inputWidths(c.Arch))
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	cls, err := predictRows(api, lk, c.Arch, [][]frontend.Variable{x}, layers)
	if err != nil {
		return err
	}
	api.AssertIsEqual(cls[0], c.Class)
	return lk.Build(api)
}

func inputWidths(a model.Arch) []int {
	w := make([]int, a.NumInputs())
	for i := range w {
		w[i] = a.InBits
	}
	return w
}

// Accuracy proves: the model with commitment Commitment predicts the label
// of at least K of the N rows of the test set whose hash is TestSetHash.
// Public inputs, in order: Commitment, TestSetHash, N, K.
//
// Two variants share these public inputs. By default the test set is a
// private witness, hashed in the circuit, so one key serves any test set of
// N rows. With Fixed set (NewFixedAccuracy), the test set is compiled into
// the circuit as constants and TestSetHash must equal its hash: the key then
// serves only that test set (a registered benchmark), and in exchange the
// circuit needs no hashing, unpacking or input range checks for it and the
// first layer's input products become free, roughly halving proving time.
type Accuracy struct {
	Commitment  frontend.Variable `gnark:",public"`
	TestSetHash frontend.Variable `gnark:",public"`
	N           frontend.Variable `gnark:",public"`
	K           frontend.Variable `gnark:",public"`

	Model   []frontend.Variable // packed model (private)
	TestSet []frontend.Variable // packed test set (private; bound by TestSetHash)

	Arch  model.Arch     `gnark:"-"`
	Rows  int            `gnark:"-"`
	Fixed *model.Dataset `gnark:"-"` // test set compiled in, or nil
}

// NewAccuracy returns a circuit shaped for arch and n test rows.
func NewAccuracy(arch model.Arch, n int) (*Accuracy, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("accuracy: need at least one test row, got %d", n)
	}
	return &Accuracy{
		Model:   make([]frontend.Variable, arch.NumModelElems()),
		TestSet: make([]frontend.Variable, len(model.Layout(arch.TestSetWidths(n)))),
		Arch:    arch.Clone(),
		Rows:    n,
	}, nil
}

// NewFixedAccuracy returns a circuit with the test set ds compiled in.
func NewFixedAccuracy(arch model.Arch, ds *model.Dataset) (*Accuracy, error) {
	c, err := NewAccuracy(arch, ds.Len())
	if err != nil {
		return nil, err
	}
	if _, err := arch.TestSetHash(ds); err != nil {
		return nil, err
	}
	c.TestSet = nil
	c.Fixed = ds
	return c, nil
}

// Define implements frontend.Circuit.
func (c *Accuracy) Define(api frontend.API) error {
	lk := NewLookups()
	layers, err := unpackModel(api, lk, c.Arch, c.Model, c.Commitment)
	if err != nil {
		return err
	}
	var items []frontend.Variable
	if c.Fixed != nil {
		if c.Fixed.Len() != c.Rows {
			return fmt.Errorf("test set: %d rows, circuit has %d", c.Fixed.Len(), c.Rows)
		}
		h, err := c.Arch.TestSetHash(c.Fixed)
		if err != nil {
			return err
		}
		api.AssertIsEqual(c.TestSetHash, h.BigInt())
		vals, _, err := c.Arch.TestSetItems(c.Fixed)
		if err != nil {
			return err
		}
		for _, v := range vals {
			items = append(items, v)
		}
	} else {
		if items, err = unpack(api, lk, c.TestSet, c.Arch.TestSetWidths(c.Rows)); err != nil {
			return fmt.Errorf("test set: %w", err)
		}
		h, err := sponge(api, model.DomainTestSet, c.Arch.TestSetHeader(c.Rows), c.TestSet)
		if err != nil {
			return err
		}
		api.AssertIsEqual(h, c.TestSetHash)
	}
	api.AssertIsEqual(c.N, c.Rows)

	nIn := c.Arch.NumInputs()
	xs := make([][]frontend.Variable, c.Rows)
	for r := range xs {
		xs[r] = items[r*(nIn+1) : r*(nIn+1)+nIn]
	}
	cls, err := predictRows(api, lk, c.Arch, xs, layers)
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

// atLeastK asserts that at least k of the rows have cls[r] == labels[r].
// K and count-K both fit in the bits of rows, so neither can wrap around the
// field.
func atLeastK(api frontend.API, lk *Lookups, cls, labels []frontend.Variable, k frontend.Variable, rows int) error {
	correct := make([]frontend.Variable, rows)
	for r := range correct {
		correct[r] = api.IsZero(api.Sub(cls[r], labels[r]))
	}
	nb := bits.Len(uint(rows))
	if err := rangeCheck(api, lk, k, nb); err != nil {
		return err
	}
	return rangeCheck(api, lk, api.Sub(sum(api, correct), k), nb)
}

// toVars converts packed integers to witness values.
func toVars(v []*big.Int) []frontend.Variable {
	out := make([]frontend.Variable, len(v))
	for i := range v {
		out[i] = v[i]
	}
	return out
}

// InferenceAssignment builds the full witness for proving that m classifies x.
// It returns the class it proves.
func InferenceAssignment(m *model.Model, x []int) (*Inference, int, error) {
	cls, err := m.Predict(x)
	if err != nil {
		return nil, 0, err
	}
	packed, err := m.Packed()
	if err != nil {
		return nil, 0, err
	}
	input, err := m.Arch.PackInput(x)
	if err != nil {
		return nil, 0, err
	}
	com, err := m.ComputeCommitment()
	if err != nil {
		return nil, 0, err
	}
	return &Inference{
		Commitment: com.BigInt(),
		Input:      toVars(input),
		Class:      cls,
		Model:      toVars(packed),
		Arch:       m.Arch.Clone(),
	}, cls, nil
}

// FixedAccuracyAssignment is AccuracyAssignment for a circuit made by
// NewFixedAccuracy with the same test set.
func FixedAccuracyAssignment(m *model.Model, ds *model.Dataset, k int) (*Accuracy, int, error) {
	a, k, err := AccuracyAssignment(m, ds, k)
	if err != nil {
		return nil, 0, err
	}
	a.TestSet = nil
	a.Fixed = ds
	return a, k, nil
}

// claimedCount is the count an accuracy witness claims: k, or the true
// count when k < 0; more than the true count is refused.
func claimedCount(what string, k, correct, n int) (int, error) {
	if k < 0 {
		k = correct
	}
	if k > correct {
		return 0, fmt.Errorf("%s: claim of %d correct exceeds the true %d of %d", what, k, correct, n)
	}
	return k, nil
}

// testSetWitness is a test set as a circuit takes it, for inputs of arch
// a: the packed rows and their hash.
func testSetWitness(a model.Arch, ds *model.Dataset) ([]*big.Int, model.Digest, error) {
	vals, widths, err := a.TestSetItems(ds)
	if err != nil {
		return nil, model.Digest{}, err
	}
	ts, err := model.Pack(vals, widths)
	if err != nil {
		return nil, model.Digest{}, err
	}
	tsh, err := a.TestSetHash(ds)
	return ts, tsh, err
}

// AccuracyAssignment builds the full witness for proving that m classifies
// at least k rows of ds correctly; k < 0 claims the true count, which is
// returned.
func AccuracyAssignment(m *model.Model, ds *model.Dataset, k int) (*Accuracy, int, error) {
	correct, err := m.Accuracy(ds)
	if err != nil {
		return nil, 0, err
	}
	if k, err = claimedCount("accuracy", k, correct, ds.Len()); err != nil {
		return nil, 0, err
	}
	packed, err := m.Packed()
	if err != nil {
		return nil, 0, err
	}
	ts, tsh, err := testSetWitness(m.Arch, ds)
	if err != nil {
		return nil, 0, err
	}
	com, err := m.ComputeCommitment()
	if err != nil {
		return nil, 0, err
	}
	return &Accuracy{
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
