package train

import (
	"fmt"
	"os"
	"testing"

	"github.com/tenun-chain/tenun/zkml/model"
)

func digitsSplit(t *testing.T) (train, test *model.Dataset) {
	t.Helper()
	ds, err := model.LoadCSV("../../datasets/digits/digits.csv.gz")
	if err != nil {
		t.Fatalf("digits data not available: %v", err)
	}
	train, err = ds.Slice(0, model.DigitsTrainRows)
	if err != nil {
		t.Fatal(err)
	}
	test, err = ds.Slice(model.DigitsTrainRows, ds.Len())
	if err != nil {
		t.Fatal(err)
	}
	return train, test
}

// A tiny CNN (2 channels, few epochs, 400 rows) trains, quantizes to a
// valid model and classifies held-out digits far above chance.
func TestTrainCNNTiny(t *testing.T) {
	train, test := digitsSplit(t)
	small, _ := train.Slice(0, 400)
	cfg := CNNConfig{Height: 8, Width: 8, Channels: 2, Epochs: 4, Seed: 3}
	cfg.Head = TrainConfig{Hidden: []int{16}, Epochs: 20, Seed: 4}
	m, err := TrainCNN(small, 10, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	correct, err := m.Accuracy(test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tiny CNN %+v: %d/%d held-out rows", m.Arch, correct, test.Len())
	if correct*100 < 70*test.Len() {
		t.Fatalf("tiny CNN: %d of %d held-out rows correct, want at least 70%%", correct, test.Len())
	}
}

// TestTrainCNNDigits is the real digits CNN (slow: set ZKML_CNN=1).
func TestTrainCNNDigits(t *testing.T) {
	if os.Getenv("ZKML_CNN") == "" {
		t.Skip("set ZKML_CNN=1 to train the full digits CNN")
	}
	train, test := digitsSplit(t)
	cfg := DigitsCNNConfig()
	if v := os.Getenv("ZKML_CNN_CFG"); v != "" {
		fmt.Sscanf(v, "%d %d %d %f %f %d %d %f", &cfg.Channels, &cfg.Epochs, &cfg.Pool, &cfg.LR, &cfg.Head.Noise, &cfg.Head.Epochs, &cfg.Shifted, &cfg.Noise)
	}
	FloatCNNProbe = func(predict func([]int) int) {
		ok := 0
		for r, x := range test.X {
			if predict(x) == test.Y[r] {
				ok++
			}
		}
		t.Logf("float CNN (linear head): %d/%d", ok, test.Len())
	}
	defer func() { FloatCNNProbe = nil }()
	m, err := TrainCNN(train, 10, cfg)
	if err != nil {
		t.Fatal(err)
	}
	correct, _ := m.Accuracy(test)
	t.Logf("digits CNN %+v: %d/%d = %.2f%%", m.Arch, correct, test.Len(), 100*float64(correct)/float64(test.Len()))
	if os.Getenv("ZKML_CNN_CFG") == "" && correct*100 < 97*test.Len() {
		t.Fatalf("digits CNN: %d of %d held-out rows, want at least 97%%", correct, test.Len())
	}
}
