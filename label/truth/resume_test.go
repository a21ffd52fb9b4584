package truth

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// A Best run split over calls of a few rounds gives the same bits as one call.
func TestResumeBestMatchesBest(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	a := &Answers{Items: 300, Workers: 12, Classes: 3}
	truth := make([]int, a.Items)
	gold := make([]int, a.Items)
	for i := range truth {
		truth[i] = r.IntN(3)
		gold[i] = NoLabel
		if i%20 == 0 {
			gold[i] = truth[i]
		}
		for _, w := range r.Perm(12)[:4] {
			c := truth[i]
			if r.IntN(10) < w/2 {
				c = r.IntN(3)
			}
			a.List = append(a.List, Answer{Item: i, Worker: w, Class: c})
		}
	}
	opt := Options{Gold: gold, MaxIter: 50}
	want, err := Best(a, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{1, 3, 50} {
		var cp *EMCheckpoint
		calls := 0
		for !cp.Done(opt) {
			if cp, err = ResumeBest(a, opt, cp, step); err != nil {
				t.Fatal(err)
			}
			calls++
		}
		got, err := FinishBest(a, opt, cp)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Posterior, want.Posterior) || !slices.Equal(got.Confusion, want.Confusion) ||
			!slices.Equal(got.Items, want.Items) || !slices.Equal(got.Workers, want.Workers) || got.Iterations != want.Iterations {
			t.Errorf("in steps of %d (%d calls): result differs from one Best call (%d vs %d rounds)", step, calls, got.Iterations, want.Iterations)
		}
	}
}
