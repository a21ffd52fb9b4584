package label

import (
	"slices"

	"github.com/tenun-chain/tenun/label/truth"
)

// ReasonLazy is the slash reason of a box worker below the bar who drew at
// most one box on every image.
const ReasonLazy = "one box per image"

// revealScale scales a quality by the share of a worker's commits it
// revealed: withheld answers count as wrong.
func revealScale(w *Worker, q truth.Prob) truth.Prob {
	if w.Committed == 0 {
		return 0
	}
	return truth.Prob(uint64(q) * uint64(w.Revealed) / uint64(w.Committed))
}

// judgeRating: numeric ratings. The values are the EM model of per-worker
// bias and noise (gold clamped); a worker's quality is its mean absolute
// error against the gold and the inferred values (truth.RatingWorker);
// the values come from a second pass over the accepted answers.
func judgeRating(j *Job, workers []Worker, rev []revealedAnswer, gold *goldSet, v *verdict) error {
	rs := truth.Ratings{Items: int(j.ItemCount), Workers: len(workers), Min: j.RatingMin, Max: j.RatingMax}
	for _, r := range rev {
		rs.List = append(rs.List, truth.Rating{Item: int(r.task.Item), Worker: r.worker, Value: r.task.Value})
	}
	opt := truth.RatingOptions{MaxIter: InferenceMaxIter}
	if gold != nil {
		opt.Gold, opt.HasGold = gold.values, gold.has
	}
	res, err := truth.RatingEM(&rs, opt)
	if err != nil {
		return err
	}
	bar := truth.Ratio(uint64(j.QualityPPM), ppm)
	accepted := rs
	accepted.List = nil
	copied := copiers(rev, int(j.ItemCount), len(workers), func(a, b *Task) bool { return a.Value == b.Value })
	for i := range workers {
		wr := &res.Workers[i]
		v.scores[i] = revealScale(&workers[i], wr.Quality)
		v.accuracy[i] = wr.Quality
		v.goldAnswers[i] = uint32(wr.GoldAnswers)
		switch {
		case wr.Constant:
			v.reasons[i] = ReasonOneLabel
		case copied[i]:
			v.scores[i], v.reasons[i] = 0, ReasonCopy
		}
	}
	// Gold answers within a twentieth of the span count as correct.
	for _, r := range rev {
		if gold != nil && gold.has[r.task.Item] && 20*abs(r.task.Value-gold.values[r.task.Item]) <= j.RatingMax-j.RatingMin {
			v.goldCorrect[r.worker]++
		}
	}
	for _, x := range rs.List {
		if v.scores[x.Worker] >= bar {
			accepted.List = append(accepted.List, x)
		}
	}
	if len(accepted.List) == 0 {
		return nil
	}
	if len(accepted.List) < len(rs.List) {
		if res, err = truth.RatingEM(&accepted, opt); err != nil {
			return err
		}
	}
	v.method = "rating/" + res.Method
	for i, it := range res.Items {
		if res.HasValue(i) {
			v.items[i] = ItemResult{Item: uint32(i), Label: 0, Value: it.Value, ConfidencePPM: ppm, Votes: uint32(it.Votes), Gold: it.Gold}
		}
	}
	return nil
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func toTruthBoxes(bs []Box) []truth.Box {
	out := make([]truth.Box, len(bs))
	for i, b := range bs {
		out[i] = truth.Box{X: int64(b.X), Y: int64(b.Y), W: int64(b.W), H: int64(b.H), Class: int(b.Class)}
	}
	return out
}

func fromTruthBoxes(bs []truth.Box) []Box {
	out := make([]Box, len(bs))
	for i, b := range bs {
		out[i] = Box{X: uint32(b.X), Y: uint32(b.Y), W: uint32(b.W), H: uint32(b.H), Class: uint32(b.Class)}
	}
	return out
}

// judgeBox: boxes. Answers are matched across workers by IoU and fused
// weighted by each worker's quality (truth.BoxEM, gold clamped); a
// worker's quality is its boxes' IoU and recall against the gold boxes and
// the boxes the others drew (truth.BoxQuality); the final boxes are fused
// from the accepted answers only, weighted by quality.
func judgeBox(j *Job, workers []Worker, rev []revealedAnswer, gold *goldSet, v *verdict) error {
	a := truth.BoxAnswers{Items: int(j.ItemCount), Workers: len(workers), Classes: len(j.Labels)}
	for _, r := range rev {
		a.List = append(a.List, truth.BoxAnswer{Item: int(r.task.Item), Worker: r.worker, Boxes: toTruthBoxes(r.task.Boxes)})
	}
	var opt truth.BoxOptions
	if gold != nil {
		opt.HasGold = gold.has
		opt.Gold = make([][]truth.Box, len(gold.has))
		for i, bs := range gold.boxes {
			opt.Gold[i] = toTruthBoxes(bs)
		}
	}
	res, err := truth.BoxEM(&a, 3, opt)
	if err != nil {
		return err
	}
	bar := truth.Ratio(uint64(j.QualityPPM), ppm)
	weights := make([]truth.Prob, len(workers))
	copied := copiers(rev, int(j.ItemCount), len(workers), func(a, b *Task) bool {
		return len(a.Boxes) > 0 && slices.Equal(a.Boxes, b.Boxes)
	})
	for i := range workers {
		wr := &res.Workers[i]
		v.scores[i] = revealScale(&workers[i], wr.Quality)
		v.accuracy[i] = wr.MeanIoU
		v.goldAnswers[i] = uint32(wr.GoldAnswers)
		weights[i] = wr.Quality
		switch {
		case wr.Constant:
			v.reasons[i] = ReasonOneLabel
		case copied[i]:
			v.scores[i], v.reasons[i], weights[i] = 0, ReasonCopy, 0
		case wr.Single:
			v.reasons[i] = ReasonLazy
		}
	}
	// A gold answer is correct when it scores at least MatchIoU.
	for _, r := range rev {
		if gold != nil && gold.has[r.task.Item] && truth.BoxQuality(toTruthBoxes(r.task.Boxes), opt.Gold[r.task.Item]) >= truth.MatchIoU {
			v.goldCorrect[r.worker]++
		}
	}
	accepted := a
	accepted.List = slices.DeleteFunc(slices.Clone(a.List), func(x truth.BoxAnswer) bool { return v.scores[x.Worker] < bar })
	if len(accepted.List) == 0 {
		return nil
	}
	if res, err = truth.FuseBoxes(&accepted, weights, opt); err != nil {
		return err
	}
	v.method = "box/" + res.Method
	for i, it := range res.Items {
		if it.Votes > 0 || it.Gold {
			v.items[i] = ItemResult{Item: uint32(i), Label: 0, Boxes: fromTruthBoxes(it.Boxes), ConfidencePPM: ppm, Votes: uint32(it.Votes), Gold: it.Gold}
		}
	}
	return nil
}

// ReasonCopy is the slash reason of a worker whose answers repeat another
// worker's exactly.
const ReasonCopy = "copied another worker"

// copyMinShared and copyShare: a worker copied another when they share at
// least copyMinShared items and at least 9 in 10 of its answers to them
// are exactly the other's. Honest ratings with noise agree exactly a few
// times in a hundred, hand-drawn boxes almost never; so only the copy of
// a colluder (answers cannot be seen before commit) gets this far.
const copyMinShared = 3

// copiers marks the workers who copied another worker's answers (same
// reports two identical answers), the later committer of each such pair
// (the later joiner on a tie). O(answers x answers per item), with a
// workers x workers table (MaxWorkers²).
func copiers(rev []revealedAnswer, items, workers int, same func(a, b *Task) bool) []bool {
	byItem := make([][]int, items)
	for n, r := range rev {
		byItem[r.task.Item] = append(byItem[r.task.Item], n)
	}
	shared := make([]uint32, workers*workers)
	equal := make([]uint32, workers*workers)
	later := make([]int32, workers*workers) // [a*w+b]: identical answers b committed after a, minus the reverse
	for _, ids := range byItem {
		for x, p := range ids {
			for _, q := range ids[x+1:] {
				a, b := rev[p], rev[q]
				if a.worker > b.worker {
					a, b = b, a
				}
				k := a.worker*workers + b.worker
				shared[k]++
				if same(&a.task, &b.task) {
					equal[k]++
					switch {
					case b.task.Committed > a.task.Committed:
						later[k]++
					case b.task.Committed < a.task.Committed:
						later[k]--
					}
				}
			}
		}
	}
	out := make([]bool, workers)
	for a := range workers {
		for b := a + 1; b < workers; b++ {
			k := a*workers + b
			if shared[k] < copyMinShared || 10*equal[k] < 9*shared[k] {
				continue
			}
			if later[k] >= 0 {
				out[b] = true
			} else {
				out[a] = true
			}
		}
	}
	return out
}
