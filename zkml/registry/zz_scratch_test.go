package registry

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
)

func TestScratchTrain(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	ds, err := model.LoadCSV("../../../shared/data/digits/digits.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	train, _ := ds.Slice(0, model.DigitsTrainRows)
	test, _ := ds.Slice(model.DigitsTrainRows, ds.Len())
	for _, h := range []int{8, 10, 12, 16} {
		for _, ep := range []int{20, 40} {
			t0 := time.Now()
			f, err := model.Train(train, 10, model.TrainConfig{Hidden: []int{h}, Epochs: ep, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			q, err := model.Quantize(f, train, model.QuantizeConfig{})
			if err != nil {
				t.Fatal(err)
			}
			k, _ := q.Accuracy(test)
			fmt.Printf("hidden %d epochs %d: %d/360 arch %+v train %v\n", h, ep, k, q.Arch, time.Since(t0))
		}
	}
}

func TestScratchSetup(t *testing.T) {
	if os.Getenv("SCRATCH2") == "" {
		t.Skip()
	}
	ds, err := model.LoadCSV("../../../shared/data/digits/digits.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	train, _ := ds.Slice(0, model.DigitsTrainRows)
	test, _ := ds.Slice(model.DigitsTrainRows, ds.Len())
	var h int
	fmt.Sscan(os.Getenv("SCRATCH2"), &h)
	f, _ := model.Train(train, 10, model.TrainConfig{Hidden: []int{h}, Epochs: 20, Seed: 7})
	q, _ := model.Quantize(f, train, model.QuantizeConfig{})
	spec := prover.Spec{Kind: prover.KindAccuracy, Arch: q.Arch, Rows: 360}
	t0 := time.Now()
	ccs, err := prover.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("compile %v: %d constraints\n", time.Since(t0), ccs.GetNbConstraints())
	t0 = time.Now()
	keys, err := prover.Setup(spec, ccs)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("setup %v\n", time.Since(t0))
	a, k, err := circuit.AccuracyAssignment(q, test, -1)
	if err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	proof, pub, err := keys.Prove(a)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("prove %v k=%d proof %d bytes pub %d\n", time.Since(t0), k, len(proof), len(pub))
	vk, _ := keys.VerifyingKeyBytes()
	t0 = time.Now()
	t0 = time.Now()
	vkp, err := zkmlParse(vk)
	fmt.Printf("parse vk %v %d bytes err %v\n", time.Since(t0), len(vk), err)
	t0 = time.Now()
	for range 10 {
		if err := vkp.Verify(proof, pub); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("verify x10 %v\n", time.Since(t0))
}
