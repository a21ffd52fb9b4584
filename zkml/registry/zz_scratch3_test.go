package registry

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
)

func TestScratchSweep(t *testing.T) {
	if os.Getenv("SCRATCH3") == "" {
		t.Skip()
	}
	ds, err := model.LoadCSV("../../../shared/data/digits/digits.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	train, _ := ds.Slice(0, model.DigitsTrainRows)
	test, _ := ds.Slice(model.DigitsTrainRows, ds.Len())
	for _, h := range []int{4, 6, 8, 10} {
		best := 0
		var arch model.Arch
		for _, seed := range []uint64{1, 2, 3, 7} {
			for _, iw := range []int{0, 8} {
				for _, ep := range []int{30, 60} {
					f, err := model.Train(train, 10, model.TrainConfig{Hidden: []int{h}, Epochs: ep, Seed: seed, ImageWidth: iw})
					if err != nil {
						t.Fatal(err)
					}
					q, err := model.Quantize(f, train, model.QuantizeConfig{})
					if err != nil {
						t.Fatal(err)
					}
					k, _ := q.Accuracy(test)
					fk, fn := 0, 0
					for r := range test.X {
						x := make([]float64, 64)
						for i, v := range test.X[r] {
							x[i] = float64(v) / 16
						}
						if f.Predict(x) == test.Y[r] {
							fk++
						}
						fn++
					}
					fmt.Printf("h%d seed %d iw %d ep %d: int %d float %d\n", h, seed, iw, ep, k, fk)
					if k > best {
						best, arch = k, q.Arch
					}
				}
			}
		}
		t0 := time.Now()
		ccs, err := prover.Compile(prover.Spec{Kind: prover.KindAccuracy, Arch: arch, Rows: 360})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("== h%d best %d arch %+v: %d constraints (compile %v)\n", h, best, arch, ccs.GetNbConstraints(), time.Since(t0))
	}
}
