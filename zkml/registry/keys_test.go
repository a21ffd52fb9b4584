package registry_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// Groth16 setup is the slow part of every test here, so each circuit is set
// up once per test binary and its key files (zkml/prover's .ccs/.pk/.vk/.json,
// the files `tenun zk setup` writes) are kept in one temp dir for the run.
var keyDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zkml-registry-keys-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	keyDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var keysMu sync.Mutex

// setupKeys returns the keys of spec, from keyDir if an earlier test made
// them, and how long compile and setup took (zero when cached).
func setupKeys(t testing.TB, name string, spec prover.Spec) (*prover.Keys, time.Duration) {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	manifest := filepath.Join(keyDir, name+".json")
	if _, err := os.Stat(manifest); err == nil {
		k, _, err := prover.LoadKeys(manifest)
		if err != nil {
			t.Fatalf("load cached keys %s: %v", name, err)
		}
		return k, 0
	}
	t0 := time.Now()
	ccs, err := prover.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	k, err := prover.Setup(spec, ccs)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	if _, err := prover.SaveKeys(keyDir, name, k, prover.SetupSingleParty); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d constraints, compile+setup %v", name, ccs.GetNbConstraints(), took.Round(time.Millisecond))
	return k, took
}

// vkFile reads the compressed verifying key and manifest the way the CLI
// does, from the manifest's directory.
func vkFile(t testing.TB, name string) ([]byte, *prover.Manifest) {
	t.Helper()
	vk, m, err := prover.LoadVerifyingKey(filepath.Join(keyDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return vk, m
}

// tinyFixture is a 16-8-10 MLP with inference and 4-row accuracy circuits
// and one valid proof of each: small enough to set up in seconds.
type tinyFixture struct {
	arch        model.Arch
	m, other    *model.Model // same arch, different weights
	x           []int
	class       int
	infProof    []byte
	ds, ds2     *model.Dataset // the accuracy test set, and another of the same size
	k           int
	accProof    []byte
	k2          int    // the true count on ds2
	accProof2   []byte // its proof
	infVK       []byte
	accVK       []byte
	infSpec     registry.Spec
	accSpec     registry.Spec
	infGnark    string
	regArch     registry.Arch
	comm, comm2 model.Digest
}

var (
	tinyOnce sync.Once
	tiny     *tinyFixture
	tinyErr  error
)

func tinyArch() model.Arch {
	a := model.Arch{Sizes: []int{16, 8, 10}, InBits: 5, Shifts: []int{5}}
	a.BiasBits = []int{model.DefaultBiasBits(16, 31), model.DefaultBiasBits(8, 255)}
	return a
}

func getTiny(t *testing.T) *tinyFixture {
	t.Helper()
	tinyOnce.Do(func() { tiny, tinyErr = buildTiny(t) })
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tiny
}

func buildTiny(t *testing.T) (*tinyFixture, error) {
	f := &tinyFixture{arch: tinyArch()}
	var err error
	if f.m, err = train.RandomModel(f.arch, 1); err != nil {
		return nil, err
	}
	if f.other, err = train.RandomModel(f.arch, 2); err != nil {
		return nil, err
	}
	if f.comm, err = f.m.ComputeCommitment(); err != nil {
		return nil, err
	}
	if f.comm2, err = f.other.ComputeCommitment(); err != nil {
		return nil, err
	}
	if f.regArch, err = registry.ArchOf(f.arch); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	input := func() []int {
		x := make([]int, f.arch.NumInputs())
		for i := range x {
			x[i] = rng.IntN(1 << f.arch.InBits)
		}
		return x
	}

	inf, _ := setupKeys(t, "tiny-inference", prover.Spec{Kind: prover.KindInference, Arch: f.arch})
	f.x = input()
	a, cls, err := circuit.InferenceAssignment(f.m, f.x)
	if err != nil {
		return nil, err
	}
	f.class = cls
	if f.infProof, _, err = inf.Prove(a); err != nil {
		return nil, err
	}

	// Four rows: three labelled with the model's prediction, one not.
	mk := func() *model.Dataset {
		ds := &model.Dataset{}
		for r := range 4 {
			x := input()
			p, _ := f.m.Predict(x)
			if r == 2 {
				p = (p + 1) % 10
			}
			ds.X, ds.Y = append(ds.X, x), append(ds.Y, p)
		}
		return ds
	}
	f.ds, f.ds2 = mk(), mk()
	acc, _ := setupKeys(t, "tiny-accuracy", prover.Spec{Kind: prover.KindAccuracy, Arch: f.arch, Rows: 4})
	aa, k, err := circuit.AccuracyAssignment(f.m, f.ds, -1)
	if err != nil {
		return nil, err
	}
	f.k = k
	if f.accProof, _, err = acc.Prove(aa); err != nil {
		return nil, err
	}
	if aa, f.k2, err = circuit.AccuracyAssignment(f.m, f.ds2, -1); err != nil {
		return nil, err
	}
	if f.accProof2, _, err = acc.Prove(aa); err != nil {
		return nil, err
	}

	var man *prover.Manifest
	f.infVK, man = vkFile(t, "tiny-inference")
	f.infGnark = man.Gnark
	f.accVK, _ = vkFile(t, "tiny-accuracy")
	f.infSpec = registry.Spec{Kind: registry.KindInference, Arch: f.regArch}
	f.accSpec = registry.Spec{Kind: registry.KindAccuracy, Arch: f.regArch, Rows: 4}
	return f, nil
}

// rows converts a data set to the chain's inline rows (inputs, then label).
func rows(ds *model.Dataset) [][]uint32 {
	out := make([][]uint32, ds.Len())
	for r := range ds.X {
		row := make([]uint32, 0, len(ds.X[r])+1)
		for _, v := range ds.X[r] {
			row = append(row, uint32(v))
		}
		out[r] = append(row, uint32(ds.Y[r]))
	}
	return out
}

func u32s(x []int) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = uint32(v)
	}
	return out
}
