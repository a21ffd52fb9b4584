package yuma

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestConsensusCodeRules keeps the consensus package free of
// non-determinism: no floats, no maps (so no map iteration), no goroutines,
// no time, no math/rand in non-test files.
func TestConsensusCodeRules(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "time" || strings.HasPrefix(path, "math/rand") || path == "sync" {
				t.Errorf("%s imports %s", f, path)
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.Ident:
				if x.Name == "float32" || x.Name == "float64" {
					t.Errorf("%s: float type at %s", f, fset.Position(x.Pos()))
				}
			case *ast.MapType:
				t.Errorf("%s: map type at %s", f, fset.Position(x.Pos()))
			case *ast.GoStmt:
				t.Errorf("%s: goroutine at %s", f, fset.Position(x.Pos()))
			case *ast.BasicLit:
				if x.Kind == token.FLOAT {
					t.Errorf("%s: float literal at %s", f, fset.Position(x.Pos()))
				}
			}
			return true
		})
	}
}
