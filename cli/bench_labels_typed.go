package cli

import (
	"fmt"
	"io"
	"io/fs"
	"text/tabwriter"

	"github.com/tenun-chain/tenun/bench/report"
	"github.com/tenun-chain/tenun/label/truth"
)

// typedBenchRow is one method on one rating, multi-label or box set, beside
// the set's plain baseline measured in the same run: the mean for ratings,
// one worker's boxes for boxes, the per-label majority for multi-label.
type typedBenchRow struct {
	Dataset  string  `json:"dataset"`
	Kind     string  `json:"kind"`
	Method   string  `json:"method"`
	Baseline bool    `json:"baseline"`
	Items    int     `json:"items"`
	Answers  int     `json:"answers"`
	Seconds  float64 `json:"seconds"`
	// Ratings: mean absolute and root mean square error against the truth,
	// in rating steps; ErrorOverBaseline is MAE / the mean's MAE.
	MAE  *float64 `json:"mae,omitempty"`
	RMSE *float64 `json:"rmse,omitempty"`
	// Boxes: mean IoU over the true boxes, precision and recall at IoU 0.5
	// over all classes and per class; IoUOverBaseline is mean IoU / the
	// single worker's.
	MeanIoU   *float64       `json:"mean_iou,omitempty"`
	Precision *float64       `json:"precision,omitempty"`
	Recall    *float64       `json:"recall,omitempty"`
	PerClass  []classPRecall `json:"per_class,omitempty"`
	// Multi-label: accuracy over (item, label) pairs and the share of items
	// whose every label is right, in percent.
	LabelAccuracy *float64 `json:"label_accuracy,omitempty"`
	ExactMatch    *float64 `json:"exact_match,omitempty"`
	// OverBaseline: the baseline's error / this method's (ratings: MAE;
	// multi-label: label errors), or this method's mean IoU / the
	// baseline's (boxes): above 1 is better than the baseline.
	OverBaseline float64 `json:"over_baseline"`
}

type classPRecall struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
}

func ptr(v float64) *float64 { return &v }

// benchTypedSet scores every method of the set's kind.
func benchTypedSet(fsys fs.FS, dir, name string, repeat int) ([]typedBenchRow, error) {
	s, err := truth.LoadTyped(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("bench labels: %w", err)
	}
	var rows []typedBenchRow
	switch s.Task.Kind {
	case truth.SetRating:
		rows, err = benchRatings(s, name, repeat)
	case truth.SetMulti:
		rows, err = benchMulti(s, name, repeat)
	default:
		rows, err = benchBoxes(s, name, repeat)
	}
	if err != nil {
		return nil, fmt.Errorf("bench labels: %s: %w", name, err)
	}
	return rows, nil
}

func benchRatings(s *truth.TypedSet, name string, repeat int) ([]typedBenchRow, error) {
	r := s.Ratings
	type method struct {
		name string
		run  func() (*truth.RatingResult, error)
	}
	methods := []method{
		{"mean", func() (*truth.RatingResult, error) { return truth.RatingWeightedMean(r, nil, truth.RatingOptions{}) }},
		{"median", func() (*truth.RatingResult, error) { return truth.RatingMedian(r, truth.RatingOptions{}) }},
		{"em (bias+noise)", func() (*truth.RatingResult, error) { return truth.RatingEM(r, truth.RatingOptions{}) }},
		{"quality-weighted mean", func() (*truth.RatingResult, error) {
			em, err := truth.RatingEM(r, truth.RatingOptions{})
			if err != nil {
				return nil, err
			}
			w := make([]truth.Prob, r.Workers)
			for i := range w {
				w[i] = em.Workers[i].Quality
			}
			return truth.RatingWeightedMean(r, w, truth.RatingOptions{})
		}},
	}
	var rows []typedBenchRow
	var base float64
	for n, m := range methods {
		res, secs, err := timed(repeat, m.run)
		if err != nil {
			return nil, err
		}
		sc := truth.EvaluateRatings(res, s.RatingTruth, s.HasTruth)
		mae, rmse := float64(sc.MAEMilli)/1000, float64(sc.RMSEMilli)/1000
		if n == 0 {
			base = mae
		}
		row := typedBenchRow{Dataset: name, Kind: s.Task.Kind, Method: m.name, Baseline: n == 0, Items: sc.Scored,
			Answers: len(r.List), Seconds: secs, MAE: ptr(mae), RMSE: ptr(rmse)}
		if mae > 0 {
			row.OverBaseline = base / mae
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func benchMulti(s *truth.TypedSet, name string, repeat int) ([]typedBenchRow, error) {
	m := s.Multi
	a := m.Binary()
	k := m.Labels
	var rows []typedBenchRow
	var baseErr float64
	for n, method := range []struct {
		name string
		run  func(*truth.Answers, truth.Options) (*truth.Result, error)
	}{{"majority per label", truth.MajorityVote}, {"best (one binary job)", truth.Best}} {
		res, secs, err := timed(repeat, func() (*truth.Result, error) { return method.run(a, truth.Options{}) })
		if err != nil {
			return nil, err
		}
		var right, pairs, exact, items int
		for i := range m.Items {
			if !s.HasTruth[i] {
				continue
			}
			items++
			all := true
			for l := range k {
				pairs++
				if res.Items[i*k+l].Label == int(s.MultiTruth[i]>>l&1) {
					right++
				} else {
					all = false
				}
			}
			if all {
				exact++
			}
		}
		acc := 100 * float64(right) / float64(max(pairs, 1))
		if n == 0 {
			baseErr = 100 - acc
		}
		row := typedBenchRow{Dataset: name, Kind: s.Task.Kind, Method: method.name, Baseline: n == 0, Items: items,
			Answers: len(m.List), Seconds: secs, LabelAccuracy: ptr(acc), ExactMatch: ptr(100 * float64(exact) / float64(max(items, 1)))}
		if acc < 100 {
			row.OverBaseline = baseErr / (100 - acc)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func benchBoxes(s *truth.TypedSet, name string, repeat int) ([]typedBenchRow, error) {
	a := s.Boxes
	// Baseline: each image's first answer alone (answers come in a random
	// worker order), as a job with one worker per image would get.
	single := func() ([][]truth.Box, error) {
		out := make([][]truth.Box, a.Items)
		seen := make([]bool, a.Items)
		for _, x := range a.List {
			if !seen[x.Item] {
				out[x.Item], seen[x.Item] = x.Boxes, true
			}
		}
		return out, nil
	}
	fused := func(run func() (*truth.BoxResult, error)) func() ([][]truth.Box, error) {
		return func() ([][]truth.Box, error) {
			res, err := run()
			if err != nil {
				return nil, err
			}
			out := make([][]truth.Box, a.Items)
			for i, it := range res.Items {
				out[i] = it.Boxes
			}
			return out, nil
		}
	}
	var rows []typedBenchRow
	var base float64
	for n, m := range []struct {
		name string
		run  func() ([][]truth.Box, error)
	}{
		{"single worker", single},
		{"fuse (equal weights)", fused(func() (*truth.BoxResult, error) { return truth.FuseBoxes(a, nil, truth.BoxOptions{}) })},
		{"em (quality-weighted fuse)", fused(func() (*truth.BoxResult, error) { return truth.BoxEM(a, 3, truth.BoxOptions{}) })},
	} {
		pred, secs, err := timed(repeat, m.run)
		if err != nil {
			return nil, err
		}
		sc := truth.EvaluateBoxes(pred, s.BoxTruth, s.HasTruth, a.Classes)
		iou := float64(sc.MeanIoU) / float64(truth.One)
		if n == 0 {
			base = iou
		}
		row := typedBenchRow{Dataset: name, Kind: s.Task.Kind, Method: m.name, Baseline: n == 0, Items: sc.Items,
			Answers: len(a.List), Seconds: secs, MeanIoU: ptr(iou)}
		var tp, fp, fn int
		for c := range a.Classes {
			tp, fp, fn = tp+sc.TP[c], fp+sc.FP[c], fn+sc.FN[c]
			row.PerClass = append(row.PerClass, classPRecall{Class: s.Task.Labels[c], TP: sc.TP[c], FP: sc.FP[c], FN: sc.FN[c],
				Precision: frac(sc.TP[c], sc.TP[c]+sc.FP[c]), Recall: frac(sc.TP[c], sc.TP[c]+sc.FN[c])})
		}
		row.Precision, row.Recall = ptr(frac(tp, tp+fp)), ptr(frac(tp, tp+fn))
		if base > 0 {
			row.OverBaseline = iou / base
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func printTypedBench(w io.Writer, rows []typedBenchRow) {
	last := ""
	var tw *tabwriter.Writer
	for _, r := range rows {
		if r.Dataset != last {
			if tw != nil {
				tw.Flush()
				fmt.Fprintln(w)
			}
			last = r.Dataset
			tw = report.Table(w)
			fmt.Fprintf(w, "%s (%s): %d items, %d answers\n", r.Dataset, r.Kind, r.Items, r.Answers)
			switch r.Kind {
			case truth.SetRating:
				fmt.Fprintln(tw, "method\tMAE\tRMSE\tseconds\tvs baseline")
			case truth.SetMulti:
				fmt.Fprintln(tw, "method\tlabel accuracy %\texact match %\tseconds\tvs baseline")
			default:
				fmt.Fprintln(tw, "method\tmean IoU\tP@0.5\tR@0.5\tper class P/R@0.5\tseconds\tvs baseline")
			}
		}
		vs := "baseline"
		if !r.Baseline {
			vs = fmt.Sprintf("%.2fx", r.OverBaseline)
		}
		switch r.Kind {
		case truth.SetRating:
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.4f\t%s\n", r.Method, *r.MAE, *r.RMSE, r.Seconds, vs)
		case truth.SetMulti:
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.4f\t%s\n", r.Method, *r.LabelAccuracy, *r.ExactMatch, r.Seconds, vs)
		default:
			pc := ""
			for _, c := range r.PerClass {
				pc += fmt.Sprintf("%s %.2f/%.2f ", c.Class, c.Precision, c.Recall)
			}
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%s\t%.4f\t%s\n", r.Method, *r.MeanIoU, *r.Precision, *r.Recall, pc, r.Seconds, vs)
		}
	}
	if tw != nil {
		tw.Flush()
	}
}
