package yuma

import (
	"path/filepath"
	"testing"
)

// TestScenarioVectors replays every scenario in testdata/ (the spec's
// epoch vectors) and requires every expected value to match exactly.
func TestScenarioVectors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenario files in testdata/")
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
