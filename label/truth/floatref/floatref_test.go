package floatref

import (
	"math"
	"testing"

	"github.com/tenun-chain/tenun/label/truth"
)

func TestMajorityVoteTie(t *testing.T) {
	a := &truth.Answers{Items: 2, Workers: 2, Classes: 2, List: []truth.Answer{{Item: 0, Worker: 0, Class: 0}, {Item: 0, Worker: 1, Class: 1}, {Item: 1, Worker: 0, Class: 1}}}
	r := MajorityVote(a, nil)
	if r.Row(0)[0] != 0.5 || r.Label[1] != 1 {
		t.Errorf("posterior %v labels %v", r.Posterior, r.Label)
	}
	s := Evaluate(a, r, []int{1, 1}, 1)
	if s.Accuracy != 0.75 || s.Scored != 2 {
		t.Errorf("score %+v, want 0.75 over 2 items (half credit for the tie)", s)
	}
}

func TestWeightedVote(t *testing.T) {
	a := &truth.Answers{Items: 1, Workers: 3, Classes: 2, List: []truth.Answer{{Item: 0, Worker: 0, Class: 1}, {Item: 0, Worker: 1, Class: 0}, {Item: 0, Worker: 2, Class: 0}}}
	r := WeightedVote(a, []float64{0.9, 0.6, 0.6}, nil)
	// log2 9 against 2*log2 1.5: P(1) = 9/(9+2.25).
	if got := r.Row(0)[1]; math.Abs(got-0.8) > 1e-12 {
		t.Errorf("P(1) = %v, want 0.8", got)
	}
}

func TestDawidSkeneGold(t *testing.T) {
	a := &truth.Answers{Items: 2, Workers: 2, Classes: 2, List: []truth.Answer{{Item: 0, Worker: 0, Class: 0}, {Item: 0, Worker: 1, Class: 0}, {Item: 1, Worker: 0, Class: 1}, {Item: 1, Worker: 1, Class: 0}}}
	for _, f := range []func(*truth.Answers, DSOptions) *Result{DawidSkene, HierarchicalDS} {
		r := f(a, DSOptions{Gold: []int{1, truth.NoLabel}})
		if r.Label[0] != 1 || r.Row(0)[1] != 1 {
			t.Errorf("gold item posterior %v", r.Row(0))
		}
	}
}
