package prover

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/train"
)

func tinyArch() model.Arch {
	a := model.Arch{Sizes: []int{8, 6, 3}, InBits: 4, Shifts: []int{4}}
	a.BiasBits = []int{model.DefaultBiasBits(8, 15), model.DefaultBiasBits(6, model.ActMax)}
	return a
}

// TestKeyFilesAndProofFile covers compile -> save -> setup -> save -> load ->
// prove -> proof file -> verify, the path the CLI takes.
func TestKeyFilesAndProofFile(t *testing.T) {
	dir := t.TempDir()
	spec := Spec{Kind: KindInference, Arch: tinyArch()}
	ccs, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SaveCompiled(dir, "inf", spec, ccs); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadKeys(filepath.Join(dir, "inf.json")); err == nil {
		t.Fatal("loaded keys before setup")
	}
	spec2, ccs2, _, err := LoadCompiled(filepath.Join(dir, "inf.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := Setup(spec2, ccs2)
	if err != nil {
		t.Fatal(err)
	}
	m, err := SaveKeys(dir, "inf", keys, SetupSingleParty)
	if err != nil {
		t.Fatal(err)
	}
	if gv, _ := Versions(); m.Gnark != gv || m.Gnark == "" || m.PublicInputs != 2+spec.Arch.NumInputElems() {
		t.Fatalf("manifest %+v", m)
	}
	loaded, _, err := LoadKeys(filepath.Join(dir, "inf.json"))
	if err != nil {
		t.Fatal(err)
	}
	mdl, _ := train.RandomModel(tinyArch(), 3)
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]int, 8)
	for i := range x {
		x[i] = rng.IntN(16)
	}
	pf, err := loaded.ProveInference(mdl, x)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p.json")
	if err := pf.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadProofFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := back.PublicElements()
	if err != nil {
		t.Fatal(err)
	}
	vk, _, err := LoadVerifyingKey(filepath.Join(dir, "inf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := zkml.Verify(vk, back.Proof, pub); err != nil {
		t.Fatal(err)
	}
	// A claim edited in the file no longer matches its recorded public inputs.
	back.Inference.Class = (back.Inference.Class + 1) % 3
	if _, err := back.PublicElements(); err == nil {
		t.Fatal("edited claim accepted")
	}
	// A corrupted key file is caught by the manifest hash.
	if err := os.WriteFile(filepath.Join(dir, "inf.vk"), vk[:len(vk)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadVerifyingKey(filepath.Join(dir, "inf.json")); err == nil {
		t.Fatal("corrupted key accepted")
	}
	// Keys from another gnark version are refused.
	m.Gnark = "v0.0.1"
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "inf.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(filepath.Join(dir, "inf.json")); err == nil {
		t.Fatal("foreign gnark version accepted")
	}
	// Keys for one arch refuse a model of another.
	other := tinyArch()
	other.Shifts[0]++
	om, _ := train.RandomModel(other, 1)
	if _, err := loaded.ProveInference(om, x); err == nil {
		t.Fatal("model of another arch proved")
	}
}
