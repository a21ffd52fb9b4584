// Package job is the Go SDK for Tenun compute jobs: programs built with
// GOOS=wasip1 GOARCH=wasm and run by providers in the sandbox. It reads the
// job's inputs, writes its outputs, reports progress, and calls the
// sandbox's deterministic tensor kernels (import module "tenun_nn", see
// compute/sandbox) on float64 slices, which run as native code on the
// provider yet give the same bits everywhere.
//
// Built for any other target the same functions run the same kernels in
// Go (package kernels), so a job's native build is its own baseline and
// gives the same bytes: test a job natively, post it as wasm.
//
// The rules of a deterministic job still apply to the code around the
// kernels: no goroutines whose order matters, no map iteration into outputs,
// explicit float64(a*b)+c so nothing is fused into an FMA, and kernels.Exp
// and kernels.Log instead of package math's.
package job

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// InputDir and OutputDir are where the sandbox mounts a job's inputs
// (read-only) and collects its outputs. Native runs may point them
// elsewhere with the environment variables TENUN_IN and TENUN_OUT.
var (
	InputDir  = dirFromEnv("TENUN_IN", "/in")
	OutputDir = dirFromEnv("TENUN_OUT", "/out")
)

func dirFromEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Input returns the content of the input file name (a slash path relative
// to InputDir, as the job spec names it).
func Input(name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(InputDir, filepath.FromSlash(path.Clean(name))))
	if err != nil {
		return nil, fmt.Errorf("job: input %s: %w", name, err)
	}
	return b, nil
}

// Output writes data as the output file name (a slash path under
// OutputDir), creating its directories.
func Output(name string, data []byte) error {
	p := filepath.Join(OutputDir, filepath.FromSlash(path.Clean(name)))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("job: output %s: %w", name, err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("job: output %s: %w", name, err)
	}
	return nil
}

// Progress reports that done of total steps are finished, as one line on
// stderr ("progress DONE/TOTAL"), which a provider's logs and
// `tenun compute run-local` show.
func Progress(done, total int) {
	fmt.Fprintf(os.Stderr, "progress %d/%d\n", done, total)
}
