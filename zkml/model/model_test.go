package model

import (
	"math/big"
	"path/filepath"
	"testing"
)

func tinyArch() Arch {
	a := Arch{Sizes: []int{4, 3, 2}, InBits: 4, Shifts: []int{2}}
	a.BiasBits = []int{DefaultBiasBits(4, 15), DefaultBiasBits(3, ActMax)}
	return a
}

func TestPackRoundTrip(t *testing.T) {
	widths := []int{8, 8, 5, 200, 60, 1, 253}
	vals := []uint64{255, 0, 31, 1 << 63, 1<<60 - 1, 1, 42}
	packed, err := Pack(vals, widths)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(Layout(widths)); got != len(packed) || got != 3 {
		t.Fatalf("layout has %d elements, pack %d, want 3", got, len(packed))
	}
	for _, p := range packed {
		if p.BitLen() > PackBits {
			t.Fatalf("element of %d bits", p.BitLen())
		}
	}
	back, err := Unpack(packed, widths)
	if err != nil {
		t.Fatal(err)
	}
	for i := range vals {
		if back[i] != vals[i] {
			t.Fatalf("item %d: %d != %d", i, back[i], vals[i])
		}
	}
	if _, err := Pack([]uint64{256}, []int{8}); err == nil {
		t.Fatal("overflowing item packed")
	}
}

func TestSpongeSeparatesDomainsAndLengths(t *testing.T) {
	one := []*big.Int{big.NewInt(1)}
	a := SpongeHash(DomainModel, nil, one)
	if b := SpongeHash(DomainTestSet, nil, one); a == b {
		t.Fatal("domains collide")
	}
	if b := SpongeHash(DomainModel, nil, []*big.Int{big.NewInt(1), big.NewInt(0)}); a == b {
		t.Fatal("zero padding collides")
	}
	if b := SpongeHash(DomainModel, []uint64{1}, nil); a != b {
		t.Fatal("header and elements are one stream: should match")
	}
}

// TestForwardSemantics checks the integer semantics on a hand-computed example.
func TestForwardSemantics(t *testing.T) {
	m := &Model{Format: FormatName, Arch: tinyArch(), Layers: []Layer{
		{Weights: [][]int{{1, 2, 3, 4}, {-128, 0, 0, 0}, {127, 127, 127, 127}}, Bias: []int64{5, 3, -1}},
		{Weights: [][]int{{1, 0, 0}, {0, 0, 1}}, Bias: []int64{0, 1}},
	}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	// z0 = 1+4+9+16+5 = 35 -> 35>>2 = 8; z1 = -128+3 -> negative -> 0; z2 = 127*10-1 = 1269 -> 317 -> 255.
	logits, err := m.Forward([]int{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if logits[0] != 8 || logits[1] != 256 {
		t.Fatalf("logits %v, want [8 256]", logits)
	}
	if c, _ := m.Predict([]int{1, 2, 3, 4}); c != 1 {
		t.Fatalf("class %d, want 1", c)
	}
	if _, err := m.Forward([]int{16, 0, 0, 0}); err == nil {
		t.Fatal("input out of range accepted")
	}
}

func TestArchValidate(t *testing.T) {
	a := tinyArch()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := a.Clone()
	bad.Shifts[0] = a.ZBits(0) // leaves no flag bits
	if bad.Validate() == nil {
		t.Fatal("shift beyond range accepted")
	}
	bad = a.Clone()
	bad.Sizes = []int{4, 3, 1}
	if bad.Validate() == nil {
		t.Fatal("single class accepted")
	}
}

func TestSaveLoadCommitment(t *testing.T) {
	m, err := patternModel(tinyArch(), 3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if *back.Commitment != *m.Commitment {
		t.Fatal("commitment changed across save/load")
	}
	back.Layers[0].Weights[0][0] ^= 1
	c2, _ := back.ComputeCommitment()
	if c2 == *m.Commitment {
		t.Fatal("weight change kept the commitment")
	}
	// A file whose weights were edited without updating the commitment is rejected.
	back.Commitment = m.Commitment
	if err := saveRaw(back, path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil {
		t.Fatal("stale commitment accepted")
	}
}

func TestDigestText(t *testing.T) {
	c, _ := (&Model{Format: FormatName, Arch: tinyArch(), Layers: mustRandom(t).Layers}).ComputeCommitment()
	d, err := ParseDigest(c.String())
	if err != nil || d != c {
		t.Fatalf("round trip: %v %v", d, err)
	}
	if _, err := ParseDigest("0x" + "ff" + c.String()[4:]); err == nil {
		t.Fatal("non-canonical digest accepted")
	}
}

func mustRandom(t *testing.T) *Model {
	m, err := patternModel(tinyArch(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// patternModel fills arch with int8 weights and small biases from an integer
// generator (xorshift), so this package's tests need neither math/rand nor
// zkml/train (which imports this package).
func patternModel(arch Arch, seed uint64) (*Model, error) {
	x := seed*0x9e3779b97f4a7c15 + 1
	next := func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	m := &Model{Format: FormatName, Arch: arch.Clone(), Layers: make([]Layer, arch.NumLayers())}
	for l := range m.Layers {
		nIn, nOut := arch.Sizes[l], arch.Sizes[l+1]
		ly := Layer{Weights: make([][]int, nOut), Bias: make([]int64, nOut)}
		span := uint64(1) << (arch.BiasBits[l] - 4)
		for j := range nOut {
			ly.Weights[j] = make([]int, nIn)
			for i := range nIn {
				ly.Weights[j][i] = int(next()%256) - WeightOffset
			}
			ly.Bias[j] = int64(next()%(2*span)) - int64(span)
		}
		m.Layers[l] = ly
	}
	return m, m.Validate()
}
