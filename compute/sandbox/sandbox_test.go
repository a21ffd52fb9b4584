package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/workload"
)

// digitsPath is the shared data set, relative to this package's directory.
const digitsPath = "../../datasets/digits/digits.csv.gz"

// Built once per test binary: go build for wasip1 takes seconds, and the
// results are cached across runs in the user cache dir anyway.
var (
	buildOnce sync.Once
	probeWasm []byte
	trainWasm []byte
	nativeBin string
	buildErr  error
)

func programs(t testing.TB) (probe, trainer []byte, native string) {
	t.Helper()
	buildOnce.Do(func() {
		src, err := os.ReadFile(filepath.Join("testdata", "probe", "main.go"))
		if err != nil {
			buildErr = err
			return
		}
		var path string
		if path, buildErr = workload.BuildWasm("", "probe", src); buildErr != nil {
			return
		}
		if probeWasm, buildErr = os.ReadFile(path); buildErr != nil {
			return
		}
		if path, buildErr = workload.BuildTrainer(""); buildErr != nil {
			return
		}
		if trainWasm, buildErr = os.ReadFile(path); buildErr != nil {
			return
		}
		nativeBin, buildErr = workload.BuildTrainerNative("")
	})
	if buildErr != nil {
		t.Fatalf("build test programs: %v", buildErr)
	}
	return probeWasm, trainWasm, nativeBin
}

func digits(t testing.TB) []byte {
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

// testSandbox is shared by the tests so each module compiles once.
var (
	sbOnce sync.Once
	sb     *sandbox.Sandbox
	sbErr  error
)

func box(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	sbOnce.Do(func() {
		sb, sbErr = sandbox.New(context.Background(), sandbox.Config{CacheDir: sandbox.DefaultCacheDir()})
	})
	if sbErr != nil {
		t.Fatal(sbErr)
	}
	return sb
}

func TestTrainerDeterministicAndMatchesNative(t *testing.T) {
	data := digits(t)
	_, trainer, native := programs(t)
	opts := workload.TrainerOptions{Quick: true}
	job := workload.TrainerJob(trainer, data, opts, sandbox.Limits{WallTime: 2 * time.Minute})

	first, err := box(t).Run(context.Background(), job)
	if err != nil {
		t.Fatalf("first run: %v\nstderr: %s", err, first.Stderr)
	}
	second, err := box(t).Run(context.Background(), job)
	if err != nil {
		t.Fatalf("second run: %v\nstderr: %s", err, second.Stderr)
	}
	if second.CompileTime != 0 {
		t.Errorf("second run compiled again (%v); want the cached module", second.CompileTime)
	}
	if len(first.Outputs) != 3 || first.Outputs[workload.ModelFile] == nil || first.Outputs[workload.MetricsFile] == nil || first.Outputs[workload.QuantizedFile] == nil {
		t.Fatalf("outputs = %v, want %s, %s and %s", keys(first.Outputs), workload.ModelFile, workload.MetricsFile, workload.QuantizedFile)
	}
	if first.Digest() != second.Digest() || !bytes.Equal(first.Stdout, second.Stdout) {
		t.Fatal("two sandbox runs of the same job differ")
	}

	nat, err := workload.RunTrainerNative(context.Background(), native, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sandbox.OutputDigest(nat.Outputs) != first.Digest() {
		for name := range first.Outputs {
			if !bytes.Equal(first.Outputs[name], nat.Outputs[name]) {
				t.Errorf("%s differs between wazero and native", name)
			}
		}
		t.Fatal("sandbox and native outputs differ")
	}
	if !bytes.Equal(nat.Stdout, first.Stdout) {
		t.Errorf("stdout differs: sandbox %q, native %q", first.Stdout, nat.Stdout)
	}

	var metrics struct {
		Epochs       int     `json:"epochs"`
		TestAccuracy float64 `json:"test_accuracy"`
	}
	if err := json.Unmarshal(first.Outputs[workload.MetricsFile], &metrics); err != nil {
		t.Fatalf("metrics: %v", err)
	}
	if metrics.Epochs != 2 || metrics.TestAccuracy < 0.8 {
		t.Errorf("metrics = %+v, want 2 epochs and test accuracy >= 0.8", metrics)
	}
	var model map[string]any
	if err := json.Unmarshal(first.Outputs[workload.ModelFile], &model); err != nil {
		t.Fatalf("model: %v", err)
	}
	t.Logf("sandbox %v (compile %v, cpu %v, peak memory %d MiB), native %v",
		first.Duration, first.CompileTime, first.CPUTime, first.PeakMemoryBytes>>20, nat.Duration)
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestMemoryLimit(t *testing.T) {
	probe, _, _ := programs(t)
	res, err := box(t).Run(context.Background(), sandbox.Job{
		Module: probe,
		Args:   []string{"alloc", "256"},
		Limits: sandbox.Limits{MemoryBytes: 64 << 20},
	})
	if !errors.Is(err, sandbox.ErrMemoryLimit) {
		t.Fatalf("err = %v, want ErrMemoryLimit\nstderr: %s", err, res.Stderr)
	}
	if !sandbox.Reproducible(err) {
		t.Error("a memory limit failure should be reproducible")
	}
	if res.PeakMemoryBytes > 64<<20 {
		t.Errorf("peak memory %d over the limit", res.PeakMemoryBytes)
	}

	// Within the limit the same program succeeds.
	res, err = box(t).Run(context.Background(), sandbox.Job{
		Module: probe,
		Args:   []string{"alloc", "16"},
		Limits: sandbox.Limits{MemoryBytes: 128 << 20},
	})
	if err != nil {
		t.Fatalf("alloc 16 MiB in 128 MiB: %v\nstderr: %s", err, res.Stderr)
	}

	// A module whose initial memory is already over the limit is refused up front.
	big := module(memorySection(100), exportStart, code(loopForever...))
	_, err = box(t).Run(context.Background(), sandbox.Job{Module: big, Limits: sandbox.Limits{MemoryBytes: 64 << 10}})
	if !errors.Is(err, sandbox.ErrMemoryLimit) {
		t.Fatalf("initial memory over limit: err = %v, want ErrMemoryLimit", err)
	}
}

func TestWallTimeLimit(t *testing.T) {
	start := time.Now()
	res, err := box(t).Run(context.Background(), sandbox.Job{
		Module: module(exportStart, code(loopForever...)),
		Limits: sandbox.Limits{WallTime: 200 * time.Millisecond},
	})
	if !errors.Is(err, sandbox.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("infinite loop stopped after %v, want about 200ms", took)
	}
	if sandbox.Reproducible(err) {
		t.Error("a timeout must not count as reproducible")
	}
	if res.ExitCode != 0 {
		t.Errorf("exit code %#x leaked from wazero's cancellation", res.ExitCode)
	}
}

func TestCPUTimeLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU time is measured on Linux only")
	}
	res, err := box(t).Run(context.Background(), sandbox.Job{
		Module: module(exportStart, code(loopForever...)),
		Limits: sandbox.Limits{WallTime: time.Minute, CPUTime: 200 * time.Millisecond},
	})
	if !errors.Is(err, sandbox.ErrTimeout) || !strings.Contains(err.Error(), "CPU") {
		t.Fatalf("err = %v, want a CPU-time ErrTimeout", err)
	}
	if res.CPUTime < 200*time.Millisecond || res.Duration > 10*time.Second {
		t.Errorf("cpu %v, wall %v: want just over 200ms of CPU", res.CPUTime, res.Duration)
	}
}

func TestCallerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := box(t).Run(ctx, sandbox.Job{Module: module(exportStart, code(loopForever...))})
	if !errors.Is(err, context.Canceled) || errors.Is(err, sandbox.ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestOutputLimit(t *testing.T) {
	probe, _, _ := programs(t)
	res, err := box(t).Run(context.Background(), sandbox.Job{
		Module: probe,
		Args:   []string{"write", "2000000"},
		Limits: sandbox.Limits{MaxOutputBytes: 1 << 20},
	})
	if !errors.Is(err, sandbox.ErrOutputLimit) {
		t.Fatalf("err = %v, want ErrOutputLimit\nstderr: %s", err, res.Stderr)
	}
	if n := len(res.Outputs["big.bin"]); n > 1<<20 {
		t.Errorf("kept %d bytes of output, over the limit", n)
	}

	res, err = box(t).Run(context.Background(), sandbox.Job{
		Module: probe,
		Args:   []string{"write", "500000"},
		Limits: sandbox.Limits{MaxOutputBytes: 1 << 20},
	})
	if err != nil {
		t.Fatalf("write under the limit: %v\nstderr: %s", err, res.Stderr)
	}
	if n := len(res.Outputs["big.bin"]); n != 500000 {
		t.Errorf("big.bin has %d bytes, want 500000", n)
	}
}

func TestNoEscape(t *testing.T) {
	probe, _, _ := programs(t)
	hostFile := filepath.Join(t.TempDir(), "host-secret.txt")
	if err := os.WriteFile(hostFile, []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()

	res, err := box(t).Run(context.Background(), sandbox.Job{
		Module: probe,
		Args:   []string{"escape", hostFile, ln.Addr().String()},
		Inputs: map[string][]byte{"secret.txt": []byte("given")},
	})
	if err != nil {
		t.Fatalf("probe: %v\nstderr: %s", err, res.Stderr)
	}
	report := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(res.Outputs["report.txt"])), "\n") {
		name, result, _ := strings.Cut(line, "\t")
		report[name] = result
	}
	t.Logf("probe report:\n%s", res.Outputs["report.txt"])
	if report["read-given-input"] != "allowed" {
		t.Errorf("reading a given input: %q, want allowed", report["read-given-input"])
	}
	if report["in-entries"] != "secret.txt" {
		t.Errorf("/in lists %q, want only secret.txt", report["in-entries"])
	}
	for _, attempt := range []string{
		"read-host-file", "read-etc-passwd", "read-dotdot-from-in", "read-dotdot-relative", "read-proc",
		"read-host-file-via-in", "write-input-dir", "overwrite-input", "remove-input", "mkdir-outside",
		"symlink-out", "symlink-relative", "hardlink-input", "rename-input", "dial-tcp",
	} {
		if r, ok := report[attempt]; !ok || !strings.HasPrefix(r, "denied") {
			t.Errorf("%s: %q, want denied", attempt, r)
		}
	}
	// "listen-tcp" is not checked: on wasip1 Go's net package falls back to an
	// in-process fake network, so Listen succeeds without any host socket.
	// What matters is that dialing the host fails and no socket is pre-opened.
	for name := range report {
		if strings.HasPrefix(name, "socket-fd-") {
			t.Errorf("guest found a pre-opened socket: %s", name)
		}
	}
	for name := range res.Outputs {
		if name != "report.txt" {
			t.Errorf("unexpected output %q", name)
		}
	}
	select {
	case <-accepted:
		t.Error("the guest connected to a host socket")
	case <-time.After(50 * time.Millisecond):
	}
}

func TestEnvironmentDeterministic(t *testing.T) {
	probe, _, _ := programs(t)
	job := sandbox.Job{Module: probe, Args: []string{"env"}, Env: map[string]string{"B": "2", "A": "1"}, Seed: 7}
	first, err := box(t).Run(context.Background(), job)
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, first.Stderr)
	}
	second, err := box(t).Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if first.Digest() != second.Digest() {
		t.Fatalf("env report differs:\n%s\n%s", first.Outputs["report.txt"], second.Outputs["report.txt"])
	}
	report := string(first.Outputs["report.txt"])
	for _, want := range []string{`args ["job" "env"]`, `env ["A=1" "B=2"]`, "slept true"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	job.Seed = 8
	other, err := box(t).Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if other.Digest() == first.Digest() {
		t.Error("a different seed gave the same random bytes")
	}
	if first.Duration > 5*time.Second {
		t.Errorf("time.Sleep(1s) took %v of host time; sleeps should be virtual", first.Duration)
	}
}

func TestExitCodeAndTrap(t *testing.T) {
	probe, _, _ := programs(t)
	res, err := box(t).Run(context.Background(), sandbox.Job{Module: probe, Args: []string{"exit", "3"}})
	if !errors.Is(err, sandbox.ErrExit) || res.ExitCode != 3 {
		t.Fatalf("err = %v, exit %d; want ErrExit with 3", err, res.ExitCode)
	}
	_, err = box(t).Run(context.Background(), sandbox.Job{Module: module(exportStart, code(unreachable...))})
	if !errors.Is(err, sandbox.ErrTrap) || !sandbox.Reproducible(err) {
		t.Fatalf("err = %v, want a reproducible ErrTrap", err)
	}
}

func TestInvalidModules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		module []byte
		want   error
	}{
		{"empty", nil, sandbox.ErrInvalidJob},
		{"garbage", []byte("definitely not wasm"), sandbox.ErrInvalidModule},
		{"truncated", module(exportStart, code(loopForever...))[:20], sandbox.ErrInvalidModule},
		{"no _start", module(exportAs("main"), code(loopForever...)), sandbox.ErrInvalidModule},
		{"imports env", moduleImportingEnv(), sandbox.ErrInvalidModule},
		{"4G locals", module(exportStart, section(10, 1, 8, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b)), sandbox.ErrInvalidModule},
		{"huge table", module(section(4, 1, 0x70, 0x00, 0x80, 0x80, 0x80, 0x01), exportStart, code()), sandbox.ErrInvalidModule},
		{"unbounded table.grow", module(section(4, 1, 0x70, 0x00, 0x01), exportStart,
			code(0xd0, 0x70, 0x41, 0x01, 0xfc, 0x0f, 0x00, 0x1a)), sandbox.ErrInvalidModule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := box(t).Run(context.Background(), sandbox.Job{Module: tc.module, Limits: sandbox.Limits{WallTime: time.Second}})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
	_, err := box(t).Run(context.Background(), sandbox.Job{
		Module: module(exportStart, code(loopForever...)),
		Inputs: map[string][]byte{"../x": nil},
	})
	if !errors.Is(err, sandbox.ErrInvalidJob) {
		t.Fatalf("input ../x: err = %v, want ErrInvalidJob", err)
	}
}

func TestConcurrentRuns(t *testing.T) {
	probe, _, _ := programs(t)
	job := sandbox.Job{Module: probe, Args: []string{"env"}}
	var wg sync.WaitGroup
	digests := make([][32]byte, 4)
	errs := make([]error, 4)
	for i := range digests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := box(t).Run(context.Background(), job)
			digests[i], errs[i] = res.Digest(), err
		}()
	}
	wg.Wait()
	for i := range digests {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if digests[i] != digests[0] {
			t.Fatal("concurrent runs of one job differ")
		}
	}
}

func TestArchive(t *testing.T) {
	outputs := map[string][]byte{"b.txt": []byte("bee"), "a/x.json": []byte("{}"), "empty": {}}
	archive := sandbox.ArchiveOutputs(outputs)
	back, err := sandbox.UnpackArchive(archive)
	if err != nil {
		t.Fatal(err)
	}
	if sandbox.OutputDigest(back) != sandbox.OutputDigest(outputs) || len(back) != 3 {
		t.Fatalf("round trip changed the outputs: %v", back)
	}
	// The layout is part of the protocol: this digest must never change.
	const want = "e30e6ddc58829130d4d782bf7236dca8661dde02204c002fb7db74e0733827ee"
	if got := hexDigest(sandbox.OutputDigest(outputs)); got != want {
		t.Errorf("digest of the fixed outputs = %s, want %s", got, want)
	}
	for _, bad := range [][]byte{nil, []byte("tenun-outputs/v1\n"), append(bytes.Clone(archive), 0), archive[:len(archive)-1]} {
		if _, err := sandbox.UnpackArchive(bad); !errors.Is(err, sandbox.ErrBadArchive) {
			t.Errorf("UnpackArchive(%q) err = %v, want ErrBadArchive", bad, err)
		}
	}
}

func TestOutputDirectoryOperations(t *testing.T) {
	probe, _, _ := programs(t)
	res, err := box(t).Run(context.Background(), sandbox.Job{Module: probe, Args: []string{"fs"}})
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, res.Stderr)
	}
	want := map[string]string{
		"a/c.txt":    "hello world",
		"t.txt":      "\x00\x00\x00",
		"report.txt": "readdir b,c.txt\nsize 11 mtime 0\nseek-read world readat hello\n",
	}
	if len(res.Outputs) != len(want) {
		t.Errorf("outputs %v, want %d files", keys(res.Outputs), len(want))
	}
	for name, content := range want {
		if got := string(res.Outputs[name]); got != content {
			t.Errorf("%s = %q, want %q", name, got, content)
		}
	}
}

func TestFuel(t *testing.T) {
	_, trainer, _ := programs(t)
	job := workload.TrainerJob(trainer, digits(t), workload.TrainerOptions{Quick: true}, sandbox.Limits{})
	first, err := box(t).Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	second, err := box(t).Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if first.FuelUsed <= 0 || first.FuelUsed != second.FuelUsed {
		t.Fatalf("fuel used %d then %d, want the same positive count", first.FuelUsed, second.FuelUsed)
	}
	t.Logf("quick training used %d fuel", first.FuelUsed)

	job.Fuel = first.FuelUsed / 2
	short, err := box(t).Run(context.Background(), job)
	if !errors.Is(err, sandbox.ErrFuel) || !sandbox.Reproducible(err) {
		t.Fatalf("half the fuel: err = %v, want a reproducible ErrFuel", err)
	}
	again, err2 := box(t).Run(context.Background(), job)
	if err2 == nil || err2.Error() != err.Error() || again.FuelUsed != short.FuelUsed {
		t.Errorf("out of fuel twice: %v (%d) then %v (%d), want identical", err, short.FuelUsed, err2, again.FuelUsed)
	}
	if over := short.FuelUsed - job.Fuel; over <= 0 || over > 1<<16 {
		t.Errorf("stopped %d iterations past the budget, want within 65536", over)
	}

	// Out of fuel is also how an infinite loop ends without any time limit.
	_, err = box(t).Run(context.Background(), sandbox.Job{
		Module: module(exportStart, code(loopForever...)),
		Limits: sandbox.Limits{Fuel: 1 << 20},
	})
	if !errors.Is(err, sandbox.ErrFuel) {
		t.Fatalf("infinite loop with fuel 2^20: err = %v, want ErrFuel", err)
	}
}

// A guest in a tight loop must not hold up the host's garbage collector:
// compiled wasm cannot be preempted, so metering returns to Go regularly.
func TestGuestDoesNotBlockGC(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		_, err := box(t).Run(context.Background(), sandbox.Job{
			Module: module(exportStart, code(loopForever...)),
			Limits: sandbox.Limits{WallTime: 3 * time.Second},
		})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // let the guest start spinning
	start := time.Now()
	runtime.GC()
	if took := time.Since(start); took > time.Second {
		t.Errorf("runtime.GC took %v while a guest was looping", took)
	}
	if err := <-done; !errors.Is(err, sandbox.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestCloseStopsRuns(t *testing.T) {
	sb, err := sandbox.New(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := sb.Run(context.Background(), sandbox.Job{Module: module(exportStart, code(loopForever...))})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := sb.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, sandbox.ErrClosed) {
		t.Fatalf("run during Close: err = %v, want ErrClosed", err)
	}
	if _, err := sb.Run(context.Background(), sandbox.Job{Module: module(exportStart, code())}); !errors.Is(err, sandbox.ErrClosed) {
		t.Fatalf("run after Close: err = %v, want ErrClosed", err)
	}
}

func TestInterpreterEngine(t *testing.T) {
	sb, err := sandbox.New(context.Background(), sandbox.Config{Interpreter: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	_, err = sb.Run(context.Background(), sandbox.Job{
		Module: module(exportStart, code(loopForever...)),
		Limits: sandbox.Limits{WallTime: 200 * time.Millisecond},
	})
	if !errors.Is(err, sandbox.ErrTimeout) {
		t.Fatalf("interpreter, infinite loop: err = %v, want ErrTimeout", err)
	}
	_, err = sb.Run(context.Background(), sandbox.Job{Module: module(exportStart, code(loopForever...)), Limits: sandbox.Limits{Fuel: 1 << 20}})
	if !errors.Is(err, sandbox.ErrFuel) {
		t.Fatalf("interpreter, infinite loop with fuel: err = %v, want ErrFuel", err)
	}
}
