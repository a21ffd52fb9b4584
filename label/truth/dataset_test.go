package truth_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/label/truth"
)

func TestCompareIDs(t *testing.T) {
	ids := []string{"b", "10", "a", "9", "-1", "010", "x10", "1"}
	slices.SortFunc(ids, truth.CompareIDs)
	want := []string{"-1", "1", "9", "010", "10", "a", "b", "x10"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted %v, want %v", ids, want)
	}
}

func TestNewDataset(t *testing.T) {
	answers := []truth.Record{
		{"q10", "w2", "1"}, {"q9", "w1", "0"}, {"q9", "w1", "0"}, // w1 answers q9 twice
		{"q10", "w1", "1"},
	}
	truthRecs := []truth.LabelRecord{{"q9", "0"}, {"q11", "2"}} // q11: unanswered, new class
	d, err := truth.NewDataset(answers, truthRecs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"q10", "q11", "q9"}; !slices.Equal(d.ItemIDs, want) {
		t.Errorf("items %v, want %v", d.ItemIDs, want)
	}
	if want := []string{"0", "1", "2"}; !slices.Equal(d.ClassIDs, want) {
		t.Errorf("classes %v, want %v", d.ClassIDs, want)
	}
	if len(d.Answers.List) != 4 || d.Answers.Classes != 3 || d.Answers.Workers != 2 {
		t.Errorf("answers %+v", d.Answers)
	}
	if want := []int{truth.NoLabel, 2, 0}; !slices.Equal(d.Truth, want) {
		t.Errorf("truth %v, want %v", d.Truth, want)
	}
	if d.Gold != nil {
		t.Errorf("gold %v, want nil", d.Gold)
	}
	if i, ok := d.ItemIndex("q9"); !ok || i != 2 {
		t.Errorf("ItemIndex(q9) = %d, %v", i, ok)
	}
	if _, ok := d.WorkerIndex("nobody"); ok {
		t.Error("WorkerIndex found a worker that does not exist")
	}
	// Same records in another order: same indexes.
	rev := slices.Clone(answers)
	slices.Reverse(rev)
	d2, err := truth.NewDataset(rev, truthRecs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.ItemIDs, d2.ItemIDs) || !slices.Equal(d.WorkerIDs, d2.WorkerIDs) {
		t.Error("record order changed the indexes")
	}

	if _, err := truth.NewDataset(answers, []truth.LabelRecord{{"q9", "0"}, {"q9", "1"}}, nil); err == nil {
		t.Error("conflicting truth: want an error")
	}
	single, err := truth.NewDataset([]truth.Record{{"a", "w", "yes"}}, nil, nil)
	if err != nil || single.Answers.Classes != 2 {
		t.Errorf("one label seen: classes %v, err %v; want a second class", single.ClassIDs, err)
	}
}

func TestReadCSV(t *testing.T) {
	recs, err := truth.ReadAnswersCSV(strings.NewReader("item,worker,label\n1, w ,0\n2,w,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []truth.Record{{"1", "w", "0"}, {"2", "w", "1"}}; !slices.Equal(recs, want) {
		t.Errorf("records %v, want %v", recs, want)
	}
	for _, bad := range []string{"", "item,worker,label\n1,w\n", "item,worker,label\n1,,0\n"} {
		if _, err := truth.ReadAnswersCSV(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("answers.csv", "item,worker,label\n1,a,0\n1,b,1\n2,a,1\n")
	write("truth.csv", "item,label\n1,0\n2,1\n")
	write("qualification_answers.csv", "item,worker,label\ng1,a,1\ng1,b,0\n")
	write("qualification_truth.csv", "item,label\ng1,1\n")

	plain, err := truth.LoadDir(dir, truth.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Answers.Items != 2 || plain.Gold != nil {
		t.Errorf("plain load: %d items, gold %v", plain.Answers.Items, plain.Gold)
	}
	withGold, err := truth.LoadDir(dir, truth.LoadOptions{Qualification: true})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := withGold.ItemIndex("g1")
	if withGold.Answers.Items != 3 || len(withGold.Answers.List) != 5 || withGold.Gold[g] != 1 || withGold.Truth[g] != truth.NoLabel {
		t.Errorf("qualification load: %+v gold %v truth %v", withGold.Answers, withGold.Gold, withGold.Truth)
	}
	if _, err := truth.LoadDir(filepath.Join(dir, "missing"), truth.LoadOptions{}); err == nil {
		t.Error("missing folder: want an error")
	}
}
