// Package floatref holds float64 reference implementations of the methods in
// package truth. Tests and benchmarks use it to check the fixed-point code and
// to time a float baseline; consensus code must never import it.
package floatref

import (
	"math"

	"github.com/tenun-chain/tenun/label/truth"
)

// Result is the float counterpart of truth.Result.
type Result struct {
	Classes int
	// Posterior holds Items x Classes probabilities, row-major.
	Posterior []float64
	// Label is the arg-max class per item (lowest index on ties), truth.NoLabel without answers or gold.
	Label []int
	// WorkerAccuracy is the expected fraction of each worker's answers that are correct under Posterior.
	WorkerAccuracy []float64
	Iterations     int
}

// Row returns the posterior of item i.
func (r *Result) Row(i int) []float64 { return r.Posterior[i*r.Classes : (i+1)*r.Classes] }

// finish fills Label and WorkerAccuracy from Posterior.
func finish(a *truth.Answers, gold []int, post []float64, iters int) *Result {
	k := a.Classes
	r := &Result{Classes: k, Posterior: post, Label: make([]int, a.Items), Iterations: iters}
	votes := a.VotesPerItem()
	for i := range r.Label {
		r.Label[i] = truth.NoLabel
		if votes[i] == 0 && (gold == nil || gold[i] == truth.NoLabel) {
			continue
		}
		row := r.Row(i)
		best := 0
		for c := 1; c < k; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		r.Label[i] = best
	}
	r.WorkerAccuracy = make([]float64, a.Workers)
	n := make([]int, a.Workers)
	for _, x := range a.List {
		r.WorkerAccuracy[x.Worker] += post[x.Item*k+x.Class]
		n[x.Worker]++
	}
	for w := range n {
		if n[w] > 0 {
			r.WorkerAccuracy[w] /= float64(n[w])
		}
	}
	return r
}

// clamp sets gold rows to one-hot.
func clamp(post []float64, k int, gold []int) {
	for i, g := range gold {
		if g == truth.NoLabel {
			continue
		}
		row := post[i*k : (i+1)*k]
		for c := range row {
			row[c] = 0
		}
		row[g] = 1
	}
}

// MajorityVote returns vote shares per item (uniform for items without answers).
func MajorityVote(a *truth.Answers, gold []int) *Result {
	k := a.Classes
	post := make([]float64, a.Items*k)
	for _, x := range a.List {
		post[x.Item*k+x.Class]++
	}
	normalize(post, k)
	clamp(post, k, gold)
	return finish(a, gold, post, 0)
}

// WeightedVote scores each class by the sum of log-odds weights
// log((K-1)q/(1-q)) of the workers who chose it, where q is the worker's
// reputation clipped to [1/K, MaxReputation] (a worker no better than chance
// gets weight zero), and returns the softmax of those scores.
func WeightedVote(a *truth.Answers, reputation []float64, gold []int) *Result {
	k := a.Classes
	w := make([]float64, a.Workers)
	for i := range w {
		q := math.Min(math.Max(reputation[i], 1/float64(k)), MaxReputation)
		w[i] = math.Log2(float64(k-1) * q / (1 - q))
	}
	post := make([]float64, a.Items*k)
	for _, x := range a.List {
		post[x.Item*k+x.Class] += w[x.Worker]
	}
	for i := 0; i < a.Items; i++ {
		softmax2(post[i*k : (i+1)*k])
	}
	clamp(post, k, gold)
	return finish(a, gold, post, 0)
}

// MaxReputation caps reputations so one worker's weight stays finite.
const MaxReputation = 0.99

// GoldReputation is the float counterpart of truth.GoldReputation: accuracy
// on gold items with a Laplace prior, (correct+1)/(answered+2).
func GoldReputation(a *truth.Answers, gold []int) []float64 {
	correct := make([]float64, a.Workers)
	n := make([]float64, a.Workers)
	for _, x := range a.List {
		if g := gold[x.Item]; g != truth.NoLabel {
			n[x.Worker]++
			if g == x.Class {
				correct[x.Worker]++
			}
		}
	}
	rep := make([]float64, a.Workers)
	for w := range rep {
		rep[w] = (correct[w] + 1) / (n[w] + 2)
	}
	return rep
}

func normalize(post []float64, k int) {
	for i := 0; i < len(post); i += k {
		row := post[i : i+k]
		s := 0.0
		for _, v := range row {
			s += v
		}
		for c := range row {
			if s > 0 {
				row[c] /= s
			} else {
				row[c] = 1 / float64(k)
			}
		}
	}
}

// softmax2 turns base-2 log scores into probabilities in place.
func softmax2(row []float64) {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, v)
	}
	s := 0.0
	for c, v := range row {
		row[c] = math.Exp2(v - m)
		s += row[c]
	}
	for c := range row {
		row[c] /= s
	}
}
