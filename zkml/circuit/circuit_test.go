package circuit

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/train"
)

var field = ecc.BN254.ScalarField()

// tinyArch is small enough to solve in milliseconds but still has two
// output groups in the hidden layer and saturation tables.
func tinyArch() model.Arch {
	a := model.Arch{Sizes: []int{16, 14, 10}, InBits: 5, Shifts: []int{5}}
	a.BiasBits = []int{model.DefaultBiasBits(16, 31), model.DefaultBiasBits(14, 255)}
	return a
}

func randomInput(rng *rand.Rand, a model.Arch) []int {
	x := make([]int, a.NumInputs())
	for i := range x {
		x[i] = rng.IntN(1 << a.InBits)
	}
	return x
}

type spongeCircuit struct {
	In  []frontend.Variable
	Out frontend.Variable `gnark:",public"`
}

func (c *spongeCircuit) Define(api frontend.API) error {
	h, err := sponge(api, model.DomainTestSet, []uint64{7, 9}, c.In)
	if err != nil {
		return err
	}
	api.AssertIsEqual(h, c.Out)
	return nil
}

func TestSpongeMatchesPlainGo(t *testing.T) {
	for _, n := range []int{1, 13, 14, 29} {
		in := make([]*big.Int, n)
		for i := range in {
			in[i] = big.NewInt(int64(1000*i + 3))
		}
		want := model.SpongeHash(model.DomainTestSet, []uint64{7, 9}, in)
		var w big.Int
		want.BigInt(&w)
		c := &spongeCircuit{In: make([]frontend.Variable, n)}
		a := &spongeCircuit{In: toVars(in), Out: &w}
		if err := test.IsSolved(c, a, field); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		a.Out = new(big.Int).Add(&w, big.NewInt(1))
		if test.IsSolved(c, a, field) == nil {
			t.Fatalf("n=%d: wrong digest accepted", n)
		}
	}
}

// TestInferenceMatchesPlain checks that the circuit's class equals plain
// integer inference on many random inputs, covering negative, in-range and
// saturated activations.
func TestInferenceMatchesPlain(t *testing.T) {
	arch := tinyArch()
	m, err := train.RandomModel(arch, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewInference(arch)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	var neg, mid, sat int
	for range 12 {
		x := randomInput(rng, arch)
		countActivations(t, m, x, &neg, &mid, &sat)
		a, cls, err := InferenceAssignment(m, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := test.IsSolved(c, a, field); err != nil {
			t.Fatalf("input %v: %v", x, err)
		}
		a.Class = (cls + 1) % arch.NumClasses()
		if test.IsSolved(c, a, field) == nil {
			t.Fatalf("wrong class %v accepted", a.Class)
		}
	}
	if neg == 0 || mid == 0 || sat == 0 {
		t.Fatalf("activations not all exercised: %d zero, %d in range, %d saturated", neg, mid, sat)
	}
}

// countActivations tallies hidden activations by regime.
func countActivations(t *testing.T, m *model.Model, x []int, neg, mid, sat *int) {
	t.Helper()
	ly := m.Layers[0]
	for j, row := range ly.Weights {
		z := ly.Bias[j]
		for i, w := range row {
			z += int64(w) * int64(x[i])
		}
		switch q := z >> uint(m.Arch.Shifts[0]); {
		case q < 0:
			*neg++
		case q > model.ActMax:
			*sat++
		default:
			*mid++
		}
	}
}

// TestArgmaxTies: equal logits resolve to the first index, in plain Go and
// in the circuit.
func TestArgmaxTies(t *testing.T) {
	arch := tinyArch()
	m, err := train.RandomModel(arch, 5)
	if err != nil {
		t.Fatal(err)
	}
	out := &m.Layers[1]
	for j := range out.Weights {
		for i := range out.Weights[j] {
			out.Weights[j][i] = 0
		}
		out.Bias[j] = -5
	}
	out.Bias[3], out.Bias[7] = 11, 11
	x := randomInput(rand.New(rand.NewPCG(1, 1)), arch)
	a, cls, err := InferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	if cls != 3 {
		t.Fatalf("plain argmax of a tie = %d, want 3", cls)
	}
	c, _ := NewInference(arch)
	if err := test.IsSolved(c, a, field); err != nil {
		t.Fatal(err)
	}
	a.Class = 7
	if test.IsSolved(c, a, field) == nil {
		t.Fatal("second maximum accepted as the class")
	}
}

func TestInferenceRejectsWrongCommitment(t *testing.T) {
	arch := tinyArch()
	m, _ := train.RandomModel(arch, 1)
	other, _ := train.RandomModel(arch, 2)
	x := randomInput(rand.New(rand.NewPCG(4, 4)), arch)
	a, _, err := InferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	oc, _ := other.ComputeCommitment()
	a.Commitment = oc.BigInt()
	c, _ := NewInference(arch)
	if test.IsSolved(c, a, field) == nil {
		t.Fatal("model accepted under another model's commitment")
	}
}

func TestAccuracyCircuit(t *testing.T) {
	for _, batched := range []bool{false, true} {
		forceFreivalds = batched
		testAccuracyCircuit(t)
	}
	forceFreivalds = false
}

func testAccuracyCircuit(t *testing.T) {
	arch := tinyArch()
	m, _ := train.RandomModel(arch, 9)
	rng := rand.New(rand.NewPCG(5, 6))
	ds := &model.Dataset{}
	for range 5 {
		x := randomInput(rng, arch)
		ds.X = append(ds.X, x)
		p, _ := m.Predict(x)
		ds.Y = append(ds.Y, p) // correct
	}
	ds.Y[1] = (ds.Y[1] + 1) % 10 // two wrong labels
	ds.Y[4] = (ds.Y[4] + 3) % 10
	a, k, err := AccuracyAssignment(m, ds, -1)
	if err != nil {
		t.Fatal(err)
	}
	if k != 3 {
		t.Fatalf("true count %d, want 3", k)
	}
	c, _ := NewAccuracy(arch, ds.Len())
	if err := test.IsSolved(c, a, field); err != nil {
		t.Fatal(err)
	}
	a.K = 2 // "at least 2" also holds
	if err := test.IsSolved(c, a, field); err != nil {
		t.Fatal(err)
	}
	a.K = 4
	if test.IsSolved(c, a, field) == nil {
		t.Fatal("over-claim accepted")
	}
	a.K = new(big.Int).Sub(field, big.NewInt(1)) // -1 must not wrap around
	if test.IsSolved(c, a, field) == nil {
		t.Fatal("negative claim accepted")
	}
	a.K = 3
	tsh := a.TestSetHash
	a.TestSetHash = big.NewInt(12345)
	if test.IsSolved(c, a, field) == nil {
		t.Fatal("test set accepted under another hash")
	}
	a.TestSetHash = tsh
	a.N = 6
	if test.IsSolved(c, a, field) == nil {
		t.Fatal("wrong N accepted")
	}

	// The same statement with the test set compiled in.
	fc, err := NewFixedAccuracy(arch, ds)
	if err != nil {
		t.Fatal(err)
	}
	fa, _, err := FixedAccuracyAssignment(m, ds, -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := test.IsSolved(fc, fa, field); err != nil {
		t.Fatal(err)
	}
	fa.K = 4
	if test.IsSolved(fc, fa, field) == nil {
		t.Fatal("fixed: over-claim accepted")
	}
	fa.K = 3
	other := &model.Dataset{X: ds.X, Y: append([]int(nil), ds.Y...)}
	other.Y[0] = (other.Y[0] + 1) % 10
	oh, _ := arch.TestSetHash(other)
	fa.TestSetHash = oh.BigInt()
	if test.IsSolved(fc, fa, field) == nil {
		t.Fatal("fixed: another test set's hash accepted")
	}
}

// TestDigitsModelMatchesPlain checks the circuits against plain inference
// with the trained digits model on a few test rows (skipped without data).
func TestDigitsModelMatchesPlain(t *testing.T) {
	ds, err := model.LoadCSV("../../datasets/digits/digits.csv.gz")
	if err != nil {
		t.Fatalf("digits data not available: %v", err)
	}
	trainSet, _ := ds.Slice(0, model.DigitsTrainRows)
	cfg := train.DigitsTrainConfig()
	cfg.Epochs = 10 // the semantics check does not need a good model
	f, err := train.Train(trainSet, 10, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := train.Quantize(f, trainSet, train.QuantizeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := ds.Slice(model.DigitsTrainRows, model.DigitsTrainRows+12)
	c, _ := NewInference(m.Arch)
	for r := range 4 {
		a, cls, err := InferenceAssignment(m, rows.X[r])
		if err != nil {
			t.Fatal(err)
		}
		if err := test.IsSolved(c, a, field); err != nil {
			t.Fatalf("row %d (class %d): %v", r, cls, err)
		}
	}
	// The batched (Freivalds) path is what 12 rows of this arch use.
	if freivaldsCost(m.Arch, 0, rows.Len()) >= packingCost(m.Arch, 0, rows.Len()) {
		t.Fatal("expected the batched path for the digits arch")
	}
	ac, _ := NewAccuracy(m.Arch, rows.Len())
	aa, k, err := AccuracyAssignment(m, rows, -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := test.IsSolved(ac, aa, field); err != nil {
		t.Fatalf("accuracy %d/%d: %v", k, rows.Len(), err)
	}
	aa.K = k + 1
	if test.IsSolved(ac, aa, field) == nil {
		t.Fatal("over-claim accepted")
	}
}

// TestTwoHiddenLayers covers deeper MLPs on both hidden-layer paths.
func TestTwoHiddenLayers(t *testing.T) {
	a := model.Arch{Sizes: []int{12, 9, 7, 4}, InBits: 4, Shifts: []int{4, 8}}
	a.BiasBits = []int{model.DefaultBiasBits(12, 15), model.DefaultBiasBits(9, model.ActMax), model.DefaultBiasBits(7, model.ActMax)}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := train.RandomModel(a, 4)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ds := &model.Dataset{}
	for range 3 {
		x := randomInput(rng, a)
		p, _ := m.Predict(x)
		ds.X, ds.Y = append(ds.X, x), append(ds.Y, p)
	}
	c, _ := NewInference(a)
	ia, _, err := InferenceAssignment(m, ds.X[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := test.IsSolved(c, ia, field); err != nil {
		t.Fatal(err)
	}
	for _, batched := range []bool{false, true} {
		forceFreivalds = batched
		ac, _ := NewAccuracy(a, ds.Len())
		aa, k, err := AccuracyAssignment(m, ds, -1)
		if err != nil || k != ds.Len() {
			t.Fatalf("assignment: %v, k=%d", err, k)
		}
		if err := test.IsSolved(ac, aa, field); err != nil {
			t.Fatalf("batched=%v: %v", batched, err)
		}
	}
	forceFreivalds = false
}
