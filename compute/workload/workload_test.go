package workload_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/sdk/kernels"
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

// The C k-means job, built by clang for wasm32-wasi and natively, writes
// the same bytes in the sandbox as natively.
func TestKMeansSandboxMatchesNative(t *testing.T) {
	wasmPath, err := workload.BuildKMeans("", false)
	if errors.Is(err, workload.ErrNoClang) {
		t.Skipf("SKIPPED: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	nativePath, err := workload.BuildKMeans("", true)
	if err != nil {
		t.Fatal(err)
	}
	module, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	csv, err := workload.PlainDigits(digits(t))
	if err != nil {
		t.Fatal(err)
	}
	opts := workload.KMeansOptions{Restarts: 2, Iters: 30}
	ctx := context.Background()
	res, err := sandbox.Run(ctx, workload.KMeansJob(module, csv, opts, sandbox.Limits{}))
	if err != nil {
		t.Fatalf("sandbox: %v\n%s", err, res.Stderr)
	}
	nat, err := workload.RunNative(ctx, nativePath, map[string][]byte{workload.KMeansDataName: csv}, opts.Args())
	if err != nil {
		t.Fatal(err)
	}
	if sandbox.OutputDigest(nat.Outputs) != res.Digest() {
		t.Errorf("native and sandboxed k-means differ:\nnative %s\nsandbox %s", nat.Outputs["metrics.json"], res.Outputs["metrics.json"])
	}
	var m struct {
		Purity float64 `json:"purity"`
	}
	if err := json.Unmarshal(res.Outputs["metrics.json"], &m); err != nil || m.Purity < 0.6 {
		t.Errorf("purity %v (err %v), want >= 0.6", m.Purity, err)
	}
	// Bad data is refused with a non-zero exit, the job's own failure.
	if _, err := sandbox.Run(ctx, workload.KMeansJob(module, []byte("1,2,3\n"), opts, sandbox.Limits{})); !errors.Is(err, sandbox.ErrExit) {
		t.Errorf("bad CSV: %v, want a non-zero exit", err)
	}
}

// The C SDK's kernel declarations reach the sandbox's host functions: a C
// job multiplies two matrices with tenun_matmul and gets the bits package
// kernels computes.
func TestCSDKKernels(t *testing.T) {
	src := []byte(`#include "tenun.h"
int main(void) {
  static double a[6], b[12], c[8];
  for (int i = 0; i < 6; i++) a[i] = i * 0.1 - 0.2;
  for (int i = 0; i < 12; i++) b[i] = 1.0 / (i + 1);
  tenun_matmul(TENUN_TRANS_B, 2, 4, 3, 0.5, a, b, c);
  double s = tenun_sum(8, c);
  tenun_progress(1, 1);
  return tenun_output("c.bin", c, sizeof c) || tenun_output("sum.bin", &s, sizeof s);
}
`)
	wasmPath, err := workload.BuildC("", "ckernels", src, false)
	if errors.Is(err, workload.ErrNoClang) {
		t.Skipf("SKIPPED: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	module, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sandbox.Run(context.Background(), sandbox.Job{Module: module})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Stderr)
	}
	a, b, c := make([]float64, 6), make([]float64, 12), make([]float64, 8)
	for i := range a {
		a[i] = float64(i)*0.1 - 0.2
	}
	for i := range b {
		b[i] = 1.0 / float64(i+1)
	}
	kernels.MatMul(kernels.TransB, 2, 4, 3, 0.5, a, b, c)
	var want []byte
	for _, v := range c {
		want = binary.LittleEndian.AppendUint64(want, math.Float64bits(v))
	}
	if !bytes.Equal(res.Outputs["c.bin"], want) {
		t.Errorf("C job's product %x, kernels.MatMul %x", res.Outputs["c.bin"], want)
	}
	if got := res.Outputs["sum.bin"]; !bytes.Equal(got, binary.LittleEndian.AppendUint64(nil, math.Float64bits(kernels.Sum(c)))) {
		t.Errorf("C job's sum %x", got)
	}
	if !bytes.Contains(res.Stderr, []byte("progress 1/1")) {
		t.Errorf("no progress line in %q", res.Stderr)
	}
}

// The C SDK's native kernels are the sandbox's, bit for bit: one program
// calls every kernel that exists natively, on awkward values (negative
// zeros, NaNs, sizes that are not multiples of four), built for the sandbox
// and for this machine, and the two must write the same bytes.
func TestCSDKNativeKernelsMatchSandbox(t *testing.T) {
	src := []byte(`#include "tenun.h"
static double out[4096];
static int used;
static void put(const double *x, int n) { memcpy(out + used, x, sizeof(double) * n); used += n; }
int main(void) {
  static double a[7 * 5], b[5 * 6], bt[6 * 5], at[5 * 7], c[7 * 6], y[35], z[35];
  static int32_t labels[7], arg[7];
  for (int i = 0; i < 35; i++) {
    a[i] = (i % 3 == 0 ? -1.0 : 1.0) / (i + 3) * 1e3;
    at[i] = a[(i % 7) * 5 + i / 7];
    y[i] = i % 5 == 0 ? -0.0 : (double)(i - 17) / 7;
  }
  y[8] = 0.0 / 0.0;
  y[9] = -y[8];
  for (int i = 0; i < 30; i++) b[i] = 1.0 / (i + 1) - 0.1, bt[(i % 6) * 5 + i / 6] = b[i];
  for (int i = 0; i < 7; i++) labels[i] = (i * 5) % 6;
  tenun_matmul(0, 7, 6, 5, 0.75, a, b, c), put(c, 42);
  tenun_matmul(TENUN_TRANS_B, 7, 6, 5, -1.5, a, bt, c), put(c, 42);
  tenun_matmul(TENUN_TRANS_A | TENUN_ACCUMULATE, 7, 6, 5, 3.0, at, b, c), put(c, 42);
  tenun_matmul(TENUN_TRANS_A | TENUN_TRANS_B, 7, 6, 5, 1.0, at, bt, c), put(c, 42);
  tenun_add(35, a, y, z), put(z, 35);
  tenun_sub(35, a, y, z), put(z, 35);
  tenun_mul(35, a, y, z), put(z, 35);
  tenun_scale(35, 0.1, a, z), put(z, 35);
  tenun_axpy(35, 0.3, a, z), put(z, 35);
  tenun_add_row(7, 5, y, z), put(z, 35);
  tenun_relu(35, y, z), put(z, 35);
  tenun_relu_grad(35, y, a, z), put(z, 35);
  tenun_sum_rows(7, 5, a, z), put(z, 5);
  double s = tenun_sum(35, a);
  put(&s, 1);
  tenun_onehot_sub(7, 6, labels, c), put(c, 42);
  tenun_argmax_rows(7, 6, c, arg);
  return tenun_output("out.bin", out, sizeof(double) * used) || tenun_output("arg.bin", arg, sizeof arg);
}
`)
	wasmPath, err := workload.BuildC("", "cnative", src, false)
	if errors.Is(err, workload.ErrNoClang) {
		t.Skipf("SKIPPED: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	nativePath, err := workload.BuildC("", "cnative", src, true)
	if err != nil {
		t.Fatal(err)
	}
	module, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := sandbox.Run(ctx, sandbox.Job{Module: module})
	if err != nil {
		t.Fatalf("sandbox: %v\n%s", err, res.Stderr)
	}
	nat, err := workload.RunNative(ctx, nativePath, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"out.bin", "arg.bin"} {
		got, want := nat.Outputs[name], res.Outputs[name]
		if len(want) == 0 || !bytes.Equal(got, want) {
			for i := 0; i+8 <= len(want) && i+8 <= len(got); i += 8 {
				if !bytes.Equal(got[i:i+8], want[i:i+8]) {
					t.Fatalf("%s: value %d differs: native %x, sandbox %x", name, i/8, got[i:i+8], want[i:i+8])
				}
			}
			t.Fatalf("%s: native %d bytes, sandbox %d bytes", name, len(got), len(want))
		}
	}
}
