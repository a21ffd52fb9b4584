package buildcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// goRun runs the go command in the module root with extra environment and
// returns its combined output.
func goRun(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Every package builds for Windows and macOS (a syscall without a build
// tag, such as Getrusage, breaks them), and the binary builds without cgo,
// as a newcomer's first build and the release builds do.
func TestCrossBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds compile the module three more times; skipped with -short")
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"windows/amd64", []string{"GOOS=windows", "GOARCH=amd64"}, []string{"build", "./..."}},
		{"darwin/arm64", []string{"GOOS=darwin", "GOARCH=arm64"}, []string{"build", "./..."}},
		{"CGO_ENABLED=0 cmd/tenun", []string{"CGO_ENABLED=0"}, []string{"build", "-o", os.DevNull, "./cmd/tenun"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if out, err := goRun(t, c.env, c.args...); err != nil {
				t.Fatalf("%s go %s: %v\n%s", strings.Join(c.env, " "), strings.Join(c.args, " "), err, out)
			}
		})
	}
}

// `go mod tidy` leaves go.mod and go.sum as they are. It reads the module
// cache only (GOPROXY=off), so it never reaches the network from a test; CI
// runs `go mod tidy -diff` with the network first, which fills the cache.
func TestGoModIsTidy(t *testing.T) {
	out, err := goRun(t, []string{"GOPROXY=off", "GOFLAGS=-mod=mod"}, "mod", "tidy", "-diff")
	if err == nil {
		return
	}
	if strings.Contains(out, "GOPROXY=off") && !strings.Contains(out, "diff") {
		t.Skipf("SKIPPED: the module cache lacks modules that tidy needs and the test does not download; "+
			"run `go mod tidy -diff` (CI does) and rerun:\n%s", out)
	}
	t.Fatalf("go.mod or go.sum is not tidy; run `go mod tidy`:\n%s", out)
}
