package workload_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tenun-chain/tenun/compute/workload"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/train"
)

// The trainer's outputs are what zkML reads: the float model in its float
// format, and a quantized model that validates, commits and classifies the
// digits about as well as the float one.
func TestTrainerOutputIsZKMLModel(t *testing.T) {
	data := digits(t)
	bin, err := workload.BuildTrainerNative("")
	if err != nil {
		t.Fatal(err)
	}
	res, err := workload.RunTrainerNative(context.Background(), bin, data, workload.TrainerOptions{Quick: true, Hidden: 16})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{workload.ModelFile, workload.QuantizedFile} {
		if err := os.WriteFile(filepath.Join(dir, name), res.Outputs[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, inScale, err := train.LoadFloat(filepath.Join(dir, workload.ModelFile))
	if err != nil || inScale != 16 || len(f.Sizes) != 3 || f.Sizes[1] != 16 {
		t.Fatalf("float model: %v (in_scale %v)", err, inScale)
	}
	q, err := model.Load(filepath.Join(dir, workload.QuantizedFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	ds, err := model.LoadCSV(digitsPath)
	if err != nil {
		t.Fatal(err)
	}
	qc, err := q.Accuracy(ds)
	if err != nil {
		t.Fatal(err)
	}
	fc := f.FloatAccuracy(ds, inScale)
	if qc*100 < fc*95 || fc*100 < ds.Len()*70 {
		t.Fatalf("float model right on %d of %d, quantized on %d", fc, ds.Len(), qc)
	}
}
