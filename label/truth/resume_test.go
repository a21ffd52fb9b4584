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

// ratingEMReference is RatingEM as it was written before it could be
// resumed: one loop from the medians.
func ratingEMReference(r *Ratings, opt RatingOptions) (*RatingResult, error) {
	u, err := r.prepare(&opt)
	if err != nil {
		return nil, err
	}
	t := r.medians(u, &opt)
	bias := make([]int64, r.Workers)
	vars := make([]uint64, r.Workers)
	w := make([]uint64, r.Workers)
	iters, converged := 0, false
	for it := 1; it <= opt.MaxIter; it++ {
		iters = it
		r.fitWorkers(u, t, bias, vars)
		for n := range w {
			w[n] = max(uint64(1<<50)/vars[n], 1)
		}
		next := r.weighted(u, w, bias, &opt)
		var moved int64
		for i := range next {
			moved = max(moved, abs64(next[i]-t[i]))
		}
		t = next
		if moved <= RatingUnit>>14 {
			converged = true
			break
		}
	}
	out := r.finish("em", t, u, &opt, bias, vars)
	out.Iterations, out.Converged = iters, converged
	return out, nil
}

// A RatingEM run split over calls of a few rounds gives the bits of one
// RatingEM call and of the loop it replaced.
func TestResumeRatingEMMatchesRatingEM(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	rs := &Ratings{Items: 400, Workers: 10, Min: -50, Max: 50}
	opt := RatingOptions{MaxIter: 50, Gold: make([]int64, rs.Items), HasGold: make([]bool, rs.Items)}
	for i := range rs.Items {
		v := int64(r.IntN(101)) - 50
		if i%25 == 0 {
			opt.Gold[i], opt.HasGold[i] = v, true
		}
		for _, w := range r.Perm(10)[:3] {
			x := v + int64(r.IntN(7)) - 3 + int64(w%3)
			if w >= 8 {
				x = int64(r.IntN(101)) - 50 // spammers
			}
			rs.List = append(rs.List, Rating{Item: i, Worker: w, Value: min(max(x, -50), 50)})
		}
	}
	ref, err := ratingEMReference(rs, opt)
	if err != nil {
		t.Fatal(err)
	}
	one, err := RatingEM(rs, opt)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b *RatingResult) bool {
		return a.Method == b.Method && a.Iterations == b.Iterations && a.Converged == b.Converged &&
			slices.Equal(a.Items, b.Items) && slices.Equal(a.Workers, b.Workers) && slices.Equal(a.values, b.values)
	}
	if !same(one, ref) {
		t.Fatalf("RatingEM differs from the reference loop (%d vs %d rounds)", one.Iterations, ref.Iterations)
	}
	if ref.Iterations < 3 {
		t.Fatalf("the reference converged in %d rounds: too few to split", ref.Iterations)
	}
	for _, step := range []int{1, 2, 50} {
		var cp *RatingCheckpoint
		for !cp.Done(opt) {
			if cp, err = ResumeRatingEM(rs, opt, cp, step); err != nil {
				t.Fatal(err)
			}
		}
		got, err := FinishRatingEM(rs, opt, cp)
		if err != nil {
			t.Fatal(err)
		}
		if !same(got, ref) {
			t.Errorf("in steps of %d: result differs from one RatingEM call", step)
		}
	}
	bad := &RatingCheckpoint{Iterations: 1, Values: make([]int64, 3)}
	if _, err := ResumeRatingEM(rs, opt, bad, 1); err == nil {
		t.Error("a checkpoint of the wrong size was taken")
	}
}

// A box fuse pass stepped a few items at a time gives the bits of one
// pass: the items' boxes and every worker's figures.
func TestBoxPassStepsMatchFuse(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	a := &BoxAnswers{Items: 120, Workers: 6, Classes: 2}
	var opt BoxOptions
	opt.Gold, opt.HasGold = make([][]Box, a.Items), make([]bool, a.Items)
	for i := range a.Items {
		var bs []Box
		for k := range r.IntN(3) {
			bs = append(bs, Box{X: int64(10 + 40*k), Y: int64(r.IntN(50)), W: int64(20 + r.IntN(10)), H: int64(20 + r.IntN(10)), Class: k % 2})
		}
		if i%10 == 0 {
			opt.Gold[i], opt.HasGold[i] = bs, true
		}
		for _, w := range r.Perm(6)[:3] {
			var mine []Box
			for _, b := range bs {
				b.X += int64(r.IntN(3))
				mine = append(mine, b)
			}
			if w == 5 {
				mine = []Box{{X: int64(r.IntN(100)), Y: 0, W: 5, H: 5}} // lazy
			}
			a.List = append(a.List, BoxAnswer{Item: i, Worker: w, Boxes: mine})
		}
	}
	weights := []Prob{One, One / 2, One / 3, One, One / 4, One / 8}
	want, err := FuseBoxes(a, weights, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int{1, 30, 1 << 30} {
		p, err := NewBoxPass(a.Workers, weights)
		if err != nil {
			t.Fatal(err)
		}
		var items []BoxItem
		calls := 0
		for !p.Done(a) {
			got, work, err := p.Step(a, opt, budget, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || len(got) > 7 || len(got) > 1 && work > budget {
				t.Fatalf("a step fused %d items for %d units, budget %d", len(got), work, budget)
			}
			items = append(items, got...)
			calls++
		}
		res, err := p.Result(a, "weighted-fuse")
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != len(want.Items) || !slices.Equal(res.Workers, want.Workers) {
			t.Fatalf("budget %d (%d calls): workers differ", budget, calls)
		}
		for i := range items {
			if !slices.Equal(items[i].Boxes, want.Items[i].Boxes) || items[i].Votes != want.Items[i].Votes || items[i].Gold != want.Items[i].Gold {
				t.Fatalf("budget %d: item %d differs", budget, i)
			}
		}
	}
}
