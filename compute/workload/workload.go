// Package workload holds the compute market's reference job: the trainer
// program in ./trainer (an MLP trained on the 8x8 digits data set) and the
// helpers to build it for the sandbox (GOOS=wasip1 GOARCH=wasm) and natively,
// to describe a sandbox job for it, and to run the native build as a baseline.
//
// The trainer's source is embedded, so building needs only a Go toolchain on
// PATH, not this repository; builds are cached by a hash of the source, the
// toolchain version and the target.
package workload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/sdk"
)

// trainerFiles are the trainer's sources: main.go (the pure-Go training
// loops) and kernels.go (training on the sandbox's tensor kernels, built
// with the tenunkernels tag).
//
//go:embed trainer/*.go
var trainerFiles embed.FS

// KernelsTag is the build tag that makes the trainer train with the tensor
// kernels (package job) instead of its own loops.
const KernelsTag = "tenunkernels"

func trainerSources() map[string][]byte {
	files := map[string][]byte{}
	entries, _ := fs.ReadDir(trainerFiles, "trainer")
	for _, e := range entries {
		if b, err := fs.ReadFile(trainerFiles, "trainer/"+e.Name()); err == nil && !strings.HasSuffix(e.Name(), "_test.go") {
			files[e.Name()] = b
		}
	}
	return files
}

// TrainerDataName is the input file name TrainerJob mounts the data set as.
const TrainerDataName = "digits.csv.gz"

// Output files the trainer writes.
const (
	ModelFile     = "model.json"     // float model, zkML's float format
	QuantizedFile = "quantized.json" // the model quantized for zkML (its commitment is what claims name)
	MetricsFile   = "metrics.json"
)

// TrainerOptions are the trainer's hyperparameters; zero values keep the
// program's defaults (30 epochs, 64 hidden units, batch 16, rate 0.1, seed 1).
type TrainerOptions struct {
	Epochs       int
	Quick        bool // 2 epochs, for tests and smoke runs; overrides Epochs
	Hidden       int
	Batch        int
	LearningRate float64
	Seed         uint64
}

// Args returns the trainer's command-line arguments (without argv[0]).
func (o TrainerOptions) Args(dataPath, outDir string) []string {
	args := []string{"-data", dataPath, "-out", outDir}
	if o.Epochs > 0 {
		args = append(args, "-epochs", strconv.Itoa(o.Epochs))
	}
	if o.Quick {
		args = append(args, "-quick")
	}
	if o.Hidden > 0 {
		args = append(args, "-hidden", strconv.Itoa(o.Hidden))
	}
	if o.Batch > 0 {
		args = append(args, "-batch", strconv.Itoa(o.Batch))
	}
	if o.LearningRate > 0 {
		args = append(args, "-lr", strconv.FormatFloat(o.LearningRate, 'g', -1, 64))
	}
	if o.Seed > 0 {
		args = append(args, "-seed", strconv.FormatUint(o.Seed, 10))
	}
	return args
}

// TrainerJob describes a sandbox run of the wasm trainer on data (the digits
// CSV, gzip-compressed or plain).
func TrainerJob(module, data []byte, opts TrainerOptions, limits sandbox.Limits) sandbox.Job {
	return sandbox.Job{
		Module: module,
		Inputs: map[string][]byte{TrainerDataName: data},
		Args:   opts.Args(sandbox.InputDir+"/"+TrainerDataName, sandbox.OutputDir),
		Limits: limits,
	}
}

// BuildTrainer builds the trainer for GOOS=wasip1 GOARCH=wasm into cacheDir
// (the user cache dir's tenun/workload when empty) and returns the path of
// the .wasm file. A build for the same source and toolchain is reused.
// This is the pure-wasm trainer: its own loops, no kernels.
func BuildTrainer(cacheDir string) (string, error) {
	return build(cacheDir, "trainer", trainerSources(), "", "wasip1", "wasm")
}

// BuildTrainerNative builds the trainer for the host, as the baseline the
// sandbox is measured against; see BuildTrainer.
func BuildTrainerNative(cacheDir string) (string, error) {
	return build(cacheDir, "trainer", trainerSources(), "", "", "")
}

// BuildTrainerKernels builds the trainer that trains on the sandbox's
// tensor kernels, for wasm (native false) or for the host (native true,
// the same kernels as plain Go calls).
func BuildTrainerKernels(cacheDir string, native bool) (string, error) {
	goos, goarch := "wasip1", "wasm"
	if native {
		goos, goarch = "", ""
	}
	return build(cacheDir, "trainer-kernels", trainerSources(), KernelsTag, goos, goarch)
}

// BuildWasm builds any single-file Go main package for GOOS=wasip1
// GOARCH=wasm, cached like BuildTrainer; it may import the job SDK
// (github.com/tenun-chain/tenun/compute/sdk/job) and the standard library.
// name only labels the cached file.
func BuildWasm(cacheDir, name string, mainSource []byte) (string, error) {
	return build(cacheDir, name, map[string][]byte{"main.go": mainSource}, "", "wasip1", "wasm")
}

// BuildGo builds a Go main package of one or more files (name -> source)
// that may import the job SDK, for wasm or for the host.
func BuildGo(cacheDir, name string, files map[string][]byte, native bool) (string, error) {
	goos, goarch := "wasip1", "wasm"
	if native {
		goos, goarch = "", ""
	}
	return build(cacheDir, name, files, "", goos, goarch)
}

// sdkTree returns the job SDK's Go sources laid out as the module
// sdk.GoModule, so a throwaway build can replace that module with it.
func sdkTree() (map[string][]byte, error) {
	tree := map[string][]byte{"go.mod": []byte("module " + sdk.GoModule + "\n\ngo 1.22\n")}
	for dir, rel := range sdk.GoDirs {
		entries, err := fs.ReadDir(sdk.Files, dir)
		if err != nil {
			return nil, fmt.Errorf("workload: SDK sources: %w", err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), "_test.go") || !strings.HasSuffix(e.Name(), ".go") {
				continue
			}
			b, err := fs.ReadFile(sdk.Files, dir+"/"+e.Name())
			if err != nil {
				return nil, fmt.Errorf("workload: SDK sources: %w", err)
			}
			tree[rel+"/"+e.Name()] = b
		}
	}
	return tree, nil
}

// buildMu keeps one process from running the same build twice at once;
// across processes the final rename keeps the cache consistent.
var buildMu sync.Mutex

// buildFlags are part of the cache key. -trimpath makes the wasm depend only
// on the source and toolchain, so every provider building it gets the same
// module hash; -s -w drop symbols and DWARF, which shortens wazero's compile.
var buildFlags = []string{"-trimpath", "-ldflags=-s -w"}

func build(cacheDir, name string, files map[string][]byte, tags, goos, goarch string) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("workload: program name %q: use letters, digits, '-' and '_'", name)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("workload: no cache directory given and no user cache dir: %w", err)
		}
		cacheDir = filepath.Join(base, "tenun", "workload")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("workload: building the trainer needs a Go toolchain: %w", err)
	}
	env := buildEnv(goos, goarch)
	// The toolchain's own view of the target, so "" means the host.
	target, err := goOutput(goBin, env, "env", "GOVERSION", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOWASM")
	if err != nil {
		return "", err
	}
	fields := strings.Fields(target)
	if len(fields) < 3 {
		return "", fmt.Errorf("workload: unexpected go env output %q", target)
	}
	goos, goarch = fields[1], fields[2]

	// The program in a throwaway module whose only dependency is the job
	// SDK, replaced by the sources embedded in this binary: the build does
	// not depend on (or disturb) the go.mod of whatever directory we run
	// from, and needs no network.
	sdkFiles, err := sdkTree()
	if err != nil {
		return "", err
	}
	tree := map[string][]byte{"go.mod": []byte("module tenun.example/" + name + "\n\ngo 1.22\n\nrequire " + sdk.GoModule +
		" v0.0.0\n\nreplace " + sdk.GoModule + " => ./sdk\n")}
	for p, b := range files {
		tree[p] = b
	}
	for p, b := range sdkFiles {
		tree["sdk/"+p] = b
	}
	flags := buildFlags
	if tags != "" {
		flags = append(slices.Clone(flags), "-tags="+tags)
	}

	h := sha256.New()
	for _, p := range slices.Sorted(maps.Keys(tree)) {
		fmt.Fprintf(h, "%d:%s%d:", len(p), p, len(tree[p]))
		h.Write(tree[p])
	}
	for _, part := range []string{target, strings.Join(flags, " ")} {
		fmt.Fprintf(h, "%d:%s", len(part), part)
	}
	ext := ""
	if goarch == "wasm" {
		ext = ".wasm"
	} else if goos == "windows" {
		ext = ".exe"
	}
	out := filepath.Join(cacheDir, fmt.Sprintf("%s-%s-%s-%s%s", name, goos, goarch, hex.EncodeToString(h.Sum(nil))[:16], ext))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}

	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("workload: create cache dir: %w", err)
	}
	src, err := os.MkdirTemp("", "tenun-build-src-")
	if err != nil {
		return "", fmt.Errorf("workload: temp dir: %w", err)
	}
	defer os.RemoveAll(src)
	for p, b := range tree {
		full := filepath.Join(src, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", fmt.Errorf("workload: write %s source: %w", name, err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return "", fmt.Errorf("workload: write %s source: %w", name, err)
		}
	}
	tmp := filepath.Join(cacheDir, fmt.Sprintf(".%s.%d.tmp", filepath.Base(out), os.Getpid()))
	args := append(append([]string{"build"}, flags...), "-o", tmp, ".")
	cmd := exec.Command(goBin, args...)
	cmd.Dir = src
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("workload: go build %s for %s/%s: %w\n%s", name, goos, goarch, err, stderr.Bytes())
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("workload: store built %s: %w", name, err)
	}
	return out, nil
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// buildEnv is the caller's environment with the target set and anything that
// could make the build reach out or pick up another module removed.
func buildEnv(goos, goarch string) []string {
	env := os.Environ()
	env = append(env, "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if goos != "" {
		env = append(env, "GOOS="+goos, "GOARCH="+goarch)
	} else {
		// The host: clear any cross-compilation the caller's environment asks for.
		env = append(env, "GOOS=", "GOARCH=")
	}
	return env
}

func goOutput(goBin string, env []string, args ...string) (string, error) {
	cmd := exec.Command(goBin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("workload: go %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out), nil
}

// NativeResult is what a native trainer run produced.
type NativeResult struct {
	Outputs map[string][]byte
	Stdout  []byte
	// Duration covers starting the process and running it to exit.
	Duration time.Duration
	// CPUTime is the process's user and system time.
	CPUTime time.Duration
}

// RunTrainerNative runs the native trainer binary on data in a temporary
// directory, the baseline for the sandboxed run.
func RunTrainerNative(ctx context.Context, bin string, data []byte, opts TrainerOptions) (NativeResult, error) {
	var res NativeResult
	dir, err := os.MkdirTemp("", "tenun-trainer-run-")
	if err != nil {
		return res, fmt.Errorf("workload: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	dataPath := filepath.Join(dir, TrainerDataName)
	outDir := filepath.Join(dir, "out")
	if err := os.WriteFile(dataPath, data, 0o644); err != nil {
		return res, fmt.Errorf("workload: write data set: %w", err)
	}
	if err := os.Mkdir(outDir, 0o755); err != nil {
		return res, fmt.Errorf("workload: create output dir: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, opts.Args(dataPath, outDir)...)
	cmd.Dir = dir
	cmd.Env = []string{} // like the sandbox: no environment
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	res.Duration = time.Since(start)
	if ps := cmd.ProcessState; ps != nil {
		res.CPUTime = ps.UserTime() + ps.SystemTime()
	}
	res.Stdout = stdout.Bytes()
	if err != nil {
		return res, fmt.Errorf("workload: native trainer: %w\n%s", err, stderr.Bytes())
	}
	res.Outputs, err = readTree(outDir)
	return res, err
}

// readTree reads every regular file under dir, keyed by slash path, the way
// the sandbox reports outputs.
func readTree(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("workload: read native outputs: %w", err)
	}
	return out, nil
}

// ErrNoData is returned by FindDigits when the data set is not found.
var ErrNoData = errors.New("workload: digits data set not found")

// FindDigits looks for the repository's datasets/digits/digits.csv.gz in
// dir and its parents, returning the first path that exists.
func FindDigits(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("workload: %w", err)
	}
	rel := filepath.Join("datasets", "digits", "digits.csv.gz")
	for {
		for _, p := range []string{filepath.Join(dir, rel)} {
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return filepath.Clean(p), nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoData
		}
		dir = parent
	}
}
