package yuma

import (
	"path/filepath"
	"testing"
)

// TestScenarioVectors replays every scenario in testdata/ (the spec's
// epoch vectors) and requires every expected value to match exactly.
func TestScenarioVectors(t *testing.T) { runScenarioDir(t, "testdata") }

// TestRegressionScenarios replays testdata/regression/: outputs of this
// implementation for paths the spec has no vectors for (Yuma 3, liquid
// alpha), pinned so that any change in them is deliberate. yuma/floatref's
// tests check the same files against the float64 reference.
func TestRegressionScenarios(t *testing.T) {
	runScenarioDir(t, filepath.Join("testdata", "regression"))
}

func runScenarioDir(t *testing.T, dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scenario files in %s", dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			reports, err := sc.Run()
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, r := range reports {
				checked += r.Checked
				for _, m := range r.Mismatches {
					t.Error(m)
				}
			}
			if checked == 0 {
				t.Fatalf("%s checks nothing", f)
			}
			t.Logf("%s: %d epochs, %d values checked", sc.Name, len(reports), checked)
		})
	}
}
