package truth

// Result is the output of every method.
type Result struct {
	Method  string
	Classes int
	Items   []ItemResult
	Workers []WorkerResult
	// Posterior holds Items x Classes probabilities, row-major; each row sums
	// to One within Classes units of rounding. Use Row to read one item.
	Posterior []Prob
	// ClassPrior is the estimated share of each class (EM methods; nil otherwise).
	ClassPrior []Prob
	// Confusion holds Workers x Classes x Classes probabilities for EM methods:
	// Confusion[(w*Classes+c)*Classes+l] is P(worker w answers l | true class c).
	Confusion []Prob
	// Iterations is the number of EM rounds run; Converged reports that the
	// last round moved no posterior by Tolerance or more.
	Iterations int
	Converged  bool
}

// ItemResult is the verdict on one item.
type ItemResult struct {
	// Label is the class with the highest posterior, the lowest index on a tie;
	// NoLabel when the item has neither answers nor gold.
	Label int
	// Confidence is the posterior of Label (0 with NoLabel).
	Confidence Prob
	// Votes is the number of answers to the item.
	Votes int
	// Tied is the number of classes sharing the top posterior (1 when clear).
	Tied int
	// Gold reports that the item's label was given, not inferred.
	Gold bool
}

// WorkerResult is what the method learned about one worker.
type WorkerResult struct {
	Answers int
	// Accuracy is the expected share of the worker's answers that are correct
	// under the posterior (0 without answers). Spammers score near 1/Classes.
	Accuracy Prob
	// Informativeness (EM methods) is the mean total-variation distance
	// between the worker's confusion rows over all pairs of true classes: 0
	// when the answer does not depend on the truth (spammers, workers who
	// always give one label, whose Accuracy can still look high on a skewed
	// set), up to 1 when it pins the truth down (even if by always lying).
	Informativeness Prob
	// GoldAnswers and GoldCorrect count answers to gold items; GoldAccuracy is
	// their ratio (0 without gold answers).
	GoldAnswers, GoldCorrect int
	GoldAccuracy             Prob
}

// Row returns the posterior of item i.
func (r *Result) Row(i int) []Prob { return r.Posterior[i*r.Classes : (i+1)*r.Classes] }

// ConfusionRow returns P(answer | true class c) for worker w (nil for vote methods).
func (r *Result) ConfusionRow(w, c int) []Prob {
	if r.Confusion == nil {
		return nil
	}
	k := r.Classes
	return r.Confusion[(w*k+c)*k : (w*k+c+1)*k]
}

// finish derives the per-item and per-worker summaries from the posterior.
func finish(a *Answers, gold []int, method string, post []Prob) *Result {
	k := a.Classes
	r := &Result{Method: method, Classes: k, Posterior: post,
		Items: make([]ItemResult, a.Items), Workers: make([]WorkerResult, a.Workers)}
	votes := a.VotesPerItem()
	for i := range r.Items {
		it := ItemResult{Label: NoLabel, Votes: votes[i], Gold: gold != nil && gold[i] != NoLabel}
		row := r.Row(i)
		best, tied := topClass(row)
		it.Tied = tied
		if it.Votes > 0 || it.Gold {
			it.Label, it.Confidence = best, row[best]
		}
		r.Items[i] = it
	}
	sum := make([]uint64, a.Workers)
	for _, x := range a.List {
		w := &r.Workers[x.Worker]
		w.Answers++
		sum[x.Worker] += uint64(post[x.Item*k+x.Class])
		if gold != nil && gold[x.Item] != NoLabel {
			w.GoldAnswers++
			if gold[x.Item] == x.Class {
				w.GoldCorrect++
			}
		}
	}
	for n := range r.Workers {
		w := &r.Workers[n]
		if w.Answers > 0 {
			w.Accuracy = Prob(sum[n] / uint64(w.Answers))
		}
		if w.GoldAnswers > 0 {
			w.GoldAccuracy = Ratio(uint64(w.GoldCorrect), uint64(w.GoldAnswers))
		}
	}
	return r
}

// informativeness fills WorkerResult.Informativeness from r.Confusion.
func (r *Result) informativeness() {
	k := r.Classes
	pairs := uint64(k * (k - 1) / 2)
	for w := range r.Workers {
		if r.Workers[w].Answers == 0 {
			continue // its rows are only the prior
		}
		var tv uint64
		for c := 0; c < k; c++ {
			for d := c + 1; d < k; d++ {
				x, y := r.ConfusionRow(w, c), r.ConfusionRow(w, d)
				for l := range x {
					if x[l] > y[l] {
						tv += uint64(x[l] - y[l])
					} else {
						tv += uint64(y[l] - x[l])
					}
				}
			}
		}
		r.Workers[w].Informativeness = Prob(min(tv/2/pairs, uint64(One)))
	}
}

// topClass returns the first class with the highest value and how many share it.
func topClass(row []Prob) (best, tied int) {
	for c, v := range row {
		switch {
		case v > row[best]:
			best, tied = c, 1
		case v == row[best]:
			tied++
		}
	}
	return best, tied
}

// clampGold overwrites the rows of gold items with the gold label.
func clampGold(post []Prob, k int, gold []int) {
	for i, g := range gold {
		if g == NoLabel {
			continue
		}
		row := post[i*k : (i+1)*k]
		clear(row)
		row[g] = One
	}
}
