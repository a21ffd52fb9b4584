package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/bench/report"
	labelsets "github.com/tenun-chain/tenun/datasets/labels"
	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/truth/floatref"
)

func init() { benchCmd.AddCommand(newBenchLabelsCmd()) }

// labelBenchRow is one method on one data set. Accuracy, F1 and the
// published figures are percentages; F1 is on label "1" for binary sets
// and null otherwise, published is null where no figure is known.
type labelBenchRow struct {
	Dataset          string   `json:"dataset"`
	Method           string   `json:"method"`
	Accuracy         float64  `json:"accuracy"`
	F1               *float64 `json:"f1"`
	Seconds          float64  `json:"seconds"`
	AnswersPerSecond float64  `json:"answers_per_second"`
	Published        *float64 `json:"published"`
	PublishedF1      *float64 `json:"published_f1,omitempty"`
	PublishedMethod  string   `json:"published_method,omitempty"`
	Answers          int      `json:"answers"`
	Scored           int      `json:"scored"`
	Iterations       int      `json:"iterations,omitempty"`
	// FixedOverFloat, on the fixed-point dawid-skene row, is its time
	// divided by the float64 baseline's, both measured in this run.
	FixedOverFloat *float64 `json:"fixed_over_float,omitempty"`
}

// publishedFigure is a figure from /work/shared/crowd/README.md.
type publishedFigure struct {
	acc, f1 float64 // f1 0: not published
	method  string
}

// publishedLabels: Zheng et al., PVLDB 10(5) 2017, Table 6, and the README's
// "other reported figures"; "best" is the best published method on the set.
var publishedLabels = map[string]map[string]publishedFigure{
	"d_product": {"majority": {89.66, 59.05, "MV"}, "dawid-skene": {93.66, 71.59, "DS"}, "best": {93.78, 70.10, "BCC"}},
	"d_possent": {"majority": {93.31, 92.85, "MV"}, "dawid-skene": {96.00, 95.66, "DS"}, "best": {96.00, 95.66, "DS/BCC/LFC"}},
	"s_rel":     {"majority": {54.19, 0, "MV"}, "dawid-skene": {61.30, 0, "DS"}, "best": {61.64, 0, "LFC"}},
	"bluebirds": {"majority": {75.9, 0, "MV"}, "dawid-skene": {89.5, 0, "DS, about 89-90"}, "best": {89.5, 0, "DS, about 89-90"}},
	"rte":       {"majority": {89.7, 0, "MV"}, "dawid-skene": {92.7, 0, "DS"}, "best": {92.7, 0, "DS"}},
	"temp":      {"majority": {93.6, 0, "MV"}, "dawid-skene": {94.2, 0, "DS"}, "best": {94.2, 0, "DS"}},
}

// labelBenchReport is everything bench labels measured: single-choice
// sets, typed sets (ratings, multi-label, boxes) and the close of a large
// job over many blocks.
type labelBenchReport struct {
	Choice []labelBenchRow   `json:"choice"`
	Typed  []typedBenchRow   `json:"typed"`
	Close  *labelCloseResult `json:"close,omitempty"`
	// The closes of typed jobs of the same size (3 answers an item).
	TypedCloses []*labelCloseResult `json:"typed_closes,omitempty"`
}

func newBenchLabelsCmd() *cobra.Command {
	var dataDir string
	var repeat, closeItems int
	var closeTyped string
	var synthetic, quiet bool
	cmd := &cobra.Command{
		Use:   "labels",
		Short: "Truth inference per task type (choice, multi-label, ratings, boxes) and the close of a large job",
		Long: `Scores every folder of --data by the task type its optional task.json names
({"kind":"rating","min":-100,"max":100}, {"kind":"multi","labels":[...]} or
{"kind":"box","width":W,"height":H,"labels":[...]}; no file: single choice, as
the crowd sets). Single choice: majority vote, gold-weighted vote (where
qualification gold exists), fixed-point Dawid-Skene, the best method
(hierarchical Dawid-Skene) and a float64 Dawid-Skene baseline; accuracy and F1
(on label "1", binary sets) in percent over truth items with an answer, ties
earning fractional credit. Ratings: mean (the baseline), median, the EM model
of per-worker bias and noise and the quality-weighted mean; MAE and RMSE.
Multi-label: per-label majority (the baseline) and the chain's method; label
accuracy and exact match. Boxes: one worker's boxes (the baseline), fusion
with equal weights and the chain's quality-weighted fusion; mean IoU and
precision/recall at IoU 0.5, per class. With --synthetic the shipped
synthetic rating, multi-label and box sets (datasets/labels) run too.
Seconds are the fastest of --repeat runs of the method alone (no loading).

With --close-items N (0: skip) a job of N items and 5 answers each is closed
on the chain's state machine: the close runs over blocks, a bounded amount
of work in each; the longest and mean block times of the close are printed
beside those of empty blocks measured in the same run. --close-typed closes
typed jobs of the same size too (3 answers an item, 100 workers): rating,
box, both (rating,box) or none.`,
		Example: `  tenun bench labels
  tenun bench labels --data ../shared/crowd --close-items 0 -o json
  tenun bench labels --data ./my-sets --synthetic=false --repeat 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if repeat < 1 {
				return fmt.Errorf("--repeat %d: want at least 1", repeat)
			}
			if dataDir == "none" {
				dataDir = ""
			} else if dataDir == "" {
				d, ok := findUp(filepath.Join("shared", "crowd"))
				if !ok {
					return fmt.Errorf("no crowd label sets found (a shared/crowd folder here or above): pass --data DIR")
				}
				dataDir = d
			}
			typed, terr := closeTasks(closeTyped)
			if terr != nil {
				return terr
			}
			if closeItems < 0 {
				return fmt.Errorf("--close-items %d: want 0 (skip) or more", closeItems)
			}
			progress := cmd.ErrOrStderr()
			if quiet {
				progress = io.Discard
			}
			var rep labelBenchReport
			var err error
			if dataDir != "" {
				if rep.Choice, rep.Typed, err = benchLabels(dataDir, repeat, progress); err != nil {
					return err
				}
			}
			if synthetic {
				for _, name := range labelsets.Sets {
					fmt.Fprintf(progress, "bench labels: synthetic %s\n", name)
					rows, err := benchTypedSet(labelsets.FS(), name, "synth/"+name, repeat)
					if err != nil {
						return err
					}
					rep.Typed = append(rep.Typed, rows...)
				}
			}
			if closeItems > 0 {
				if rep.Close, err = benchLabelClose(closeItems, progress); err != nil {
					return err
				}
				for _, task := range typed {
					r, err := benchTypedClose(task, closeItems, progress)
					if err != nil {
						return err
					}
					rep.TypedCloses = append(rep.TypedCloses, r)
				}
			}
			return emit(cmd.OutOrStdout(), rep, func(w io.Writer) {
				if len(rep.Choice) > 0 {
					printLabelBench(w, rep.Choice)
				}
				if len(rep.Typed) > 0 {
					fmt.Fprintln(w)
					printTypedBench(w, rep.Typed)
				}
				if rep.Close != nil {
					fmt.Fprintln(w)
					printLabelClose(w, rep.Close)
				}
				for _, r := range rep.TypedCloses {
					fmt.Fprintln(w)
					printLabelClose(w, r)
				}
			})
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "folder of data sets, one sub-folder each (default: shared/crowd in this folder or a parent; none: only the synthetic sets)")
	cmd.Flags().IntVar(&repeat, "repeat", 3, "runs per method; the fastest is reported")
	cmd.Flags().BoolVar(&synthetic, "synthetic", true, "also score the shipped synthetic rating, multi-label and box sets")
	cmd.Flags().IntVar(&closeItems, "close-items", 20_000, "items of the job whose close is measured block by block (0: skip; up to 100,000, whose set-up takes long)")
	cmd.Flags().StringVar(&closeTyped, "close-typed", "rating,box", "typed jobs of --close-items items whose close is measured too: rating, box, rating,box or none")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress lines on stderr")
	return cmd
}

// benchLabels runs every method on every data set under dir, by the task
// type of its task.json.
func benchLabels(dir string, repeat int, progress io.Writer) ([]labelBenchRow, []typedBenchRow, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("bench labels: %w", err)
	}
	var rows []labelBenchRow
	var typed []typedBenchRow
	fsys := os.DirFS(dir)
	for _, e := range entries { // ReadDir sorts by name
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		task, err := truth.ReadTask(fsys, e.Name())
		if err != nil {
			return nil, nil, fmt.Errorf("bench labels: %w", err)
		}
		if !hasFiles(sub, "answers.csv", "truth.csv") {
			fmt.Fprintf(progress, "bench labels: skipping %s: no answers.csv and truth.csv\n", sub)
			continue
		}
		fmt.Fprintf(progress, "bench labels: %s (%s)\n", e.Name(), task.Kind)
		if task.Kind != truth.SetChoice {
			setRows, err := benchTypedSet(fsys, e.Name(), e.Name(), repeat)
			if err != nil {
				return nil, nil, err
			}
			typed = append(typed, setRows...)
			continue
		}
		setRows, err := benchLabelSet(sub, e.Name(), repeat)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, setRows...)
	}
	if len(rows) == 0 && len(typed) == 0 {
		return nil, nil, fmt.Errorf("bench labels: no data sets under %s", dir)
	}
	return rows, typed, nil
}

func hasFiles(dir string, names ...string) bool {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return false
		}
	}
	return true
}

// timed runs f repeat times and returns the last result and the fastest time.
func timed[T any](repeat int, f func() (T, error)) (T, float64, error) {
	var out T
	best := -1.0
	for range repeat {
		start := time.Now()
		r, err := f()
		s := time.Since(start).Seconds()
		if err != nil {
			return out, 0, err
		}
		out = r
		if best < 0 || s < best {
			best = s
		}
	}
	return out, best, nil
}

func benchLabelSet(dir, name string, repeat int) ([]labelBenchRow, error) {
	d, err := truth.LoadDir(dir, truth.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("bench labels: %w", err)
	}
	a := &d.Answers
	pos, ok := d.ClassIndex("1")
	binary := ok && a.Classes == 2
	if !ok {
		pos = truth.NoLabel
	}
	row := func(method string, s truth.Score, secs float64, answers, iters int) labelBenchRow {
		r := labelBenchRow{Dataset: name, Method: method, Seconds: secs, Answers: answers, Scored: s.Scored, Iterations: iters}
		if s.Scored > 0 {
			r.Accuracy = 100 * float64(s.Correct) / float64(truth.One) / float64(s.Scored)
		}
		if d := 2*s.TP + s.FP + s.FN; binary && d > 0 {
			f1 := 100 * 2 * float64(s.TP) / float64(d)
			r.F1 = &f1
		}
		if secs > 0 {
			r.AnswersPerSecond = float64(answers) / secs
		}
		key := method
		if method == "dawid-skene-float" {
			key = "dawid-skene"
		}
		if p, ok := publishedLabels[name][key]; ok {
			r.Published, r.PublishedMethod = &p.acc, p.method
			if p.f1 > 0 {
				r.PublishedF1 = &p.f1
			}
		}
		return r
	}
	fixed := func(method string, run func(*truth.Answers, truth.Options) (*truth.Result, error)) (labelBenchRow, error) {
		r, secs, err := timed(repeat, func() (*truth.Result, error) { return run(a, truth.Options{}) })
		if err != nil {
			return labelBenchRow{}, fmt.Errorf("bench labels: %s on %s: %w", method, name, err)
		}
		return row(method, truth.Evaluate(r, d.Truth, pos), secs, len(a.List), r.Iterations), nil
	}

	var rows []labelBenchRow
	mv, err := fixed("majority", truth.MajorityVote)
	if err != nil {
		return nil, err
	}
	rows = append(rows, mv)
	if wv, ok, err := benchWeighted(dir, name, repeat, pos, row); err != nil {
		return nil, err
	} else if ok {
		rows = append(rows, wv)
	}
	ds, err := fixed("dawid-skene", truth.DawidSkene)
	if err != nil {
		return nil, err
	}
	best, err := fixed("best", truth.Best)
	if err != nil {
		return nil, err
	}
	fr, fsecs, _ := timed(repeat, func() (*floatref.Result, error) { return floatref.DawidSkene(a, floatref.DSOptions{}), nil })
	fs := floatref.Evaluate(a, fr, d.Truth, pos)
	fl := row("dawid-skene-float", truth.Score{Scored: fs.Scored}, fsecs, len(a.List), fr.Iterations)
	fl.Accuracy = 100 * fs.Accuracy
	if binary {
		f1 := 100 * fs.F1
		fl.F1 = &f1
	}
	if fsecs > 0 {
		ratio := report.Ratio(ds.Seconds, fsecs)
		ds.FixedOverFloat = &ratio
	}
	return append(rows, ds, best, fl), nil
}

// benchWeighted runs the gold-weighted vote where the set has qualification
// files; ok is false where it has none.
func benchWeighted(dir, name string, repeat, pos int,
	row func(string, truth.Score, float64, int, int) labelBenchRow) (labelBenchRow, bool, error) {
	if !hasFiles(dir, "qualification_answers.csv", "qualification_truth.csv") {
		return labelBenchRow{}, false, nil
	}
	g, err := truth.LoadDir(dir, truth.LoadOptions{Qualification: true})
	if err != nil {
		return labelBenchRow{}, false, fmt.Errorf("bench labels: %w", err)
	}
	opt := truth.Options{Gold: g.Gold}
	r, secs, err := timed(repeat, func() (*truth.Result, error) { return truth.WeightedVote(&g.Answers, nil, opt) })
	if err != nil {
		return labelBenchRow{}, false, fmt.Errorf("bench labels: weighted vote on %s: %w", name, err)
	}
	return row("weighted", truth.Evaluate(r, g.Truth, pos), secs, len(g.Answers.List), 0), true, nil
}

func printLabelBench(w io.Writer, rows []labelBenchRow) {
	tw := report.Table(w)
	last := ""
	var ratio *float64
	flush := func() {
		tw.Flush()
		if ratio != nil {
			fmt.Fprintf(w, "fixed-point DS time / float64 DS time: %.2f\n", *ratio)
		}
	}
	for _, r := range rows {
		if r.Dataset != last {
			if last != "" {
				flush()
				fmt.Fprintln(w)
			}
			last, ratio = r.Dataset, nil
			fmt.Fprintf(w, "%s: %d items scored\n", r.Dataset, r.Scored)
			fmt.Fprintln(tw, "method\taccuracy %\tF1(1) %\tseconds\tanswers/s\titers\tpublished")
		}
		if r.FixedOverFloat != nil {
			ratio = r.FixedOverFloat
		}
		f1 := "-"
		if r.F1 != nil {
			f1 = fmt.Sprintf("%.2f", *r.F1)
		}
		pub := "-"
		if r.Published != nil {
			pub = fmt.Sprintf("%.2f", *r.Published)
			if r.PublishedF1 != nil {
				pub += fmt.Sprintf(" (%.2f)", *r.PublishedF1)
			}
			pub += " " + r.PublishedMethod
		}
		iters := "-"
		if r.Iterations > 0 {
			iters = fmt.Sprint(r.Iterations)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%.6f\t%s\t%s\t%s\n", r.Method, r.Accuracy, f1, r.Seconds, humanRate(r.AnswersPerSecond), iters, pub)
	}
	flush()
}

// humanRate prints a rate with a k/M suffix.
func humanRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.0f", v), ".")
}
