package label

import (
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/label/truth"
)

// verdict is what the judgement at close decided: a result per item and,
// per worker, its score in [0, One], the figures recorded with it, and the
// reason it is slashed for if the score is below the job's bar.
type verdict struct {
	method                   string
	items                    []ItemResult
	scores, accuracy         []truth.Prob
	goldAnswers, goldCorrect []uint32
	reasons                  []string
}

func newVerdict(j *Job, workers int, gold *goldSet) *verdict {
	v := &verdict{method: "none", items: make([]ItemResult, j.ItemCount), scores: make([]truth.Prob, workers),
		accuracy: make([]truth.Prob, workers), goldAnswers: make([]uint32, workers), goldCorrect: make([]uint32, workers),
		reasons: make([]string, workers)}
	for i := range v.items {
		v.items[i] = ItemResult{Item: uint32(i), Label: -1}
		if gold != nil && gold.has[i] {
			v.items[i] = ItemResult{Item: uint32(i), Label: int32(gold.labels[i]), ConfidencePPM: ppm, Gold: true,
				Value: gold.values[i], Boxes: gold.boxes[i]}
			if j.TaskType() == TaskRating || j.TaskType() == TaskBox {
				v.items[i].Label = 0
			}
		}
	}
	return v
}

// judge runs the task type's inference over the revealed answers.
func judge(kv store.KV, j *Job, workers []Worker, gold *goldSet) (*verdict, error) {
	v := newVerdict(j, len(workers), gold)
	rev := collectRevealed(kv, j, workers)
	if len(rev) == 0 {
		return v, nil
	}
	var err error
	switch j.TaskType() {
	case TaskMulti:
		err = judgeMulti(j, workers, rev, gold, v)
	case TaskRating:
		err = judgeRating(j, workers, rev, gold, v)
	case TaskBox:
		err = judgeBox(j, workers, rev, gold, v)
	default:
		err = judgeChoice(j, workers, rev, gold, v)
	}
	return v, err
}

// revealedAnswer is one revealed task and its worker's join index.
type revealedAnswer struct {
	worker int
	task   Task
}

// collectRevealed gathers the job's revealed answers, in key order.
func collectRevealed(kv store.KV, j *Job, workers []Worker) []revealedAnswer {
	index := make(map[chain.Address]int, len(workers)) // lookups only
	for i, w := range workers {
		index[w.Address] = i
	}
	var out []revealedAnswer
	p := taskPrefix(j.ID)
	chain.Each(kv, p, func(k []byte, t Task) bool {
		if t.State != TaskRevealed {
			return true
		}
		if w, ok := index[chain.AddressFromBytes(k[len(p):len(p)+chain.AddressLen])]; ok {
			out = append(out, revealedAnswer{worker: w, task: t})
		}
		return true
	})
	return out
}

// collectAnswers gathers the revealed answers in the inference's dense form
// (workers by join index) and counts each worker's distinct labels.
func collectAnswers(kv store.KV, j *Job, workers []Worker) (truth.Answers, [][]uint32) {
	return classAnswers(j, len(workers), collectRevealed(kv, j, workers), func(t *Task) int { return int(t.Label) }, len(j.Labels))
}

// classAnswers is rev as class answers, class(t) of k classes each.
func classAnswers(j *Job, workers int, rev []revealedAnswer, class func(*Task) int, k int) (truth.Answers, [][]uint32) {
	a := truth.Answers{Items: int(j.ItemCount), Workers: workers, Classes: k}
	perLabel := make([][]uint32, workers)
	for i := range perLabel {
		perLabel[i] = make([]uint32, k)
	}
	for _, r := range rev {
		c := class(&r.task)
		a.List = append(a.List, truth.Answer{Item: int(r.task.Item), Worker: r.worker, Class: c})
		perLabel[r.worker][c]++
	}
	return a, perLabel
}

// classScores runs the inference over a and scores every worker.
func classScores(a *truth.Answers, gold []int, workers []Worker) (*truth.Result, []truth.Prob, error) {
	tr, err := infer(a, gold)
	if err != nil {
		return nil, nil, err
	}
	scores, err := classScoresFrom(tr, a, gold, workers)
	return tr, scores, err
}

// classScoresFrom scores every worker from the inference tr over a.
func classScoresFrom(tr *truth.Result, a *truth.Answers, gold []int, workers []Worker) ([]truth.Prob, error) {
	var goldRep []truth.Prob
	if gold != nil {
		goldRep, _ = truth.GoldReputation(a, gold) // nil when no answer hit a gold item
	}
	loo, checked := looAccuracy(tr, a)
	scores := make([]truth.Prob, len(workers))
	for i := range workers {
		if !checked[i] {
			loo[i] = tr.Workers[i].Accuracy
		}
		scores[i] = score(&workers[i], &tr.Workers[i], loo[i], goldRep, i)
	}
	return scores, nil
}

// classLabels infers the labels from the accepted answers only: a second
// pass without the workers below the bar, whose answers are rejected (tr
// itself when nobody is). nil: no answer was accepted.
func classLabels(a *truth.Answers, gold []int, scores []truth.Prob, bar truth.Prob, tr *truth.Result) (*truth.Result, error) {
	accepted := truth.Answers{Items: a.Items, Workers: a.Workers, Classes: a.Classes}
	for _, x := range a.List {
		if scores[x.Worker] >= bar {
			accepted.List = append(accepted.List, x)
		}
	}
	switch {
	case len(accepted.List) == len(a.List):
		return tr, nil
	case len(accepted.List) == 0:
		return nil, nil
	}
	return infer(&accepted, gold)
}

// judgeChoice: single choice. The chain runs truth.Best with the gold
// clamped, scores each worker from its leave-one-out accuracy and its gold
// reputation, and takes the labels from the accepted answers.
func judgeChoice(j *Job, workers []Worker, rev []revealedAnswer, gold *goldSet, v *verdict) error {
	a, perLabel := classAnswers(j, len(workers), rev, func(t *Task) int { return int(t.Label) }, len(j.Labels))
	g := gold.classes()
	tr, scores, err := classScores(&a, g, workers)
	if err != nil {
		return err
	}
	v.scores = scores
	for i := range workers {
		wr := &tr.Workers[i]
		v.accuracy[i] = wr.Accuracy
		v.goldAnswers[i], v.goldCorrect[i] = uint32(wr.GoldAnswers), uint32(wr.GoldCorrect)
		v.reasons[i] = reasonFor(&workers[i], wr, perLabel[i])
	}
	items, err := classLabels(&a, g, scores, truth.Ratio(uint64(j.QualityPPM), ppm), tr)
	if err != nil || items == nil {
		return err
	}
	v.method = items.Method
	for i, it := range items.Items {
		v.items[i] = ItemResult{Item: uint32(i), Label: int32(it.Label), ConfidencePPM: uint32(it.Confidence.PPM()), Votes: uint32(it.Votes), Gold: it.Gold}
	}
	return nil
}

// judgeMulti: each (item, label) pair is a yes/no question, and all of
// them are judged as one binary single-choice job, so a worker's
// reliability is learned from all its answers at once. A worker's score is
// its score on that job corrected for chance (kappa: always saying no to
// rare labels earns nothing); an item's result is the mask of the labels
// judged yes, with the least confident label's confidence.
func judgeMulti(j *Job, workers []Worker, rev []revealedAnswer, gold *goldSet, v *verdict) error {
	a, g, st := multiInput(j, len(workers), rev, gold)
	tr, scores, err := classScores(&a, g, workers)
	if err != nil {
		return err
	}
	multiScores(tr, scores, &st, v)
	items, err := classLabels(&a, g, v.scores, truth.Ratio(uint64(j.QualityPPM), ppm), tr)
	if err != nil || items == nil {
		return err
	}
	multiItems(items, len(j.Labels), v)
	return nil
}

// multiStats is what the multi-label scoring counts per worker beside the
// inference: its no and yes answers, its gold answers and those exactly
// right, and whether every answer was the same mask.
type multiStats struct {
	counts                 [][]uint32
	first, answered        []uint32
	constant               []bool
	goldAnswers, goldRight []uint32
}

// multiInput is rev as one binary single-choice job over (item, label)
// pairs, its gold, and the per-worker counts.
func multiInput(j *Job, workers int, rev []revealedAnswer, gold *goldSet) (truth.Answers, []int, multiStats) {
	k := len(j.Labels)
	n := int(j.ItemCount) * k // fits: MaxItems x MaxLabels
	a := truth.Answers{Items: n, Workers: workers, Classes: 2, List: make([]truth.Answer, 0, len(rev)*k)}
	st := multiStats{counts: make([][]uint32, workers), first: make([]uint32, workers), answered: make([]uint32, workers),
		constant: make([]bool, workers), goldAnswers: make([]uint32, workers), goldRight: make([]uint32, workers)}
	for i := range st.counts {
		st.counts[i] = make([]uint32, 2)
	}
	for _, r := range rev {
		w, t := r.worker, &r.task
		for l := range k {
			c := int(t.Label >> l & 1)
			a.List = append(a.List, truth.Answer{Item: int(t.Item)*k + l, Worker: w, Class: c})
			st.counts[w][c]++
		}
		if st.answered[w] == 0 {
			st.first[w], st.constant[w] = t.Label, true
		} else if t.Label != st.first[w] {
			st.constant[w] = false
		}
		st.answered[w]++
		if gold != nil && gold.has[t.Item] {
			st.goldAnswers[w]++
			if int(t.Label) == gold.labels[t.Item] {
				st.goldRight[w]++
			}
		}
	}
	var g []int
	if gold != nil {
		g = make([]int, n)
		for i := range g {
			g[i] = truth.NoLabel
			if item := i / k; gold.has[item] {
				g[i] = gold.labels[item] >> (i % k) & 1
			}
		}
	}
	return a, g, st
}

// multiScores corrects each worker's binary score for chance and names
// the reasons.
func multiScores(tr *truth.Result, scores []truth.Prob, st *multiStats, v *verdict) {
	yes := yesShare(tr)
	for i := range scores {
		wr := &tr.Workers[i]
		v.scores[i] = kappa(scores[i], st.counts[i], yes)
		v.accuracy[i] = wr.Accuracy
		v.goldAnswers[i], v.goldCorrect[i] = st.goldAnswers[i], st.goldRight[i]
		switch {
		case st.constant[i] && st.answered[i] >= 3:
			v.reasons[i] = ReasonOneLabel
		case st.answered[i] >= 3 && wr.Informativeness < randomInformativeness:
			v.reasons[i] = ReasonRandom
		}
	}
}

// multiItems records the binary verdicts of items as masks over k labels.
func multiItems(items *truth.Result, k int, v *verdict) {
	v.method = "multi/" + items.Method
	for i, it := range items.Items {
		if it.Label == truth.NoLabel {
			continue
		}
		item, l := i/k, i%k
		r := &v.items[item]
		if r.Label < 0 || l == 0 {
			*r = ItemResult{Item: uint32(item), Label: 0, ConfidencePPM: ppm, Votes: uint32(it.Votes), Gold: it.Gold}
		}
		r.Label |= int32(it.Label) << l
		r.ConfidencePPM = min(r.ConfidencePPM, uint32(it.Confidence.PPM()))
	}
}

// infer runs truth.Best with the gold clamped. When no item has two answers
// and no answer falls on a gold item, nothing tells a worker's reliability
// apart from the class mix and EM's verdict is arbitrary: then each item
// keeps its answer (majority vote).
func infer(a *truth.Answers, gold []int) (*truth.Result, error) {
	opt := truth.Options{Gold: gold, MaxIter: InferenceMaxIter}
	if needsEM(a, gold) {
		return truth.Best(a, opt)
	}
	return truth.MajorityVote(a, opt)
}

// needsEM reports whether some item has two answers or a gold item an
// answer: only then can EM tell workers apart.
func needsEM(a *truth.Answers, gold []int) bool {
	for i, n := range a.VotesPerItem() {
		if n >= 2 || n > 0 && gold != nil && gold[i] != truth.NoLabel {
			return true
		}
	}
	return false
}

// minConfusion bounds confusion probabilities from below in looAccuracy,
// so that dividing by one stays in 64 bits (2^-16: far below any rate the
// smoothed inference learns for a worker with answers).
const minConfusion = truth.One >> 16

// looAccuracy is each worker's leave-one-out accuracy: the mean, over its
// answers, of the posterior of its label computed from everyone else. The
// inference's posterior is the prior times each answer's confusion entry,
// so dividing out the worker's own entry leaves the others' verdict (with
// the parameters fixed). A spammer cannot vouch for itself this way; gold
// items stay one-hot, so gold answers count exactly right or wrong. An
// answer that is its item's only evidence (no gold, no other answer) says
// nothing either way and is left out; ok[w] is false for a worker with no
// other answers. O(answers x labels).
func looAccuracy(tr *truth.Result, a *truth.Answers) (acc []truth.Prob, ok []bool) {
	k := a.Classes
	sum := make([]uint64, a.Workers)
	n := make([]uint64, a.Workers)
	r := make([]uint64, k)
	for _, x := range a.List {
		if it := tr.Items[x.Item]; it.Votes < 2 && !it.Gold || tr.Confusion == nil {
			continue
		}
		post := tr.Row(x.Item)
		var total uint64
		for c := range k {
			conf := max(tr.ConfusionRow(x.Worker, c)[x.Class], minConfusion)
			r[c] = chain.MulDiv(uint64(post[c]), uint64(truth.One), uint64(conf)) // < 2^48
			total += r[c]
		}
		n[x.Worker]++
		if total > 0 {
			sum[x.Worker] += chain.MulDiv(r[x.Class], uint64(truth.One), total)
		}
	}
	acc, ok = make([]truth.Prob, a.Workers), make([]bool, a.Workers)
	for w := range acc {
		if n[w] > 0 {
			acc[w], ok[w] = truth.Prob(sum[w]/n[w]), true
		}
	}
	return acc, ok
}

// score is a worker's quality in [0, One]: its leave-one-out accuracy
// (the inference's own estimate when nothing could be checked against
// others) blended with its gold reputation in proportion to the evidence
// behind each (answers, gold answers), so a lucky guess on two gold items
// moves little; then scaled by the share of its commits it revealed
// (withheld answers count as wrong).
func score(w *Worker, wr *truth.WorkerResult, loo truth.Prob, goldRep []truth.Prob, idx int) truth.Prob {
	if w.Committed == 0 {
		return 0
	}
	s := uint64(loo)
	if g := uint64(wr.GoldAnswers); g > 0 && goldRep != nil {
		n := uint64(wr.Answers)
		s = (s*n + uint64(goldRep[idx])*g) / (n + g)
	}
	return truth.Prob(chain.MulDiv(s, uint64(w.Revealed), uint64(w.Committed)))
}

// reasonFor names why a worker below the bar is slashed.
func reasonFor(w *Worker, wr *truth.WorkerResult, labels []uint32) string {
	used := 0
	for _, n := range labels {
		if n > 0 {
			used++
		}
	}
	switch {
	case w.Revealed >= 3 && used == 1:
		return ReasonOneLabel
	case w.Revealed >= 3 && wr.Informativeness < randomInformativeness:
		return ReasonRandom
	}
	return ReasonSpam
}

// yesShare is the inferred share of items whose answer to a yes/no
// question is yes.
func yesShare(tr *truth.Result) truth.Prob {
	var yes, n uint64
	for i, it := range tr.Items {
		if it.Label != truth.NoLabel {
			yes += uint64(tr.Row(i)[1])
			n++
		}
	}
	if n == 0 {
		return truth.One / 2
	}
	return truth.Prob(yes / n)
}

// kappa corrects a yes/no score for chance (Cohen's kappa): a worker who
// says yes to a share q of the items agrees with the truth by chance
// q*yes + (1-q)*(1-yes) of the time, so always saying no to a rare label
// earns nothing however often it is right. counts are the worker's no and
// yes answers.
func kappa(score truth.Prob, counts []uint32, yes truth.Prob) truth.Prob {
	n := uint64(counts[0]) + uint64(counts[1])
	if n == 0 {
		return 0
	}
	q := truth.Ratio(uint64(counts[1]), n)
	chance := uint64(chain.MulDiv(uint64(q), uint64(yes), uint64(truth.One)) +
		chain.MulDiv(uint64(truth.One-q), uint64(truth.One-yes), uint64(truth.One)))
	if uint64(score) <= chance || chance >= uint64(truth.One) {
		return 0
	}
	return truth.Prob(chain.MulDiv(uint64(score)-chance, uint64(truth.One), uint64(truth.One)-chance))
}
