package determinism_test

// The determinism guard: every consensus package, parsed and type-checked,
// must be free of floats, goroutines, channels, select, map-order iteration,
// the wall clock, random numbers and sync (see determinism.go for the rules
// and for how map ranges are found).
//
// HOW TO ADD A PACKAGE. Append its directory, relative to the module root,
// to consensusPackages below:
//
//	{path: "label"},
//
// Leave optional false: a required package that is missing or does not
// compile fails the test. optional: true is only for a package that is
// still being written (it is skipped, with a log line, until it exists and
// compiles); drop it once the package lands. If a finding is harmless,
// prefer an inline comment on its line,
//
//	for k := range m { //determinism:allow keys are sorted below
//
// and use the allow table of the entry only for code you cannot edit.
// Market packages to add when they exist: label, compute, data, zkml, subnet.

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/internal/determinism"
)

type consensusPackage struct {
	path     string // directory relative to the module root
	optional bool   // skip while missing or not compiling (work in progress)
	// allow accepts findings by "file.go Func rule" (Func as in Finding.Func)
	// with the reason, for code that cannot carry an inline directive.
	allow map[string]string
}

var consensusPackages = []consensusPackage{
	{path: "chain"},
	{path: "chain/store"},
	{path: "yuma", optional: true},
	{path: "label/truth"},
	{path: "data"},
	{path: "compute"},
	{path: "subnet"},
	{path: "label"},
	{path: "zkml/registry"},
	{path: "pipeline"},
}

// moduleRoot is the directory of the go.mod above the test's directory.
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

func TestConsensusPackagesAreDeterministic(t *testing.T) {
	root := moduleRoot(t)
	var patterns []string
	present := map[string]bool{}
	for _, cp := range consensusPackages {
		if hasGoFiles(filepath.Join(root, cp.path)) {
			present[cp.path] = true
			patterns = append(patterns, "./"+cp.path)
		}
	}
	pkgs, err := determinism.Load(root, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	byDir := map[string]*determinism.Package{}
	for _, p := range pkgs {
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		byDir[filepath.ToSlash(rel)] = p
	}
	for _, cp := range consensusPackages {
		t.Run(cp.path, func(t *testing.T) {
			p := byDir[cp.path]
			switch {
			case !present[cp.path] || p == nil:
				if cp.optional {
					t.Skipf("%s: no Go files yet (optional entry)", cp.path)
				}
				t.Fatalf("consensus package %s has no Go files", cp.path)
			case p.Err != nil:
				if cp.optional {
					t.Skipf("%s does not compile yet (optional entry): %v", cp.path, p.Err)
				}
				t.Fatalf("%s: %v", cp.path, p.Err)
			}
			used := map[string]bool{}
			n := 0
			for _, f := range determinism.Check(p) {
				key := filepath.Base(f.Pos.Filename) + " " + f.Func + " " + f.Rule
				if _, ok := cp.allow[key]; ok {
					used[key] = true
					continue
				}
				n++
				t.Errorf("%s", f)
			}
			for key := range cp.allow {
				if !used[key] {
					t.Errorf("allow entry %q matches nothing: remove it", key)
				}
			}
			if n > 0 {
				t.Logf("%d findings. Fix them, or if one is harmless add %q and the reason on its line.", n, determinism.AllowDirective)
			}
			t.Logf("%s: %d files checked", cp.path, len(p.Files))
		})
	}
}

func hasGoFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}

// TestCheckerFindsEachConstruct runs the checker over testdata/forbidden,
// whose "want:" comments list the rules expected on each line, so the guard
// cannot pass by silently missing a construct.
func TestCheckerFindsEachConstruct(t *testing.T) {
	pkgs, err := determinism.Load(".", "./testdata/forbidden")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].Err != nil {
		if len(pkgs) == 1 {
			t.Fatalf("load testdata: %v", pkgs[0].Err)
		}
		t.Fatalf("load testdata: %d packages", len(pkgs))
	}
	p := pkgs[0]
	want := map[string]bool{}
	for _, f := range p.Files {
		for k := range wantedFindings(t, p.Fset.Position(f.Pos()).Filename) {
			want[k] = true
		}
	}
	got := map[string]bool{}
	for _, f := range determinism.Check(p) {
		k := strconv.Itoa(f.Pos.Line) + " " + f.Rule
		got[k] = true
		if !want[k] {
			t.Errorf("unexpected finding %s", f)
		}
	}
	var missing []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("line %s: expected finding not reported", k)
	}
	// Every rule is exercised by the testdata.
	rules := []string{
		determinism.RuleFloat, determinism.RuleMathFloat, determinism.RuleGo, determinism.RuleMapRange,
		determinism.RuleTime, determinism.RuleRandImport, determinism.RuleSelect, determinism.RuleChan,
		determinism.RuleSync, determinism.RuleBadAllow,
	}
	for _, r := range rules {
		found := false
		for k := range want {
			if strings.HasSuffix(k, " "+r) {
				found = true
			}
		}
		if !found {
			t.Errorf("rule %s has no case in testdata", r)
		}
	}
}

// wantedFindings reads "// want: rule ..." (this line) and
// "// want-above: rule ..." (the line before) comments: "line rule" keys.
func wantedFindings(t *testing.T, path string) map[string]bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		target := line
		_, rest, ok := strings.Cut(text, "// want: ")
		if !ok {
			if _, rest, ok = strings.Cut(text, "// want-above: "); !ok {
				continue
			}
			target = line - 1
		}
		for _, w := range strings.Fields(rest) {
			if strings.HasPrefix(w, "(") {
				break
			}
			out[strconv.Itoa(target)+" "+w] = true
		}
	}
	return out
}

// A package that does not compile is reported as such, not checked
// partially, and not passed.
func TestLoadReportsBrokenPackage(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("broken/b.go", "package broken\n\nfunc F() int { return \"x\" }\n")
	write("good/g.go", "package good\n\nfunc F(m map[int]int) (n int) {\n\tfor k := range m {\n\t\tn += k\n\t}\n\treturn\n}\n")
	pkgs, err := determinism.Load(dir, "./broken", "./good", "./missing")
	if err != nil {
		t.Fatal(err)
	}
	var sawBroken, sawGood, sawMissing bool
	for _, p := range pkgs {
		switch {
		case strings.HasSuffix(p.ImportPath, "broken"):
			sawBroken = p.Err != nil
		case strings.HasSuffix(p.ImportPath, "good"):
			if p.Err != nil {
				t.Fatalf("good: %v", p.Err)
			}
			fs := determinism.Check(p)
			sawGood = len(fs) == 1 && fs[0].Rule == determinism.RuleMapRange && fs[0].Func == "F" && fs[0].Pos.Line == 4
		case strings.HasSuffix(p.ImportPath, "missing"):
			sawMissing = p.Err != nil
		}
	}
	if !sawBroken || !sawGood || !sawMissing {
		t.Fatalf("broken reported %v, good checked %v, missing reported %v", sawBroken, sawGood, sawMissing)
	}
}
