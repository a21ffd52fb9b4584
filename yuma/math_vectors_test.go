package yuma

import "testing"

// denseToSparse builds sparse rows from a row-major matrix, keeping every
// entry (zeros included), as vec_to_sparse_mat_fixed does.
func denseToSparse(vals []float32, rows int) sparse {
	cols := len(vals) / rows
	m := make(sparse, rows)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			m[i] = append(m[i], cell{uint32(j), fx(vals[i*cols+j])})
		}
	}
	return m
}

// SPEC §5.1 weighted_median_col.
func TestWeightedMedianColVectors(t *testing.T) {
	w1 := denseToSparse([]float32{0, .1, 0, 0, .2, .4, 0, .3, .1, 0, .4, .5}, 4)
	w2 := denseToSparse([]float32{0, .1, 0, 0, .2, .4, 0, .3, .1, 0, 0, .5}, 4)
	cases := []struct {
		stake []I32F32
		w     sparse
		kappa float32
		want  []I32F32
	}{
		{fxs(0, .75, .25, 0), w1, .24, fxs(0, .3, .4)},
		{fxs(0, .75, .25, 0), w1, .26, fxs(0, .2, .4)},
		{fxs(0, .75, .25, 0), w1, .76, fxs(0, .2, .1)},
		{fxs(0, .3, .2, .5), w2, .51, fxs(0, 0, .4)},
		{fxs(0, 0), denseToSparse([]float32{0, 0, 0, 0}, 2), .5, fxs(0, 0)},
	}
	for k, c := range cases {
		got := weightedMedianColSparse(c.stake, c.w, len(c.want), fx(c.kappa))
		for j := range got {
			if got[j] != c.want[j] {
				t.Errorf("case %d: median = %v, want %v", k, got, c.want)
				break
			}
		}
	}
}

// SPEC §5.1 scalar weighted_median with minority = 1 − 0.51, hi = Σstake.
func TestWeightedMedianVectors(t *testing.T) {
	cases := []struct {
		stake, score []float32
		want         float32
	}{
		{[]float32{.49, .51}, []float32{.5, 1}, 1},
		{[]float32{.51, .49}, []float32{.5, 1}, .5},
		{[]float32{.49, 0, .51}, []float32{.5, .7, 1}, 1},
		{[]float32{.49, .01, .5}, []float32{.5, .7, 1}, .7},
		{[]float32{.49, .51, 0}, []float32{.5, .7, 1}, .7},
		{[]float32{.2, .2, .2, .2, .2}, []float32{.8, .2, 1, .6, .4}, .6},
		{[]float32{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1}, []float32{.8, .8, .2, .2, 1, 1, .6, .6, .4, .4}, .6},
	}
	for k, c := range cases {
		stake, score := fxs(c.stake...), fxs(c.score...)
		minority := One32 - fx(.51)
		got := weightedMedian(stake, score, minority, 0, sum(stake), newMedianScratch(len(stake)))
		if got != fx(c.want) {
			t.Errorf("case %d: weighted_median = %s, want %s", k, got, fx(c.want))
		}
	}
}

func nearly(a, b I32F32, tol float64) bool {
	d := float64(a-b) / (1 << 32)
	return d <= tol && d >= -tol
}

// SPEC §5.1 mat_ema_alpha (per-entry α, clamped at 1), tolerance 1e-4. With
// every column present in the new matrix the sparse routine equals the dense
// one, so these vectors exercise matEmaAlphaSparse.
func TestMatEmaAlphaVectors(t *testing.T) {
	old := []float32{.1, .2, 3, .04, .05, .06, .07, .08, .09, .1, .11, .12}
	newer := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	cases := []struct {
		alpha  float32
		target []float32
	}{
		{.1, []float32{.19, .38, 1, .436, .545, .6539, .763, .8719, .981, 1, 1, 1}},
		{0, []float32{.1, .2, 1, .04, .05, .06, .07, .08, .09, .1, .11, .12}},
		{1, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	}
	for _, c := range cases {
		a := fx(c.alpha)
		got := matEmaAlphaSparse(denseToSparse(newer, 4), denseToSparse(old, 4),
			func(int, uint32, I32F32, I32F32) I32F32 { return a })
		want := denseToSparse(c.target, 4)
		for i := range want {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("alpha %v row %d: %d entries, want %d", c.alpha, i, len(got[i]), len(want[i]))
			}
			for k := range want[i] {
				if got[i][k].col != want[i][k].col || !nearly(got[i][k].val, want[i][k].val, 1e-4) {
					t.Errorf("alpha %v [%d][%d] = %s, want %s", c.alpha, i, k, got[i][k].val, want[i][k].val)
				}
			}
		}
	}
}

// SPEC §5.1 mat_ema_alpha_sparse drop behaviour: a bond whose column is
// absent from the new row is dropped, not decayed.
func TestMatEmaAlphaSparseDropsOmitted(t *testing.T) {
	old := sparse{{{0, One32}}, {}}
	newer := sparse{{}, {{0, 2 * One32}}}
	a := fx(.1)
	got := matEmaAlphaSparse(newer, old, func(int, uint32, I32F32, I32F32) I32F32 { return a })
	if len(got[0]) != 0 {
		t.Fatalf("row 0 = %v, want dropped", got[0])
	}
	if len(got[1]) != 1 || got[1][0].col != 0 || !nearly(got[1][0].val, fx(.2), 1e-9) {
		t.Fatalf("row 1 = %v, want [(0, 0.2)]", got[1])
	}
}
