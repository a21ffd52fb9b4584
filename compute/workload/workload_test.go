package workload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/workload"
)

const digitsPath = "../../datasets/digits/digits.csv.gz"

func digits(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(digitsPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("digits data set not found at %s (it ships in datasets/digits)", digitsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTrainerOptionsArgs(t *testing.T) {
	got := workload.TrainerOptions{Epochs: 5, Hidden: 32, Batch: 8, LearningRate: 0.05, Seed: 9}.Args("/in/d.csv", "/out")
	want := []string{"-data", "/in/d.csv", "-out", "/out", "-epochs", "5", "-hidden", "32", "-batch", "8", "-lr", "0.05", "-seed", "9"}
	if !slices.Equal(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
	if got := (workload.TrainerOptions{Quick: true}).Args("d", "o"); !slices.Contains(got, "-quick") {
		t.Errorf("quick args %q lack -quick", got)
	}
}

func TestBuildIsCached(t *testing.T) {
	dir := t.TempDir()
	first, err := workload.BuildTrainerNative(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	second, err := workload.BuildTrainerNative(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("rebuild gave %s, first build %s", second, first)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("cached build took %v", took)
	}
	if _, err := workload.BuildWasm(dir, "bad name", []byte("package main")); err == nil {
		t.Error("BuildWasm accepted a name with a space")
	}
}

func TestNativeTrainerDeterministic(t *testing.T) {
	data := digits(t)
	bin, err := workload.BuildTrainerNative("")
	if err != nil {
		t.Fatal(err)
	}
	opts := workload.TrainerOptions{Quick: true}
	a, err := workload.RunTrainerNative(context.Background(), bin, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := workload.RunTrainerNative(context.Background(), bin, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{workload.ModelFile, workload.MetricsFile} {
		if len(a.Outputs[name]) == 0 || !bytes.Equal(a.Outputs[name], b.Outputs[name]) {
			t.Errorf("%s missing or different between runs", name)
		}
	}
	// Another seed must change the model: the seed really drives the run.
	opts.Seed = 2
	c, err := workload.RunTrainerNative(context.Background(), bin, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Outputs[workload.ModelFile], c.Outputs[workload.ModelFile]) {
		t.Error("seed 2 gave the same model as seed 1")
	}
}

func TestTrainerRejectsBadData(t *testing.T) {
	bin, err := workload.BuildTrainerNative("")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"short row":   "1,2,3\n",
		"bad pixel":   string(bytes.Repeat([]byte("17,"), 64)) + "1\n",
		"bad class":   string(bytes.Repeat([]byte("1,"), 64)) + "10\n",
		"empty":       "",
		"not numbers": "a,b\nc,d\n",
	} {
		if _, err := workload.RunTrainerNative(context.Background(), bin, []byte(data), workload.TrainerOptions{Quick: true}); err == nil {
			t.Errorf("%s: trainer accepted bad data", name)
		}
	}
}

func TestFindDigits(t *testing.T) {
	want, err := filepath.Abs(digitsPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(want); err != nil {
		t.Skip("digits data set not present")
	}
	got, err := workload.FindDigits(".")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("FindDigits = %s, want %s", got, want)
	}
	if _, err := workload.FindDigits(t.TempDir()); !errors.Is(err, workload.ErrNoData) && err != nil {
		t.Errorf("FindDigits in an empty tree: %v", err)
	}
}

// The trainer built on the tensor kernels writes the same bytes in the
// sandbox (kernels as host functions) as natively (kernels as Go calls),
// and the same fuel on every run.
func TestKernelTrainerSandboxMatchesNative(t *testing.T) {
	data := digits(t)
	wasmPath, err := workload.BuildTrainerKernels("", false)
	if err != nil {
		t.Fatal(err)
	}
	nativePath, err := workload.BuildTrainerKernels("", true)
	if err != nil {
		t.Fatal(err)
	}
	module, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.Check(module); err != nil {
		t.Fatalf("kernel trainer refused by Check: %v", err)
	}
	opts := workload.TrainerOptions{Quick: true}
	job := workload.TrainerJob(module, data, opts, sandbox.Limits{})
	ctx := context.Background()
	first, err := sandbox.Run(ctx, job)
	if err != nil {
		t.Fatalf("sandbox: %v\n%s", err, first.Stderr)
	}
	second, err := sandbox.Run(ctx, job)
	if err != nil {
		t.Fatalf("sandbox: %v\n%s", err, second.Stderr)
	}
	if first.Digest() != second.Digest() || first.FuelUsed != second.FuelUsed {
		t.Errorf("two sandbox runs differ: fuel %d and %d", first.FuelUsed, second.FuelUsed)
	}
	nat, err := workload.RunTrainerNative(ctx, nativePath, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sandbox.OutputDigest(nat.Outputs) != first.Digest() {
		t.Errorf("native and sandboxed kernel trainers wrote different outputs:\nnative %s\nsandbox %s",
			nat.Outputs[workload.MetricsFile], first.Outputs[workload.MetricsFile])
	}
	var m struct {
		TestAccuracy float64 `json:"test_accuracy"`
	}
	if err := json.Unmarshal(first.Outputs[workload.MetricsFile], &m); err != nil || m.TestAccuracy < 0.85 {
		t.Errorf("kernel trainer's test accuracy %v (err %v), want >= 0.85", m.TestAccuracy, err)
	}
}
