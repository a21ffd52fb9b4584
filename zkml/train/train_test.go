package train

import (
	"testing"

	"github.com/tenun-chain/tenun/zkml/model"
)

// TestTrainQuantizeDigits trains on the first 1,437 digits and checks the
// quantized model on the 360-row test split.
func TestTrainQuantizeDigits(t *testing.T) {
	ds, err := model.LoadCSV("../../datasets/digits/digits.csv.gz")
	if err != nil {
		t.Fatalf("digits data not available: %v", err)
	}
	trainSet, _ := ds.Slice(0, model.DigitsTrainRows)
	test, _ := ds.Slice(model.DigitsTrainRows, model.DigitsRows)
	f, err := Train(trainSet, 10, DigitsTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Quantize(f, trainSet, QuantizeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	correct, err := m.Accuracy(test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("quantized %s: %d/%d = %.1f%% on the test split", m.Arch, correct, test.Len(), 100*float64(correct)/float64(test.Len()))
	if 10*correct < 9*test.Len() {
		t.Fatalf("accuracy %d/%d below 90%%", correct, test.Len())
	}
}
