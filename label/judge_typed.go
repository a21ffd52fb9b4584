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
	rs, opt := ratingInput(j, len(workers), rev, gold)
	res, err := truth.RatingEM(&rs, opt)
	if err != nil {
		return err
	}
	accepted := ratingScores(j, workers, rev, gold, &rs, res, v)
	if len(accepted.List) == 0 {
		return nil
	}
	if len(accepted.List) < len(rs.List) {
		if res, err = truth.RatingEM(&accepted, opt); err != nil {
			return err
		}
	}
	ratingItems(res, v)
	return nil
}

// ratingInput is rev as the rating inference's input, with the gold.
func ratingInput(j *Job, workers int, rev []revealedAnswer, gold *goldSet) (truth.Ratings, truth.RatingOptions) {
	rs := truth.Ratings{Items: int(j.ItemCount), Workers: workers, Min: j.RatingMin, Max: j.RatingMax, List: make([]truth.Rating, 0, len(rev))}
	for _, r := range rev {
		rs.List = append(rs.List, truth.Rating{Item: int(r.task.Item), Worker: r.worker, Value: r.task.Value})
	}
	opt := truth.RatingOptions{MaxIter: InferenceMaxIter}
	if gold != nil {
		opt.Gold, opt.HasGold = gold.values, gold.has
	}
	return rs, opt
}

// ratingScores scores every worker from the first pass res over rs, and
// returns the answers accepted for the second pass.
func ratingScores(j *Job, workers []Worker, rev []revealedAnswer, gold *goldSet, rs *truth.Ratings, res *truth.RatingResult, v *verdict) truth.Ratings {
	bar := truth.Ratio(uint64(j.QualityPPM), ppm)
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
	return acceptedRatings(rs, v.scores, bar)
}

// acceptedRatings is rs without the answers of workers scored below bar.
func acceptedRatings(rs *truth.Ratings, scores []truth.Prob, bar truth.Prob) truth.Ratings {
	accepted := *rs
	accepted.List = nil
	for _, x := range rs.List {
		if scores[x.Worker] >= bar {
			accepted.List = append(accepted.List, x)
		}
	}
	return accepted
}

// ratingItems records the values of res as the items' verdicts.
func ratingItems(res *truth.RatingResult, v *verdict) {
	v.method = "rating/" + res.Method
	for i, it := range res.Items {
		if res.HasValue(i) {
			v.items[i] = ItemResult{Item: uint32(i), Label: 0, Value: it.Value, ConfidencePPM: ppm, Votes: uint32(it.Votes), Gold: it.Gold}
		}
	}
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

// boxEMRounds is the rounds of truth.BoxEM at close.
const boxEMRounds = 3

// judgeBox: boxes. Answers are matched across workers by IoU and fused
// weighted by each worker's quality (truth.BoxEM, gold clamped); a
// worker's quality is its boxes' IoU and recall against the gold boxes and
// the boxes the others drew (truth.BoxQuality); the final boxes are fused
// from the accepted answers only, weighted by quality.
func judgeBox(j *Job, workers []Worker, rev []revealedAnswer, gold *goldSet, v *verdict) error {
	a, opt := boxInput(j, len(workers), rev, gold)
	res, err := truth.BoxEM(&a, boxEMRounds, opt)
	if err != nil {
		return err
	}
	weights := boxScores(j, workers, rev, gold, &opt, res, v)
	accepted := acceptedBoxes(&a, v.scores, truth.Ratio(uint64(j.QualityPPM), ppm))
	if len(accepted.List) == 0 {
		return nil
	}
	if res, err = truth.FuseBoxes(&accepted, weights, opt); err != nil {
		return err
	}
	v.method = "box/" + res.Method
	boxItems(res.Items, 0, v)
	return nil
}

// boxInput is rev as the box fusion's input, with the gold.
func boxInput(j *Job, workers int, rev []revealedAnswer, gold *goldSet) (truth.BoxAnswers, truth.BoxOptions) {
	a := truth.BoxAnswers{Items: int(j.ItemCount), Workers: workers, Classes: len(j.Labels), List: make([]truth.BoxAnswer, 0, len(rev))}
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
	return a, opt
}

// boxScores scores every worker from the fusion res and returns the
// weights of the final fusion.
func boxScores(j *Job, workers []Worker, rev []revealedAnswer, gold *goldSet, opt *truth.BoxOptions, res *truth.BoxResult, v *verdict) []truth.Prob {
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
	return weights
}

// acceptedBoxes is a without the answers of workers scored below bar.
func acceptedBoxes(a *truth.BoxAnswers, scores []truth.Prob, bar truth.Prob) truth.BoxAnswers {
	accepted := *a
	accepted.List = slices.DeleteFunc(slices.Clone(a.List), func(x truth.BoxAnswer) bool { return scores[x.Worker] < bar })
	return accepted
}

// boxItems records fused items from, from+1, ... as their verdicts.
func boxItems(items []truth.BoxItem, from int, v *verdict) {
	for n, it := range items {
		if i := from + n; it.Votes > 0 || it.Gold {
			v.items[i] = ItemResult{Item: uint32(i), Label: 0, Boxes: fromTruthBoxes(it.Boxes), ConfidencePPM: ppm, Votes: uint32(it.Votes), Gold: it.Gold}
		}
	}
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
