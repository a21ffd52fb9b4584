package truth_test

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeterministicSource keeps consensus code free of what varies between
// machines or runs: float types, goroutines, clocks, math/rand, and ranging
// over maps (whose order Go randomises). Test files are exempt.
func TestDeterministicSource(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check("truth", fset, parsed, info); err != nil {
		t.Fatalf("type-check: %v", err)
	}
	for _, af := range parsed {
		for _, imp := range af.Imports {
			switch p := strings.Trim(imp.Path.Value, `"`); p {
			case "time", "math/rand", "math/rand/v2", "math", "unsafe", "sync":
				t.Errorf("%s imports %s", fset.Position(imp.Pos()), p)
			}
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: go statement", fset.Position(n.Pos()))
			case *ast.RangeStmt:
				if tv, ok := info.Types[n.X]; ok {
					if _, isMap := tv.Type.Underlying().(*types.Map); isMap {
						t.Errorf("%s: range over a map", fset.Position(n.Pos()))
					}
				}
			case ast.Expr:
				if tv, ok := info.Types[n]; ok {
					if b, ok := tv.Type.Underlying().(*types.Basic); ok && b.Info()&(types.IsFloat|types.IsComplex) != 0 {
						t.Errorf("%s: float value of type %s", fset.Position(n.Pos()), tv.Type)
						return false
					}
				}
			}
			return true
		})
	}
}
