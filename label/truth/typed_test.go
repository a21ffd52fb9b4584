package truth

import (
	"math/rand/v2"
	"testing"
)

// Ratings: honest workers with bias and noise, one spammer, one constant.
func ratingCrowd(items int, seed uint64) (*Ratings, []int64) {
	r := rand.New(rand.NewPCG(seed, 1))
	rs := &Ratings{Items: items, Workers: 7, Min: -100, Max: 100}
	truth := make([]int64, items)
	bias := []float64{0, 8, -8, 3, -3}
	for i := range truth {
		truth[i] = int64(r.IntN(161)) - 80
		for w := range 7 {
			var v float64
			switch {
			case w < 5:
				v = float64(truth[i]) + bias[w] + r.NormFloat64()*6
			case w == 5:
				v = float64(r.IntN(201) - 100)
			default:
				v = 0
			}
			rs.List = append(rs.List, Rating{Item: i, Worker: w, Value: min(max(int64(v), -100), 100)})
		}
	}
	return rs, truth
}

func TestRatingMethods(t *testing.T) {
	rs, truth := ratingCrowd(300, 1)
	has := make([]bool, len(truth))
	for i := range has {
		has[i] = true
	}
	mean, err := RatingWeightedMean(rs, nil, RatingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	med, _ := RatingMedian(rs, RatingOptions{})
	em, _ := RatingEM(rs, RatingOptions{})
	sm, sd, se := EvaluateRatings(mean, truth, has), EvaluateRatings(med, truth, has), EvaluateRatings(em, truth, has)
	t.Logf("MAE/RMSE (milli): mean %d/%d, median %d/%d, em %d/%d (%d rounds)", sm.MAEMilli, sm.RMSEMilli, sd.MAEMilli, sd.RMSEMilli, se.MAEMilli, se.RMSEMilli, em.Iterations)
	if !(se.MAEMilli < sd.MAEMilli && sd.MAEMilli < sm.MAEMilli) {
		t.Errorf("want em < median < mean in MAE")
	}
	if se.MAEMilli > 4000 {
		t.Errorf("em MAE %d milli, want under 4", se.MAEMilli)
	}
	// The EM finds the biases (8 and -8 for workers 1 and 2) and a larger
	// noise for the spammer.
	if b := em.Workers[1].BiasMilli; b < 6000 || b > 10000 {
		t.Errorf("worker 1 bias %d milli, want about 8000", b)
	}
	if b := em.Workers[2].BiasMilli; b > -6000 || b < -10000 {
		t.Errorf("worker 2 bias %d milli, want about -8000", b)
	}
	if em.Workers[5].NoiseMilli < 5*em.Workers[0].NoiseMilli {
		t.Errorf("spammer noise %d, honest %d", em.Workers[5].NoiseMilli, em.Workers[0].NoiseMilli)
	}
	for w := range 5 {
		if q := em.Workers[w].Quality; q < One/2 {
			t.Errorf("honest worker %d quality %d ppm", w, q.PPM())
		}
	}
	if em.Workers[5].Quality > One/4 || em.Workers[6].Quality > One/4 || !em.Workers[6].Constant {
		t.Errorf("spammer quality %d ppm, constant %d ppm (constant flag %v)", em.Workers[5].Quality.PPM(), em.Workers[6].Quality.PPM(), em.Workers[6].Constant)
	}
	// Gold items keep their value.
	gold, hg := make([]int64, 300), make([]bool, 300)
	gold[3], hg[3] = 42, true
	g, _ := RatingEM(rs, RatingOptions{Gold: gold, HasGold: hg})
	if g.Items[3].Value != 42 || !g.Items[3].Gold || g.Workers[0].GoldAnswers != 1 {
		t.Errorf("gold item: %+v, worker 0 gold answers %d", g.Items[3], g.Workers[0].GoldAnswers)
	}
}

func TestRatingBadInput(t *testing.T) {
	for _, rs := range []*Ratings{
		{Items: 1, Workers: 1, Min: 5, Max: 5},
		{Items: 1, Workers: 1, Min: 0, Max: 10, List: []Rating{{Value: 11}}},
		{Items: 1, Workers: 1, Min: 0, Max: 10, List: []Rating{{Item: 1, Value: 1}}},
		{Items: 1, Workers: 1, Min: 0, Max: MaxRatingSpan + 1},
	} {
		if _, err := RatingEM(rs, RatingOptions{}); err == nil {
			t.Errorf("%+v accepted", rs)
		}
	}
}

func TestIoUAndQuality(t *testing.T) {
	a := Box{X: 0, Y: 0, W: 10, H: 10}
	b := Box{X: 5, Y: 0, W: 10, H: 10}
	if got := IoU(a, b); got != Ratio(50, 150) {
		t.Errorf("IoU %d ppm, want 333333", got.PPM())
	}
	if IoU(a, Box{X: 10, Y: 10, W: 3, H: 3}) != 0 || IoU(a, a) != One {
		t.Error("IoU of disjoint or identical boxes")
	}
	ref := []Box{a, {X: 50, Y: 50, W: 20, H: 20, Class: 1}}
	if q := BoxQuality(ref, ref); q != One {
		t.Errorf("quality against itself %d ppm", q.PPM())
	}
	// One box of two: at most a half. A wrong class does not match.
	if q := BoxQuality(ref[:1], ref); q != One/2 {
		t.Errorf("one of two boxes: %d ppm", q.PPM())
	}
	if q := BoxQuality([]Box{{X: 0, Y: 0, W: 10, H: 10, Class: 1}}, ref[:1]); q != 0 {
		t.Errorf("wrong class: %d ppm", q.PPM())
	}
	if q := BoxQuality(nil, nil); q != One {
		t.Errorf("both empty: %d ppm", q.PPM())
	}
}

// Boxes: honest workers jitter the true boxes; a spammer draws random
// boxes; a lazy worker draws one box.
func TestBoxFusion(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	const items = 60
	truth := make([][]Box, items)
	a := &BoxAnswers{Items: items, Workers: 6, Classes: 3}
	jit := func(v int64) int64 { return max(v+int64(r.IntN(7))-3, 0) }
	for i := range truth {
		for k := range 3 {
			truth[i] = append(truth[i], Box{X: int64(k*100 + r.IntN(40)), Y: int64(r.IntN(200)), W: int64(30 + r.IntN(40)), H: int64(30 + r.IntN(40)), Class: r.IntN(3)})
		}
		for w := range 6 {
			var bs []Box
			switch {
			case w < 4:
				for _, b := range truth[i] {
					bs = append(bs, Box{X: jit(b.X), Y: jit(b.Y), W: max(jit(b.W), 1), H: max(jit(b.H), 1), Class: b.Class})
				}
			case w == 4:
				for range 3 {
					bs = append(bs, Box{X: int64(r.IntN(300)), Y: int64(r.IntN(300)), W: 20, H: 20, Class: r.IntN(3)})
				}
			default:
				bs = []Box{truth[i][0]}
			}
			a.List = append(a.List, BoxAnswer{Item: i, Worker: w, Boxes: bs})
		}
	}
	res, err := BoxEM(a, 0, BoxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pred := make([][]Box, items)
	single := make([][]Box, items)
	has := make([]bool, items)
	for i := range pred {
		pred[i], has[i] = res.Items[i].Boxes, true
		single[i] = a.List[i*6+4].Boxes
	}
	s := EvaluateBoxes(pred, truth, has, 3)
	b := EvaluateBoxes(single, truth, has, 3)
	t.Logf("fused mean IoU %d ppm (spammer alone %d ppm); worker quality %d %d %d %d | spam %d lazy %d ppm",
		s.MeanIoU.PPM(), b.MeanIoU.PPM(), res.Workers[0].Quality.PPM(), res.Workers[1].Quality.PPM(), res.Workers[2].Quality.PPM(),
		res.Workers[3].Quality.PPM(), res.Workers[4].Quality.PPM(), res.Workers[5].Quality.PPM())
	if s.MeanIoU < One/10*8 {
		t.Errorf("fused mean IoU %d ppm, want over 0.8", s.MeanIoU.PPM())
	}
	for k := range 3 {
		if s.FN[k]*20 > s.TP[k] || s.FP[k]*20 > s.TP[k] {
			t.Errorf("class %d: TP %d FP %d FN %d", k, s.TP[k], s.FP[k], s.FN[k])
		}
	}
	for w := range 4 {
		if res.Workers[w].Quality < One/10*7 {
			t.Errorf("honest worker %d quality %d ppm", w, res.Workers[w].Quality.PPM())
		}
	}
	if res.Workers[4].Quality > One/10 || res.Workers[5].Quality > One/5*2 || !res.Workers[5].Single {
		t.Errorf("spammer %+v lazy %+v", res.Workers[4], res.Workers[5])
	}
}

func TestBoxBadInput(t *testing.T) {
	for _, b := range []Box{{X: -1, W: 2, H: 2}, {W: 0, H: 2}, {W: 2, H: 2, Class: 3}, {X: MaxBoxCoord, W: 1, H: 1}} {
		a := &BoxAnswers{Items: 1, Workers: 1, Classes: 3, List: []BoxAnswer{{Boxes: []Box{b}}}}
		if _, err := BoxEM(a, 0, BoxOptions{}); err == nil {
			t.Errorf("box %+v accepted", b)
		}
	}
}
