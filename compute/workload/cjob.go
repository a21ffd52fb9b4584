package workload

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	_ "embed" // k-means source
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/sdk"
)

// The second reference job: k-means on the digits, written in C against
// the C SDK (compute/sdk/c/tenun.h) and built with clang for wasm32-wasi
// and natively.

//go:embed kmeans/kmeans.c
var kmeansSource []byte

// KMeansDataName is the input the k-means job reads: the digits as plain
// CSV (C has no gzip in wasi-libc).
const KMeansDataName = "digits.csv"

// ErrNoClang is returned when clang or its wasm32-wasi sysroot is missing.
var ErrNoClang = errors.New("workload: clang with the wasm32-wasi target (Debian: clang lld wasi-libc libclang-rt-dev-wasm32) is not installed")

// cFlags are part of the cache key: no fused multiply-add, so native and
// wasm builds round alike.
var cFlags = []string{"-O2", "-ffp-contract=off", "-std=c11", "-Wall", "-Werror"}

// BuildKMeans builds the k-means job for wasm32-wasi (native false) or for
// the host, into cacheDir like BuildTrainer.
func BuildKMeans(cacheDir string, native bool) (string, error) {
	return BuildC(cacheDir, "kmeans", kmeansSource, native)
}

// BuildC builds a one-file C program that may include "tenun.h" (the C
// SDK) with clang, for wasm32-wasi or for the host, cached by a hash of the
// source, the SDK, the flags and clang's version.
func BuildC(cacheDir, name string, source []byte, native bool) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("workload: program name %q: use letters, digits, '-' and '_'", name)
	}
	clang, err := exec.LookPath("clang")
	if err != nil {
		return "", ErrNoClang
	}
	header, err := fs.ReadFile(sdk.Files, "c/tenun.h")
	if err != nil {
		return "", fmt.Errorf("workload: C SDK: %w", err)
	}
	version, err := exec.Command(clang, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("workload: clang --version: %w", err)
	}
	flags := append([]string{}, cFlags...)
	target, ext := "native", ""
	if !native {
		flags = append(flags, "--target=wasm32-wasi")
		target, ext = "wasm32-wasi", ".wasm"
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
	h := sha256.New()
	for _, part := range [][]byte{source, header, version, []byte(strings.Join(flags, " "))} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	out := filepath.Join(cacheDir, fmt.Sprintf("%s-c-%s-%s%s", name, target, hex.EncodeToString(h.Sum(nil))[:16], ext))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("workload: create cache dir: %w", err)
	}
	src, err := os.MkdirTemp("", "tenun-build-c-")
	if err != nil {
		return "", fmt.Errorf("workload: temp dir: %w", err)
	}
	defer os.RemoveAll(src)
	if err := os.WriteFile(filepath.Join(src, "tenun.h"), header, 0o644); err != nil {
		return "", fmt.Errorf("workload: write C SDK: %w", err)
	}
	if err := os.WriteFile(filepath.Join(src, name+".c"), source, 0o644); err != nil {
		return "", fmt.Errorf("workload: write %s source: %w", name, err)
	}
	tmp := filepath.Join(cacheDir, fmt.Sprintf(".%s.%d.tmp", filepath.Base(out), os.Getpid()))
	cmd := exec.Command(clang, append(flags, "-I", src, "-o", tmp, filepath.Join(src, name+".c"))...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		if !native && strings.Contains(stderr.String(), "not found") {
			return "", fmt.Errorf("%w: %s", ErrNoClang, strings.TrimSpace(stderr.String()))
		}
		return "", fmt.Errorf("workload: clang %s for %s: %w\n%s", name, target, err, stderr.Bytes())
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("workload: store built %s: %w", name, err)
	}
	return out, nil
}

// KMeansOptions are the k-means job's parameters; zero values keep its
// defaults (k 10, 100 iterations, 8 restarts, seed 1).
type KMeansOptions struct {
	K, Iters, Restarts int
	Seed               uint64
}

// Args returns the job's arguments (without argv[0]).
func (o KMeansOptions) Args() []string {
	args := []string{"-data", KMeansDataName}
	for _, f := range []struct {
		flag string
		v    int
	}{{"-k", o.K}, {"-iters", o.Iters}, {"-restarts", o.Restarts}} {
		if f.v > 0 {
			args = append(args, f.flag, strconv.Itoa(f.v))
		}
	}
	if o.Seed > 0 {
		args = append(args, "-seed", strconv.FormatUint(o.Seed, 10))
	}
	return args
}

// PlainDigits returns the digits CSV uncompressed from gzip (or data as it
// is when it is not gzip), the input of the k-means job.
func PlainDigits(data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("workload: digits: %w", err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("workload: digits: %w", err)
	}
	return plain, nil
}

// KMeansJob describes a sandbox run of the wasm k-means job on csv.
func KMeansJob(module, csv []byte, opts KMeansOptions, limits sandbox.Limits) sandbox.Job {
	return sandbox.Job{Module: module, Inputs: map[string][]byte{KMeansDataName: csv}, Args: opts.Args(), Limits: limits}
}

// RunNative runs a native build of a job that finds its files through the
// SDKs' TENUN_IN and TENUN_OUT (the k-means job, any C or Go SDK job) with
// inputs written to a temporary directory.
func RunNative(ctx context.Context, bin string, inputs map[string][]byte, args []string) (NativeResult, error) {
	var res NativeResult
	dir, err := os.MkdirTemp("", "tenun-native-run-")
	if err != nil {
		return res, fmt.Errorf("workload: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	for name, b := range inputs {
		p := filepath.Join(in, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return res, fmt.Errorf("workload: write input: %w", err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return res, fmt.Errorf("workload: write input: %w", err)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return res, fmt.Errorf("workload: create output dir: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"TENUN_IN=" + in, "TENUN_OUT=" + out}
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
		return res, fmt.Errorf("workload: native %s: %w\n%s", filepath.Base(bin), err, stderr.Bytes())
	}
	res.Outputs, err = readTree(out)
	return res, err
}
