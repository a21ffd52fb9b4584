// Package determinism finds Go constructs that can make validators compute
// different states from the same blocks: floating point, goroutines and
// channels, map iteration order, the wall clock, random numbers, and the
// sync package. Consensus packages must not use them; the test in this
// package finds every consensus package itself (ConsensusPackages, from the
// chain's registered domains) and runs the checker over each.
//
// A finding can be accepted where the use is known to be harmless (a map
// range whose keys are sorted before use, say) with a comment on the same
// line, or on the line just above:
//
//	for k := range m { //determinism:allow keys are sorted below
//
// The reason is required.
//
// # How packages are loaded
//
// Map ranges need types: `for k := range x` is only nondeterministic when x
// is a map. The checker type-checks each package from source with go/types.
// Its imports (the module's other packages, CometBFT, the standard library)
// are read from compiler export data that `go list -export -deps` builds in
// the build cache, the same mechanism golang.org/x/tools/go/packages uses,
// without that dependency. So a consensus package must compile for the check
// to run, and every type, including those of imported packages, is exact.
// A range statement is reported when the type of its operand is a map, or a
// type parameter with a map in its constraint; maps.Keys/Values/All and
// reflect's MapKeys/MapRange are reported too.
//
// # Limits
//
// The checker reads the consensus packages only: a dependency that iterates
// a map or reads the clock inside a function the consensus code calls is not
// seen. Only what the package does itself is checked, which is what its
// authors control.
package determinism

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Rules, as reported in Finding.Rule.
const (
	RuleFloat      = "float"       // float or complex types, values and literals
	RuleMathFloat  = "math-float"  // a float function or constant of package math
	RuleGo         = "go"          // go statement
	RuleMapRange   = "map-range"   // range over a map, or another map-order iteration
	RuleTime       = "time"        // the local clock or timers
	RuleRandImport = "rand-import" // math/rand, math/rand/v2, crypto/rand
	RuleSelect     = "select"      // select statement
	RuleChan       = "chan"        // channel types, sends, receives
	RuleSync       = "sync-import" // sync, sync/atomic: a sign of goroutines
	RuleCgo        = "cgo"         // cgo files cannot be checked, nor trusted
	RuleBadAllow   = "bad-allow"   // an allow comment without a reason
)

// AllowDirective marks a line whose findings are accepted; a reason follows it.
const AllowDirective = "//determinism:allow"

// Finding is one forbidden construct.
type Finding struct {
	Pos  token.Position
	Rule string
	Msg  string
	Func string // enclosing function ("Type.Method" for methods), "" at package level
}

func (f Finding) String() string {
	in := ""
	if f.Func != "" {
		in = " in " + f.Func
	}
	return fmt.Sprintf("%s: [%s] %s%s", f.Pos, f.Rule, f.Msg, in)
}

// Package is a loaded consensus package.
type Package struct {
	ImportPath string
	Dir        string
	Err        error // set when the package is missing or does not compile
	Fset       *token.FileSet
	Files      []*ast.File
	Types      *types.Package
	Info       *types.Info
}

// listed is what `go list -json` reports of a package.
type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	Export     string
	DepOnly    bool
	Error      *struct{ Err string }
	DepsErrors []*struct{ Err string }
}

// Load lists the packages matching patterns (run from dir, a directory of
// the module) and type-checks the non-test Go files of each. It returns one
// Package per pattern match, in go list order; a package that is missing or
// does not compile comes back with Err set rather than failing the whole
// load. The error is for failures of go list itself.
func Load(dir string, patterns ...string) ([]*Package, error) {
	args := append([]string{"list", "-e", "-export", "-deps",
		"-json=ImportPath,Dir,GoFiles,CgoFiles,Export,DepOnly,Error,DepsErrors", "--"}, patterns...)
	cmd := exec.Command(goCommand(), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	var roots []*listed
	dec := json.NewDecoder(&stdout)
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		if p.Export != "" {
			exports[p.ImportPath] = p.Export
		}
		if !p.DepOnly {
			roots = append(roots, &p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(f)
	})
	var out []*Package
	for _, lp := range roots {
		out = append(out, typeCheck(fset, imp, lp))
	}
	return out, nil
}

// ConsensusPackages lists the packages of module (its import path) that the
// roots import, directly or not, roots included, sorted: with the chain and
// its registered domains as roots, every package of the module that runs
// inside consensus. Dependencies outside the module are not listed (their
// authors answer for them; see Limits). It runs go list from dir.
func ConsensusPackages(dir, module string, roots ...string) ([]string, error) {
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}", "--"}, roots...)
	cmd := exec.Command(goCommand(), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go list -deps %v: %v\n%s", roots, err, stderr.String())
	}
	var out []string
	for _, p := range strings.Fields(stdout.String()) {
		if p == module || strings.HasPrefix(p, module+"/") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// goCommand is the go command: `go test` puts its own GOROOT/bin first in
// the PATH of the tests it runs.
func goCommand() string { return "go" }

func typeCheck(fset *token.FileSet, imp types.Importer, lp *listed) *Package {
	p := &Package{ImportPath: lp.ImportPath, Dir: lp.Dir, Fset: fset}
	switch {
	case lp.Error != nil:
		p.Err = fmt.Errorf("%s", strings.TrimSpace(lp.Error.Err))
		return p
	case len(lp.DepsErrors) > 0:
		p.Err = fmt.Errorf("a dependency does not compile: %s", strings.TrimSpace(lp.DepsErrors[0].Err))
		return p
	case len(lp.CgoFiles) > 0:
		p.Err = fmt.Errorf("[%s] cgo files %v: consensus code must be pure Go", RuleCgo, lp.CgoFiles)
		return p
	}
	for _, name := range lp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(lp.Dir, name), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			p.Err = err
			return p
		}
		p.Files = append(p.Files, f)
	}
	p.Info = &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Defs:  map[*ast.Ident]types.Object{},
		Uses:  map[*ast.Ident]types.Object{},
	}
	conf := types.Config{Importer: imp, Sizes: types.SizesFor("gc", runtime.GOARCH)}
	tp, err := conf.Check(lp.ImportPath, fset, p.Files, p.Info)
	if err != nil {
		p.Err = fmt.Errorf("type-check: %w", err)
		return p
	}
	p.Types = tp
	return p
}

// Check reports every forbidden construct in a loaded package, in file and
// line order, at most one per rule and line, leaving out the lines that
// carry an allow directive with a reason.
func Check(p *Package) []Finding {
	var all []Finding
	for _, f := range p.Files {
		all = append(all, checkFile(p, f)...)
	}
	return all
}

type fileChecker struct {
	p        *Package
	file     *ast.File
	allowed  map[int]bool // lines covered by an allow directive
	seen     map[string]bool
	funcs    []funcSpan
	findings []Finding
}

type funcSpan struct {
	pos, end token.Pos
	name     string
}

func checkFile(p *Package, f *ast.File) []Finding {
	c := &fileChecker{p: p, file: f, allowed: map[int]bool{}, seen: map[string]bool{}}
	var src [][]byte // the file's lines, read only if it has a directive
	for _, cg := range f.Comments {
		for _, cm := range cg.List {
			rest, ok := strings.CutPrefix(cm.Text, AllowDirective)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				continue
			}
			pos := p.Fset.Position(cm.Slash)
			if strings.TrimSpace(rest) == "" {
				c.report(cm.Slash, RuleBadAllow, "allow directive without a reason")
				continue
			}
			c.allowed[pos.Line] = true
			if src == nil {
				data, err := os.ReadFile(pos.Filename)
				if err != nil {
					data = nil
				}
				src = bytes.Split(data, []byte("\n"))
			}
			// A directive alone on its line covers the next line; one after
			// code covers only its own.
			if pos.Line-1 < len(src) && pos.Column-1 <= len(src[pos.Line-1]) &&
				len(bytes.TrimSpace(src[pos.Line-1][:pos.Column-1])) == 0 {
				c.allowed[pos.Line+1] = true
			}
		}
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			name := fd.Name.Name
			if fd.Recv != nil && len(fd.Recv.List) > 0 {
				name = recvName(fd.Recv.List[0].Type) + "." + name
			}
			c.funcs = append(c.funcs, funcSpan{fd.Pos(), fd.End(), name})
		}
	}
	for _, imp := range f.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		switch path {
		case "math/rand", "math/rand/v2", "crypto/rand":
			c.report(imp.Path.Pos(), RuleRandImport, "import of "+path+": randomness must come from the block (Block.Rand)")
		case "sync", "sync/atomic":
			c.report(imp.Path.Pos(), RuleSync, "import of "+path+": a sign of goroutines; allow it with a reason if it is not")
		}
	}
	ast.Inspect(f, c.visit)
	sort.SliceStable(c.findings, func(i, j int) bool { return c.findings[i].Pos.Line < c.findings[j].Pos.Line })
	return c.findings
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return "?"
}

func (c *fileChecker) report(pos token.Pos, rule, msg string) {
	position := c.p.Fset.Position(pos)
	if rule != RuleBadAllow && c.allowed[position.Line] {
		return
	}
	key := fmt.Sprintf("%d/%s", position.Line, rule)
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	fn := ""
	for _, s := range c.funcs {
		if s.pos <= pos && pos < s.end {
			fn = s.name
		}
	}
	c.findings = append(c.findings, Finding{Pos: position, Rule: rule, Msg: msg, Func: fn})
}

// timeFuncs read the local clock or depend on real time passing.
var timeFuncs = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true,
}

func (c *fileChecker) visit(n ast.Node) bool {
	info := c.p.Info
	switch n := n.(type) {
	case *ast.BasicLit:
		if n.Kind == token.FLOAT || n.Kind == token.IMAG {
			c.report(n.Pos(), RuleFloat, "float literal "+n.Value)
		}
	case *ast.GoStmt:
		c.report(n.Pos(), RuleGo, "go statement")
	case *ast.SelectStmt:
		c.report(n.Pos(), RuleSelect, "select statement")
	case *ast.RangeStmt:
		if t := info.TypeOf(n.X); t != nil && mayBeMap(t) {
			c.report(n.For, RuleMapRange, "range over a map ("+t.String()+"): its order is random; iterate sorted keys")
		}
	case *ast.Ident:
		obj := info.Uses[n]
		if obj == nil || obj.Pkg() == nil {
			break
		}
		switch obj.Pkg().Path() {
		case "time":
			if _, isFunc := obj.(*types.Func); isFunc && timeFuncs[obj.Name()] {
				c.report(n.Pos(), RuleTime, "time."+obj.Name()+": use the block time (Block.Time)")
			}
		case "math":
			if hasFloat(obj.Type()) {
				c.report(n.Pos(), RuleMathFloat, "math."+obj.Name()+" is floating point")
			}
		case "maps":
			switch obj.Name() {
			case "Keys", "Values", "All":
				c.report(n.Pos(), RuleMapRange, "maps."+obj.Name()+" iterates in random order")
			}
		case "reflect":
			switch obj.Name() {
			case "MapKeys", "MapRange":
				c.report(n.Pos(), RuleMapRange, "reflect "+obj.Name()+" iterates in random order")
			}
		}
	}
	if e, ok := n.(ast.Expr); ok {
		if tv, ok := info.Types[e]; ok && tv.Type != nil {
			switch {
			case isChan(tv.Type):
				c.report(e.Pos(), RuleChan, "channel ("+tv.Type.String()+")")
			case hasFloat(tv.Type):
				c.report(e.Pos(), RuleFloat, "floating point ("+tv.Type.String()+")")
			}
		}
	}
	return true
}

// mayBeMap reports whether t is a map, or a type parameter that a map
// type satisfies through a ~map or map term of its constraint.
func mayBeMap(t types.Type) bool {
	if _, ok := t.Underlying().(*types.Map); ok {
		return true
	}
	tp, ok := types.Unalias(t).(*types.TypeParam)
	if !ok {
		return false
	}
	iface, ok := tp.Constraint().Underlying().(*types.Interface)
	if !ok {
		return false
	}
	for i := 0; i < iface.NumEmbeddeds(); i++ {
		switch e := iface.EmbeddedType(i).(type) {
		case *types.Union:
			for j := 0; j < e.Len(); j++ {
				if mayBeMap(e.Term(j).Type()) {
					return true
				}
			}
		default:
			if mayBeMap(e) {
				return true
			}
		}
	}
	return false
}

func isChan(t types.Type) bool {
	_, ok := t.Underlying().(*types.Chan)
	return ok
}

// hasFloat reports whether t is a float or complex type, or is built from one
// without going through a named type: []float64, func(float64) int,
// struct{ x float32 }. A named struct with a float field is reported where
// the field is declared (in the package, or not at all for a dependency).
func hasFloat(t types.Type) bool { return hasFloatDepth(t, 0) }

func hasFloatDepth(t types.Type, depth int) bool {
	if depth > 8 || t == nil {
		return false
	}
	t = types.Unalias(t)
	if b, ok := t.Underlying().(*types.Basic); ok {
		return b.Info()&(types.IsFloat|types.IsComplex) != 0
	}
	if _, named := t.(*types.Named); named {
		return false
	}
	switch u := t.(type) {
	case *types.Pointer:
		return hasFloatDepth(u.Elem(), depth+1)
	case *types.Slice:
		return hasFloatDepth(u.Elem(), depth+1)
	case *types.Array:
		return hasFloatDepth(u.Elem(), depth+1)
	case *types.Map:
		return hasFloatDepth(u.Key(), depth+1) || hasFloatDepth(u.Elem(), depth+1)
	case *types.Chan:
		return hasFloatDepth(u.Elem(), depth+1)
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			if hasFloatDepth(u.Field(i).Type(), depth+1) {
				return true
			}
		}
	case *types.Signature:
		return tupleHasFloat(u.Params(), depth) || tupleHasFloat(u.Results(), depth)
	case *types.Tuple:
		return tupleHasFloat(u, depth)
	}
	return false
}

func tupleHasFloat(t *types.Tuple, depth int) bool {
	for i := 0; i < t.Len(); i++ {
		if hasFloatDepth(t.At(i).Type(), depth+1) {
			return true
		}
	}
	return false
}
