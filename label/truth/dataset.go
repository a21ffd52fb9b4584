package truth

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Record is one answer with string ids, as read from an item,worker,label CSV.
type Record struct {
	Item, Worker, Label string
}

// LabelRecord is one known label with string ids, as read from an item,label CSV.
type LabelRecord struct {
	Item, Label string
}

// Dataset is a set of answers made dense, with the string ids behind every index.
// Ids are sorted (see CompareIDs), so the same records always give the same
// indexes whatever order they were read in.
type Dataset struct {
	Answers                      Answers
	ItemIDs, WorkerIDs, ClassIDs []string
	// Truth holds evaluation labels per item (NoLabel where unknown). Methods never see it.
	Truth []int
	// Gold holds known labels per item that methods may use (NoLabel where none),
	// e.g. qualification questions. Nil when the data set has no gold.
	Gold []int
}

// CompareIDs orders ids: ids that are decimal integers first, by value, then
// all other ids by bytes. It is a total order, so label "10" sorts after "9".
func CompareIDs(x, y string) int {
	nx, okx := decimal(x)
	ny, oky := decimal(y)
	switch {
	case okx && oky:
		if c := cmp.Compare(nx, ny); c != 0 {
			return c
		}
	case okx:
		return -1
	case oky:
		return 1
	}
	return strings.Compare(x, y) // also separates "01" from "1"
}

// decimal parses an optionally signed run of at most 18 digits without
// allocating (strconv allocates an error for every non-number).
func decimal(s string) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// vocab assigns dense indexes to ids in CompareIDs order. The map is only
// looked up, never ranged over, so its order cannot leak into indexes.
type vocab struct {
	index map[string]int
	ids   []string
}

func (v *vocab) add(id string) {
	if v.index == nil {
		v.index = make(map[string]int)
	}
	if _, ok := v.index[id]; !ok {
		v.index[id] = len(v.ids)
		v.ids = append(v.ids, id)
	}
}

// sort orders ids and renumbers the map to match.
func (v *vocab) sort() []string {
	slices.SortFunc(v.ids, CompareIDs)
	for n, id := range v.ids {
		v.index[id] = n
	}
	return v.ids
}

// indexOf finds id in ids sorted by CompareIDs.
func indexOf(ids []string, id string) (int, bool) {
	return slices.BinarySearchFunc(ids, id, CompareIDs)
}

// ItemIndex returns the dense index of an item id.
func (d *Dataset) ItemIndex(id string) (int, bool) { return indexOf(d.ItemIDs, id) }

// WorkerIndex returns the dense index of a worker id.
func (d *Dataset) WorkerIndex(id string) (int, bool) { return indexOf(d.WorkerIDs, id) }

// ClassIndex returns the dense index of a label.
func (d *Dataset) ClassIndex(label string) (int, bool) { return indexOf(d.ClassIDs, label) }

// NewDataset makes answers dense. Items and classes are the union over
// answers, truth and gold, so every known label has a class; truth items that
// nobody answered get an index too (with no votes), and scoring skips them.
func NewDataset(answers []Record, truth, gold []LabelRecord) (*Dataset, error) {
	var items, workers, classes vocab
	for _, r := range answers {
		items.add(r.Item)
		workers.add(r.Worker)
		classes.add(r.Label)
	}
	for _, set := range [][]LabelRecord{truth, gold} {
		for _, r := range set {
			items.add(r.Item)
			classes.add(r.Label)
		}
	}
	if len(classes.ids) < 2 {
		// A set where everyone gave one label still has a second, unseen class.
		classes.add("?")
	}
	d := &Dataset{ItemIDs: items.sort(), WorkerIDs: workers.sort(), ClassIDs: classes.sort()}
	if len(d.ClassIDs) > MaxClasses {
		return nil, fmt.Errorf("truth: %d distinct labels, at most %d supported", len(d.ClassIDs), MaxClasses)
	}
	d.Answers = Answers{Items: len(d.ItemIDs), Workers: len(d.WorkerIDs), Classes: len(d.ClassIDs),
		List: make([]Answer, len(answers))}
	for n, r := range answers {
		d.Answers.List[n] = Answer{Item: items.index[r.Item], Worker: workers.index[r.Worker], Class: classes.index[r.Label]}
	}
	var err error
	if d.Truth, err = d.labels(truth, "truth", &items, &classes); err != nil {
		return nil, err
	}
	if gold != nil {
		if d.Gold, err = d.labels(gold, "gold", &items, &classes); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// labels makes a per-item label slice; an item listed twice must agree with itself.
func (d *Dataset) labels(recs []LabelRecord, name string, items, classes *vocab) ([]int, error) {
	out := make([]int, len(d.ItemIDs))
	for i := range out {
		out[i] = NoLabel
	}
	for _, r := range recs {
		i, c := items.index[r.Item], classes.index[r.Label]
		if out[i] != NoLabel && out[i] != c {
			return nil, fmt.Errorf("truth: %s lists item %q as both %q and %q", name, r.Item, d.ClassIDs[out[i]], r.Label)
		}
		out[i] = c
	}
	return out, nil
}

// ReadAnswersCSV reads "item,worker,label" rows after a header line.
func ReadAnswersCSV(r io.Reader) ([]Record, error) {
	rows, err := readCSV(r, 3)
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(rows))
	for n, row := range rows {
		out[n] = Record{Item: row[0], Worker: row[1], Label: row[2]}
	}
	return out, nil
}

// ReadLabelsCSV reads "item,label" rows after a header line.
func ReadLabelsCSV(r io.Reader) ([]LabelRecord, error) {
	rows, err := readCSV(r, 2)
	if err != nil {
		return nil, err
	}
	out := make([]LabelRecord, len(rows))
	for n, row := range rows {
		out[n] = LabelRecord{Item: row[0], Label: row[1]}
	}
	return out, nil
}

func readCSV(r io.Reader, fields int) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = fields
	cr.ReuseRecord = false
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("read csv: no header")
	}
	rows = rows[1:]
	for n, row := range rows {
		for f := range row {
			row[f] = strings.TrimSpace(row[f])
			if row[f] == "" {
				return nil, fmt.Errorf("read csv: row %d field %d is empty", n+2, f+1)
			}
		}
	}
	return rows, nil
}

// LoadOptions selects the optional files LoadDir reads.
type LoadOptions struct {
	// Qualification adds qualification_answers.csv to the answers and
	// qualification_truth.csv as Gold, where the folder has them. Leave it off
	// to reproduce published figures, which use answers.csv alone.
	Qualification bool
}

// LoadDir reads a data set folder: answers.csv, truth.csv (optional) and,
// with opt.Qualification, the qualification files.
func LoadDir(dir string, opt LoadOptions) (*Dataset, error) {
	answers, err := readFile(dir, "answers.csv", ReadAnswersCSV)
	if err != nil {
		return nil, err
	}
	truth, err := readFile(dir, "truth.csv", ReadLabelsCSV)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var gold []LabelRecord
	if opt.Qualification {
		qa, err := readFile(dir, "qualification_answers.csv", ReadAnswersCSV)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			if gold, err = readFile(dir, "qualification_truth.csv", ReadLabelsCSV); err != nil {
				return nil, err
			}
			answers = append(answers, qa...)
		}
	}
	d, err := NewDataset(answers, truth, gold)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	return d, nil
}

func readFile[T any](dir, name string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return v, nil
}
