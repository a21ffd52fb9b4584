package truth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Typed data sets. A folder's optional task.json names its task type:
//
//	{"kind": "rating", "min": -100, "max": 100}
//	{"kind": "multi", "labels": ["car", "person"]}
//	{"kind": "box", "width": 640, "height": 480, "labels": ["car", "person"]}
//
// and no file (or {"kind": "choice"}) is single choice, as LoadDir reads.
// answers.csv is "item,worker,answer" and truth.csv "item,answer" after a
// header, where the answer is an integer (rating), the labels that apply
// joined by "|" or "-" for none (multi), or boxes "x y w h label" joined
// by "|" or "-" for none (box).

// Task kinds of a data set.
const (
	SetChoice = "choice"
	SetMulti  = "multi"
	SetRating = "rating"
	SetBox    = "box"
)

// TaskSpec is a data set's task.json.
type TaskSpec struct {
	Kind   string   `json:"kind"`
	Min    int64    `json:"min,omitempty"`
	Max    int64    `json:"max,omitempty"`
	Width  int64    `json:"width,omitempty"`
	Height int64    `json:"height,omitempty"`
	Labels []string `json:"labels,omitempty"`
}

// ReadTask reads dir/task.json from fsys; a folder without one is single
// choice.
func ReadTask(fsys fs.FS, dir string) (TaskSpec, error) {
	b, err := fs.ReadFile(fsys, path.Join(dir, "task.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return TaskSpec{Kind: SetChoice}, nil
	}
	if err != nil {
		return TaskSpec{}, fmt.Errorf("truth: %w", err)
	}
	var t TaskSpec
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, fmt.Errorf("truth: %s/task.json: %w", dir, err)
	}
	switch t.Kind {
	case "", SetChoice:
		t.Kind = SetChoice
	case SetRating:
		if t.Max <= t.Min || t.Max-t.Min > MaxRatingSpan {
			return t, fmt.Errorf("truth: %s/task.json: rating range [%d, %d] invalid", dir, t.Min, t.Max)
		}
	case SetMulti, SetBox:
		if len(t.Labels) == 0 {
			return t, fmt.Errorf("truth: %s/task.json: a %s set needs its labels", dir, t.Kind)
		}
		if t.Kind == SetBox && (t.Width < 1 || t.Height < 1 || t.Width > MaxBoxCoord || t.Height > MaxBoxCoord) {
			return t, fmt.Errorf("truth: %s/task.json: image size %dx%d invalid", dir, t.Width, t.Height)
		}
	default:
		return t, fmt.Errorf("truth: %s/task.json: kind %q: want choice, multi, rating or box", dir, t.Kind)
	}
	return t, nil
}

// TypedSet is a loaded rating, multi-label or box data set. Items and
// workers are indexed in the order CompareIDs sorts their ids.
type TypedSet struct {
	Task      TaskSpec
	ItemIDs   []string
	WorkerIDs []string
	Ratings   *Ratings    // rating sets
	Multi     *MultiSet   // multi-label sets
	Boxes     *BoxAnswers // box sets
	// Truth per item where HasTruth is set: RatingTruth, MultiTruth or BoxTruth.
	HasTruth    []bool
	RatingTruth []int64
	MultiTruth  []uint32
	BoxTruth    [][]Box
}

// MultiAnswer is one worker's label mask for one item.
type MultiAnswer struct {
	Item, Worker int
	Mask         uint32
}

// MultiSet is multi-label answers over Labels labels.
type MultiSet struct {
	Items, Workers, Labels int
	List                   []MultiAnswer
}

// Binary flattens the multi-label answers into one yes/no question per
// (item, label): item i's label l is item i*Labels+l, class 1 for yes.
func (m *MultiSet) Binary() *Answers {
	a := &Answers{Items: m.Items * m.Labels, Workers: m.Workers, Classes: 2}
	for _, x := range m.List {
		for l := range m.Labels {
			a.List = append(a.List, Answer{Item: x.Item*m.Labels + l, Worker: x.Worker, Class: int(x.Mask >> l & 1)})
		}
	}
	return a
}

// LoadTyped reads a typed data set folder of fsys.
func LoadTyped(fsys fs.FS, dir string) (*TypedSet, error) {
	t, err := ReadTask(fsys, dir)
	if err != nil {
		return nil, err
	}
	if t.Kind == SetChoice {
		return nil, fmt.Errorf("truth: %s is a single-choice set: use LoadDir", dir)
	}
	open := func(name string, fields int) ([][]string, error) {
		f, err := fsys.Open(path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("truth: %w", err)
		}
		defer f.Close()
		rows, err := readCSV(f, fields)
		if err != nil {
			return nil, fmt.Errorf("truth: %s/%s: %w", dir, name, err)
		}
		return rows, nil
	}
	ans, err := open("answers.csv", 3)
	if err != nil {
		return nil, err
	}
	tr, err := open("truth.csv", 2)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	items, workers := vocab{}, vocab{}
	for _, r := range ans {
		items.add(r[0])
		workers.add(r[1])
	}
	s := &TypedSet{Task: t, ItemIDs: items.sort(), WorkerIDs: workers.sort()}
	n, nw := len(s.ItemIDs), len(s.WorkerIDs)
	parse, err := s.parser()
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case SetRating:
		s.Ratings = &Ratings{Items: n, Workers: nw, Min: t.Min, Max: t.Max}
		s.RatingTruth = make([]int64, n)
	case SetMulti:
		s.Multi = &MultiSet{Items: n, Workers: nw, Labels: len(t.Labels)}
		s.MultiTruth = make([]uint32, n)
	case SetBox:
		s.Boxes = &BoxAnswers{Items: n, Workers: nw, Classes: len(t.Labels)}
		s.BoxTruth = make([][]Box, n)
	}
	for k, r := range ans {
		i, _ := indexOf(s.ItemIDs, r[0])
		w, _ := indexOf(s.WorkerIDs, r[1])
		v, err := parse(r[2])
		if err != nil {
			return nil, fmt.Errorf("truth: %s/answers.csv row %d: %w", dir, k+2, err)
		}
		switch t.Kind {
		case SetRating:
			s.Ratings.List = append(s.Ratings.List, Rating{Item: i, Worker: w, Value: v.value})
		case SetMulti:
			s.Multi.List = append(s.Multi.List, MultiAnswer{Item: i, Worker: w, Mask: v.mask})
		case SetBox:
			s.Boxes.List = append(s.Boxes.List, BoxAnswer{Item: i, Worker: w, Boxes: v.boxes})
		}
	}
	s.HasTruth = make([]bool, n)
	for k, r := range tr {
		i, ok := indexOf(s.ItemIDs, r[0])
		if !ok {
			continue // a truth item nobody answered
		}
		v, err := parse(r[1])
		if err != nil {
			return nil, fmt.Errorf("truth: %s/truth.csv row %d: %w", dir, k+2, err)
		}
		s.HasTruth[i] = true
		s.RatingTruth = setAt(s.RatingTruth, i, v.value)
		s.MultiTruth = setAt(s.MultiTruth, i, v.mask)
		s.BoxTruth = setAt(s.BoxTruth, i, v.boxes)
	}
	switch {
	case s.Ratings != nil:
		err = s.Ratings.Validate()
	case s.Boxes != nil:
		err = s.Boxes.Validate()
	}
	return s, err
}

func setAt[T any](s []T, i int, v T) []T {
	if s != nil {
		s[i] = v
	}
	return s
}

type typedValue struct {
	value int64
	mask  uint32
	boxes []Box
}

// parser returns the answer parser of the set's kind.
func (s *TypedSet) parser() (func(string) (typedValue, error), error) {
	labels := s.Task.Labels
	if len(labels) > 32 {
		return nil, fmt.Errorf("truth: %d labels, at most 32", len(labels))
	}
	label := func(x string) (int, error) {
		if i := slices.Index(labels, x); i >= 0 {
			return i, nil
		}
		return 0, fmt.Errorf("label %q is not in task.json's labels %v", x, labels)
	}
	switch s.Task.Kind {
	case SetRating:
		return func(x string) (typedValue, error) {
			v, err := strconv.ParseInt(x, 10, 64)
			if err != nil || v < s.Task.Min || v > s.Task.Max {
				return typedValue{}, fmt.Errorf("rating %q: want an integer in [%d, %d]", x, s.Task.Min, s.Task.Max)
			}
			return typedValue{value: v}, nil
		}, nil
	case SetMulti:
		return func(x string) (typedValue, error) {
			var v typedValue
			if x == "-" {
				return v, nil
			}
			for _, p := range strings.Split(x, "|") {
				l, err := label(p)
				if err != nil {
					return v, err
				}
				v.mask |= 1 << l
			}
			return v, nil
		}, nil
	}
	return func(x string) (typedValue, error) {
		var v typedValue
		if x == "-" {
			return v, nil
		}
		for _, p := range strings.Split(x, "|") {
			f := strings.Fields(p)
			if len(f) != 5 {
				return v, fmt.Errorf("box %q: want \"x y w h label\"", p)
			}
			var n [4]int64
			for k := range n {
				var err error
				if n[k], err = strconv.ParseInt(f[k], 10, 64); err != nil {
					return v, fmt.Errorf("box %q: %w", p, err)
				}
			}
			c, err := label(f[4])
			if err != nil {
				return v, err
			}
			b := Box{X: n[0], Y: n[1], W: n[2], H: n[3], Class: c}
			if b.X < 0 || b.Y < 0 || b.W < 1 || b.H < 1 || b.X+b.W > s.Task.Width || b.Y+b.H > s.Task.Height {
				return v, fmt.Errorf("box %q is outside the %dx%d image", p, s.Task.Width, s.Task.Height)
			}
			v.boxes = append(v.boxes, b)
		}
		return v, nil
	}, nil
}

// WriteTyped writes a typed set as task.json, answers.csv and truth.csv
// contents (the inverse of LoadTyped), for generated sets.
func WriteTyped(s *TypedSet, answers, truthCSV io.Writer) error {
	format := func(k int) string {
		switch s.Task.Kind {
		case SetRating:
			return strconv.FormatInt(s.Ratings.List[k].Value, 10)
		case SetMulti:
			return formatMask(s.Multi.List[k].Mask, s.Task.Labels)
		}
		return formatBoxes(s.Boxes.List[k].Boxes, s.Task.Labels)
	}
	if _, err := fmt.Fprintln(answers, "item,worker,answer"); err != nil {
		return err
	}
	var rows int
	switch {
	case s.Ratings != nil:
		rows = len(s.Ratings.List)
	case s.Multi != nil:
		rows = len(s.Multi.List)
	default:
		rows = len(s.Boxes.List)
	}
	for k := range rows {
		var item, worker int
		switch {
		case s.Ratings != nil:
			item, worker = s.Ratings.List[k].Item, s.Ratings.List[k].Worker
		case s.Multi != nil:
			item, worker = s.Multi.List[k].Item, s.Multi.List[k].Worker
		default:
			item, worker = s.Boxes.List[k].Item, s.Boxes.List[k].Worker
		}
		if _, err := fmt.Fprintf(answers, "%s,%s,%s\n", s.ItemIDs[item], s.WorkerIDs[worker], format(k)); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintln(truthCSV, "item,answer"); err != nil {
		return err
	}
	for i, id := range s.ItemIDs {
		if !s.HasTruth[i] {
			continue
		}
		var v string
		switch s.Task.Kind {
		case SetRating:
			v = strconv.FormatInt(s.RatingTruth[i], 10)
		case SetMulti:
			v = formatMask(s.MultiTruth[i], s.Task.Labels)
		default:
			v = formatBoxes(s.BoxTruth[i], s.Task.Labels)
		}
		if _, err := fmt.Fprintf(truthCSV, "%s,%s\n", id, v); err != nil {
			return err
		}
	}
	return nil
}

func formatMask(m uint32, labels []string) string {
	var parts []string
	for l, name := range labels {
		if m>>l&1 == 1 {
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "|")
}

func formatBoxes(bs []Box, labels []string) string {
	if len(bs) == 0 {
		return "-"
	}
	parts := make([]string, len(bs))
	for k, b := range bs {
		parts[k] = fmt.Sprintf("%d %d %d %d %s", b.X, b.Y, b.W, b.H, labels[b.Class])
	}
	return strings.Join(parts, "|")
}
