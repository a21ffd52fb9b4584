package truth

import "fmt"

// MajorityVote returns each item's vote shares as its posterior. Items
// without answers get a uniform row (and NoLabel); gold items their gold label.
func MajorityVote(a *Answers, opt Options) (*Result, error) {
	opt, err := opt.withDefaults(a)
	if err != nil {
		return nil, fmt.Errorf("majority vote: %w", err)
	}
	return finish(a, opt.Gold, "majority", voteShares(a, opt.Gold)), nil
}

// voteShares is the majority-vote posterior, also EM's starting point.
func voteShares(a *Answers, gold []int) []Prob {
	k := a.Classes
	count := make([]uint64, a.Items*k)
	total := make([]uint64, a.Items)
	for _, x := range a.List {
		count[x.Item*k+x.Class]++
		total[x.Item]++
	}
	post := make([]Prob, len(count))
	for i, n := range total {
		for c := range k {
			if n == 0 {
				post[i*k+c] = One / Prob(k)
			} else {
				post[i*k+c] = Ratio(count[i*k+c], n)
			}
		}
	}
	clampGold(post, k, gold)
	return post
}

// MaxReputation caps reputations so one worker's weight stays finite (0.99).
const MaxReputation = One - One/100

// WeightedVote gives each answer the log-odds weight log2((K-1)q/(1-q)) of
// its worker's reputation q (clipped to [1/K, MaxReputation], so a worker no
// better than chance counts zero), which is the Bayes-optimal vote when each
// worker errs uniformly at rate 1-q. The posterior is the softmax of the
// weighted counts. With reputation nil, reputations come from opt.Gold via
// GoldReputation.
func WeightedVote(a *Answers, reputation []Prob, opt Options) (*Result, error) {
	opt, err := opt.withDefaults(a)
	if err != nil {
		return nil, fmt.Errorf("weighted vote: %w", err)
	}
	if reputation == nil {
		if reputation, err = GoldReputation(a, opt.Gold); err != nil {
			return nil, fmt.Errorf("weighted vote: %w", err)
		}
	}
	if len(reputation) != a.Workers {
		return nil, fmt.Errorf("weighted vote: %d reputations for %d workers", len(reputation), a.Workers)
	}
	k := a.Classes
	weight := make([]log2Q, a.Workers)
	for w, q := range reputation {
		q = min(q, MaxReputation)
		if uint64(q)*uint64(k) <= uint64(One) {
			continue // chance or worse: weight zero
		}
		weight[w] = log2Ratio(uint64(k-1)*uint64(q), uint64(One-q))
	}
	acc := make([]log2Q, a.Items*k)
	for _, x := range a.List {
		acc[x.Item*k+x.Class] += weight[x.Worker]
	}
	post := make([]Prob, a.Items*k)
	scratch := make([]uint64, k)
	for i := 0; i < a.Items; i++ {
		softmax(acc[i*k:(i+1)*k], post[i*k:(i+1)*k], scratch)
	}
	clampGold(post, k, opt.Gold)
	return finish(a, opt.Gold, "weighted", post), nil
}

// GoldReputation is each worker's accuracy on gold items with a Laplace
// prior, (correct+1)/(answered+2), so a worker without gold answers gets 1/2.
// It fails when no answer falls on a gold item.
func GoldReputation(a *Answers, gold []int) ([]Prob, error) {
	if err := a.checkLabels("gold", gold); err != nil {
		return nil, err
	}
	correct := make([]uint64, a.Workers)
	n := make([]uint64, a.Workers)
	seen := false
	for _, x := range a.List {
		if gold == nil || gold[x.Item] == NoLabel {
			continue
		}
		seen = true
		n[x.Worker]++
		if gold[x.Item] == x.Class {
			correct[x.Worker]++
		}
	}
	if !seen {
		return nil, fmt.Errorf("truth: no answers on gold items to derive reputations from")
	}
	rep := make([]Prob, a.Workers)
	for w := range rep {
		rep[w] = Ratio(correct[w]+1, n[w]+2)
	}
	return rep, nil
}

// softmax turns base-2 log scores into probabilities. scratch needs len(acc).
// The top term is exactly 1.0 in Q52, so the sum is in [2^52, 2^60] and one
// division per row gives a reciprocal good to 2^-55.
func softmax(acc []log2Q, out []Prob, scratch []uint64) {
	m := acc[0]
	for _, v := range acc[1:] {
		m = max(m, v)
	}
	var sum uint64
	for c, v := range acc {
		scratch[c] = exp2Neg(m - v)
		sum += scratch[c]
	}
	inv, _ := divPow2(115, sum) // 2^115/sum in [2^55, 2^63]
	for c, e := range scratch {
		hi, _ := mulHiLo(e, inv)
		out[c] = Prob(hi >> (115 - 64 - ProbBits)) // e*inv >> 83
	}
}
