package circuit

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/test"

	"github.com/tenun-chain/tenun/zkml/model"
)

// tinyConv is a 6x6 4-bit image, two 3x3 channels, 2x2 pool, 8-3 head.
func tinyConv() model.ConvArch {
	return model.ConvArch{
		Height: 6, Width: 6, InBits: 4, Kernel: 3, Channels: 2, Shift: 4, BiasBits: 12, Pool: 2,
		Head: model.Arch{Sizes: []int{8, 3}, InBits: model.ActBits, Shifts: []int{}, BiasBits: []int{model.DefaultBiasBits(8, 255)}},
	}
}

func randomConv(t *testing.T, a model.ConvArch, seed uint64) *model.ConvModel {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	m := &model.ConvModel{Format: model.ConvFormatName, Arch: a}
	for range a.Channels {
		k := make([][]int, a.Kernel)
		for r := range k {
			for range a.Kernel {
				k[r] = append(k[r], rng.IntN(81)-40)
			}
		}
		m.Kernel = append(m.Kernel, k)
		m.Bias = append(m.Bias, int64(rng.IntN(400)-100))
	}
	ly := model.Layer{}
	for range a.Head.Sizes[1] {
		row := make([]int, a.Head.Sizes[0])
		for i := range row {
			row[i] = rng.IntN(256) - 128
		}
		ly.Weights = append(ly.Weights, row)
		ly.Bias = append(ly.Bias, int64(rng.IntN(2000)-1000))
	}
	m.Head = []model.Layer{ly}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// The plain CNN on a hand-checked case: one channel, a kernel of ones,
// shift 0, no pooling, identity-like head.
func TestConvFeaturesByHand(t *testing.T) {
	a := model.ConvArch{Height: 3, Width: 4, InBits: 4, Kernel: 2, Channels: 1, Shift: 1, BiasBits: 8, Pool: 1,
		Head: model.Arch{Sizes: []int{6, 2}, InBits: model.ActBits, Shifts: []int{}, BiasBits: []int{20}}}
	m := &model.ConvModel{Format: model.ConvFormatName, Arch: a,
		Kernel: [][][]int{{{1, 1}, {1, -1}}}, Bias: []int64{-3},
		Head: []model.Layer{{Weights: [][]int{{1, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 1}}, Bias: []int64{0, 0}}}}
	x := []int{
		1, 2, 3, 15,
		4, 5, 6, 0,
		0, 0, 9, 9,
	}
	f, err := m.Features(x)
	if err != nil {
		t.Fatal(err)
	}
	// z = x00+x01+x10-x11-3, then floor(z/2) clamped at 0.
	want := []int{(1 + 2 + 4 - 5 - 3) >> 1, (2 + 3 + 5 - 6 - 3) >> 1, (3 + 15 + 6 - 0 - 3) >> 1, (4 + 5 + 0 - 0 - 3) >> 1, (5 + 6 + 0 - 9 - 3) >> 1, (6 + 0 + 9 - 9 - 3) >> 1}
	for i := range want {
		want[i] = max(want[i], 0)
	}
	for i := range want {
		if f[i] != want[i] {
			t.Fatalf("features %v, want %v", f, want)
		}
	}
}

func TestConvInferenceMatchesPlain(t *testing.T) {
	a := tinyConv()
	c, err := NewConvInference(a)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for trial := range 4 {
		m := randomConv(t, a, uint64(trial))
		x := make([]int, a.NumInputs())
		for i := range x {
			x[i] = rng.IntN(16)
		}
		if trial == 0 {
			for i := range x {
				x[i] = 15 // saturates some channels
			}
		}
		as, cls, err := ConvInferenceAssignment(m, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := test.IsSolved(c, as, field); err != nil {
			t.Fatalf("trial %d: true class %d refused: %v", trial, cls, err)
		}
		as.Class = (cls + 1) % 3
		if test.IsSolved(c, as, field) == nil {
			t.Fatalf("trial %d: wrong class accepted", trial)
		}
		as.Class = cls
		as.Commitment = new(big.Int).Add(as.Commitment.(*big.Int), big.NewInt(1))
		if test.IsSolved(c, as, field) == nil {
			t.Fatalf("trial %d: wrong commitment accepted", trial)
		}
	}
}

// A prover that hints a pool maximum other than the true one is refused,
// whether it is larger than every value or smaller than one.
func TestMaxPoolRejectsWrongMaximum(t *testing.T) {
	a := tinyConv()
	c, _ := NewConvInference(a)
	m := randomConv(t, a, 9)
	x := make([]int, a.NumInputs())
	for i := range x {
		x[i] = (i * 7) % 16
	}
	as, _, err := ConvInferenceAssignment(m, x)
	if err != nil {
		t.Fatal(err)
	}
	for _, delta := range []int64{1, -1} {
		lie := test.WithReplacementHint(solver.GetHintID(maxHint), func(mod *big.Int, in, out []*big.Int) error {
			if err := maxHint(mod, in, out); err != nil {
				return err
			}
			out[0].Add(out[0], big.NewInt(delta))
			return nil
		})
		if test.IsSolved(c, as, field, lie) == nil {
			t.Fatalf("pool maximum off by %d accepted", delta)
		}
	}
}

// The CNN accuracy circuit accepts the true count and any smaller claim,
// and refuses an over-claim, a wrapped-around negative claim, another
// test-set hash (the same hash an MLP of the input shape uses) and
// another N.
func TestConvAccuracyCircuit(t *testing.T) {
	a := tinyConv()
	m := randomConv(t, a, 4)
	rng := rand.New(rand.NewPCG(8, 8))
	ds := &model.Dataset{}
	for range 4 {
		x := make([]int, a.NumInputs())
		for i := range x {
			x[i] = rng.IntN(16)
		}
		p, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		ds.X, ds.Y = append(ds.X, x), append(ds.Y, p)
	}
	ds.Y[2] = (ds.Y[2] + 1) % 3 // one wrong label
	as, k, err := ConvAccuracyAssignment(m, ds, -1)
	if err != nil {
		t.Fatal(err)
	}
	if k != 3 {
		t.Fatalf("true count %d, want 3", k)
	}
	if want, _ := a.InputArch().TestSetHash(ds); as.TestSetHash.(*big.Int).Cmp(want.BigInt()) != 0 {
		t.Fatal("cnn test-set hash differs from the MLP one of the same shape")
	}
	c, err := NewConvAccuracy(a, ds.Len())
	if err != nil {
		t.Fatal(err)
	}
	if err := test.IsSolved(c, as, field); err != nil {
		t.Fatalf("true count refused: %v", err)
	}
	as.K = 1
	if err := test.IsSolved(c, as, field); err != nil {
		t.Fatalf("smaller claim refused: %v", err)
	}
	for _, bad := range []struct {
		what string
		set  func(*ConvAccuracy)
	}{
		{"over-claim", func(x *ConvAccuracy) { x.K = 4 }},
		{"negative claim", func(x *ConvAccuracy) { x.K = new(big.Int).Sub(field, big.NewInt(1)) }},
		{"another test-set hash", func(x *ConvAccuracy) { x.TestSetHash = big.NewInt(12345) }},
		{"another N", func(x *ConvAccuracy) { x.N = 5 }},
		{"another commitment", func(x *ConvAccuracy) {
			x.Commitment = new(big.Int).Add(x.Commitment.(*big.Int), big.NewInt(1))
		}},
	} {
		x, _, _ := ConvAccuracyAssignment(m, ds, 3)
		bad.set(x)
		if test.IsSolved(c, x, field) == nil {
			t.Fatalf("%s accepted", bad.what)
		}
	}
	if _, _, err := ConvAccuracyAssignment(m, ds, 4); err == nil {
		t.Fatal("assignment of an over-claim built")
	}
}
