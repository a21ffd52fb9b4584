package determinism_test

// The determinism guard: every consensus package, parsed and type-checked,
// must be free of floats, goroutines, channels, select, map-order iteration,
// the wall clock, random numbers and sync (see determinism.go for the rules
// and for how map ranges are found).
//
// The guard finds the consensus packages itself (guard_test.go): the chain
// and every domain node.NewApp registers are the roots, and every package of
// this module they import, directly or not, is checked. A new market, or a
// new library a market imports, is covered the moment it is imported; there
// is no table to forget. If a finding is harmless, put a comment on its line,
//
//	for k := range m { //determinism:allow keys are sorted below
//
// Code that needs floats, clocks or goroutines does not belong in a package
// a domain imports: move it out (as data/gateway and zkml/train are).

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/internal/determinism"
)

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
	pkgs, findings := guard(t, moduleRoot(t))
	var names []string
	for _, p := range pkgs {
		names = append(names, strings.TrimPrefix(p.ImportPath, modulePath+"/"))
	}
	t.Logf("consensus packages: %s", strings.Join(names, " "))
	// The domains' own libraries are found, not listed by hand.
	for _, want := range []string{"chain", "chain/store", "yuma", "label/truth", "subnet", "zkml", "zkml/model", "zkml/registry"} {
		if !slices.Contains(names, want) {
			t.Errorf("guard did not find consensus package %s", want)
		}
	}
	for _, f := range findings {
		t.Errorf("%s", f)
	}
	if len(findings) > 0 {
		t.Logf("%d findings. Fix them, or if one is harmless add %q and the reason on its line.", len(findings), determinism.AllowDirective)
	}
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
