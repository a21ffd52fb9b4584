package determinism_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/determinism"
	"github.com/tenun-chain/tenun/node"
)

// modulePath is this module's import path, from package chain's.
var modulePath = strings.TrimSuffix(reflect.TypeOf(chain.Core{}).PkgPath(), "/chain")

// consensusRoots are the packages consensus starts from: chain, its store,
// and the package of every domain the node's app registers.
func consensusRoots() []string {
	roots := []string{modulePath + "/chain", modulePath + "/chain/store"}
	for _, d := range node.NewApp("guard").Router().Domains() {
		t := reflect.TypeOf(d)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		roots = append(roots, t.PkgPath())
	}
	return roots
}

// guard finds the consensus packages of the module at root and checks
// them, returning the packages checked and every finding.
func guard(t *testing.T, root string) (checked []*determinism.Package, findings []determinism.Finding) {
	t.Helper()
	paths, err := determinism.ConsensusPackages(root, modulePath, consensusRoots()...)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := determinism.Load(root, paths...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if p.Err != nil {
			t.Fatalf("consensus package %s: %v", p.ImportPath, p.Err)
		}
		findings = append(findings, determinism.Check(p)...)
	}
	return pkgs, findings
}

// A float planted in a package that a domain imports (yuma, imported by
// subnet; not a domain itself) fails the guard. The consensus packages are
// copied into a temporary module, so the planted file never touches the
// tree.
func TestGuardFailsOnPlantedFloat(t *testing.T) {
	root := moduleRoot(t)
	paths, err := determinism.ConsensusPackages(root, modulePath, consensusRoots()...)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(tmp, f))
	}
	for _, p := range paths {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, modulePath), "/")
		copyDir(t, filepath.Join(root, rel), filepath.Join(tmp, rel))
	}
	planted := filepath.Join(tmp, "yuma", "planted.go")
	if err := os.WriteFile(planted, []byte("package yuma\n\n// Planted by the guard's test.\nvar plantedRatio = 0.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, findings := guard(t, tmp)
	found := false
	for _, f := range findings {
		if filepath.Base(f.Pos.Filename) == "planted.go" && f.Rule == determinism.RuleFloat {
			found = true
		}
	}
	if !found {
		t.Fatalf("the guard missed the float planted in yuma (a package subnet imports); findings: %v", findings)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies a package directory's files (not its subdirectories, which
// are other packages) and any testdata or embedded data below it.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
		}
	}
}
