package truth

import (
	"fmt"
	"slices"
)

// Numeric ratings. Values are integers in a declared range [Min, Max]; the
// methods work on them scaled to RatingUnit over the span (so the span is
// 2^20 units whatever the range), which keeps every square and sum in 64
// bits: a residual is at most 2^21 units, its square 2^42, and a worker's
// sum of up to 2^21 squares fits.

// RatingUnit is the span of a rating range in the methods' internal units.
const RatingUnit = 1 << 20

// MaxRatingSpan bounds Max-Min, so that converting back stays exact enough
// and in 64 bits.
const MaxRatingSpan = 1 << 30

// MaxRatingAnswersPerWorker bounds one worker's answers so its sum of
// squared residuals (each < 2^42) fits in 64 bits.
const MaxRatingAnswersPerWorker = 1 << 21

// MaxRatingAnswersPerItem bounds one item's answers so its weighted sum
// (weights up to 2^32, residuals up to 2^21) fits in 64 bits.
const MaxRatingAnswersPerItem = 1 << 10

// Rating is one worker's value for one item.
type Rating struct {
	Item, Worker int
	Value        int64
}

// Ratings is the input to the rating methods.
type Ratings struct {
	Items, Workers int
	Min, Max       int64
	List           []Rating
}

// RatingOptions tunes the rating methods. Gold holds a known value per item
// where HasGold is set (both nil: no gold); gold items keep their value.
type RatingOptions struct {
	Gold    []int64
	HasGold []bool
	MaxIter int // EM rounds (default DefaultMaxIter)
}

// RatingItem is the verdict on one item: Value rounded to an integer and
// Milli the value times 1000 (for error figures finer than one step).
type RatingItem struct {
	Value, Milli int64
	Votes        int
	Gold         bool
}

// RatingWorker is what a method learned about one worker. Bias and Noise
// (the EM model's mean and standard deviation of the worker's error) and
// MAE (against the inferred values) are in thousandths of a rating step.
// Quality is in [0, One]: 1 - error/(span/4), the error being the mean
// absolute error against gold where the worker answered gold items, blended
// by evidence with the error against the inferred values of the others.
type RatingWorker struct {
	Answers                   int
	BiasMilli, NoiseMilli     int64
	MAEMilli                  int64
	GoldAnswers               int
	GoldMAEMilli              int64
	Quality                   Prob
	Constant                  bool // every answer the same value (at least 3)
	errSum, goldErrSum, first int64
}

// RatingResult is the output of the rating methods.
type RatingResult struct {
	Method     string
	Items      []RatingItem
	Workers    []RatingWorker
	Iterations int
	Converged  bool
	values     []int64 // per item in units; -1 without answers or gold
}

func (r *Ratings) span() int64 { return r.Max - r.Min }

// Validate checks the sizes, the range and every answer.
func (r *Ratings) Validate() error {
	if r == nil {
		return fmt.Errorf("truth: nil ratings")
	}
	if r.Items < 0 || r.Workers < 0 {
		return fmt.Errorf("truth: negative size (items %d, workers %d)", r.Items, r.Workers)
	}
	if r.Max <= r.Min || r.Max-r.Min > MaxRatingSpan {
		return fmt.Errorf("truth: rating range [%d, %d]: want min < max and a span of at most %d", r.Min, r.Max, MaxRatingSpan)
	}
	per, perItem := make([]int, r.Workers), make([]int, r.Items)
	for n, x := range r.List {
		if x.Item < 0 || x.Item >= r.Items || x.Worker < 0 || x.Worker >= r.Workers {
			return fmt.Errorf("truth: rating %d (item %d, worker %d) out of range (%d items, %d workers)", n, x.Item, x.Worker, r.Items, r.Workers)
		}
		if x.Value < r.Min || x.Value > r.Max {
			return fmt.Errorf("truth: rating %d is %d, outside [%d, %d]", n, x.Value, r.Min, r.Max)
		}
		if perItem[x.Item]++; perItem[x.Item] > MaxRatingAnswersPerItem {
			return fmt.Errorf("truth: item %d has more than %d ratings", x.Item, MaxRatingAnswersPerItem)
		}
		if per[x.Worker]++; per[x.Worker] > MaxRatingAnswersPerWorker {
			return fmt.Errorf("truth: worker %d has more than %d ratings", x.Worker, MaxRatingAnswersPerWorker)
		}
	}
	return nil
}

func (o *RatingOptions) check(r *Ratings) error {
	if o.Gold == nil && o.HasGold == nil {
		return nil
	}
	if len(o.Gold) != r.Items || len(o.HasGold) != r.Items {
		return fmt.Errorf("truth: rating gold has %d values and %d flags, want one per item (%d)", len(o.Gold), len(o.HasGold), r.Items)
	}
	for i, g := range o.Gold {
		if o.HasGold[i] && (g < r.Min || g > r.Max) {
			return fmt.Errorf("truth: gold value %d of item %d is outside [%d, %d]", g, i, r.Min, r.Max)
		}
	}
	return nil
}

func (o *RatingOptions) gold(i int) bool { return o.HasGold != nil && o.HasGold[i] }

// toUnits maps a value in [Min, Max] to [0, RatingUnit].
func (r *Ratings) toUnits(v int64) int64 {
	return int64(mulDiv(uint64(v-r.Min), RatingUnit, uint64(r.span())))
}

// toMilli maps units back to thousandths of a rating step, rounded
// (u*span*1000 < 2^20 * 2^40).
func (r *Ratings) toMilli(u int64) int64 {
	return r.Min*1000 + int64((uint64(u)*uint64(r.span())*1000+RatingUnit/2)>>20)
}

// byItem groups answer indexes per item (counting sort, in List order).
func (r *Ratings) byItem() (start []int, idx []int) {
	start = make([]int, r.Items+1)
	for _, x := range r.List {
		start[x.Item+1]++
	}
	for i := range r.Items {
		start[i+1] += start[i]
	}
	idx = make([]int, len(r.List))
	fill := slices.Clone(start[:r.Items])
	for n, x := range r.List {
		idx[fill[x.Item]] = n
		fill[x.Item]++
	}
	return start, idx
}

// prepare validates and converts the answers to units.
func (r *Ratings) prepare(opt *RatingOptions) ([]int64, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := opt.check(r); err != nil {
		return nil, err
	}
	u := make([]int64, len(r.List))
	for n, x := range r.List {
		u[n] = r.toUnits(x.Value)
	}
	return u, nil
}

// medians is each item's median in units (the mean of the two middle
// values for an even count), gold where given, -1 without answers.
func (r *Ratings) medians(u []int64, opt *RatingOptions) []int64 {
	start, idx := r.byItem()
	out := make([]int64, r.Items)
	var buf []int64
	for i := range out {
		if opt.gold(i) {
			out[i] = r.toUnits(opt.Gold[i])
			continue
		}
		buf = buf[:0]
		for _, n := range idx[start[i]:start[i+1]] {
			buf = append(buf, u[n])
		}
		if len(buf) == 0 {
			out[i] = -1
			continue
		}
		slices.Sort(buf)
		m := len(buf) / 2
		if len(buf)%2 == 1 {
			out[i] = buf[m]
		} else {
			out[i] = (buf[m-1] + buf[m]) / 2
		}
	}
	return out
}

// RatingMedian takes each item's median answer: robust to a minority of
// spammers whatever they answer.
func RatingMedian(r *Ratings, opt RatingOptions) (*RatingResult, error) {
	u, err := r.prepare(&opt)
	if err != nil {
		return nil, err
	}
	return r.finish("median", r.medians(u, &opt), u, &opt, nil, nil), nil
}

// RatingWeightedMean takes each item's mean answer weighted by weights (one
// per worker, e.g. its quality; nil: all equal, the plain mean).
func RatingWeightedMean(r *Ratings, weights []Prob, opt RatingOptions) (*RatingResult, error) {
	u, err := r.prepare(&opt)
	if err != nil {
		return nil, err
	}
	if weights != nil && len(weights) != r.Workers {
		return nil, fmt.Errorf("truth: %d weights for %d workers", len(weights), r.Workers)
	}
	w := make([]uint64, r.Workers)
	for n := range w {
		w[n] = uint64(One)
		if weights != nil {
			w[n] = uint64(weights[n]) + 1 // never all zero
		}
	}
	method := "mean"
	if weights != nil {
		method = "weighted-mean"
	}
	return r.finish(method, r.weighted(u, w, nil, &opt), u, &opt, nil, nil), nil
}

// weighted is each item's mean of answer-minus-bias weighted by w, gold
// where given, -1 without answers; values are clamped to the range.
func (r *Ratings) weighted(u []int64, w []uint64, bias []int64, opt *RatingOptions) []int64 {
	num := make([]int64, r.Items)
	den := make([]uint64, r.Items)
	for n, x := range r.List {
		v := u[n]
		if bias != nil {
			v -= bias[x.Worker]
		}
		// Weights are at most 2^32 and residuals 2^21, so an item's
		// MaxRatingAnswersPerItem answers stay in 64 bits.
		ww := min(w[x.Worker], 1<<32)
		num[x.Item] += int64(ww) * v
		den[x.Item] += ww
	}
	out := make([]int64, r.Items)
	for i := range out {
		switch {
		case opt.gold(i):
			out[i] = r.toUnits(opt.Gold[i])
		case den[i] == 0:
			out[i] = -1
		default:
			out[i] = min(max(divRound(num[i], int64(den[i])), 0), RatingUnit)
		}
	}
	return out
}

// divRound divides rounding half away from zero; d > 0.
func divRound(n, d int64) int64 {
	if n >= 0 {
		return (n + d/2) / d
	}
	return -((-n + d/2) / d)
}

// ratingPriorVar is the noise variance the EM assumes before seeing a
// worker's answers: a standard deviation of a tenth of the span, with the
// weight of ratingPriorCount answers. minRatingVar keeps weights finite.
const (
	ratingPriorVar   = (RatingUnit / 10) * (RatingUnit / 10)
	ratingPriorCount = 2
	minRatingVar     = (RatingUnit / 10000) * (RatingUnit / 10000)
)

// RatingEM fits a per-worker bias and noise model: worker w answers
// truth + bias_w + noise of variance var_w. Starting from the medians it
// alternates the item values (means of answers minus bias, weighted by
// 1/var_w) and each worker's bias and variance (shrunk toward 0 and the
// prior), until no value moves by more than 2^-14 of the span.
// Spammers and constant answerers get a large variance, so they barely
// move the values.
func RatingEM(r *Ratings, opt RatingOptions) (*RatingResult, error) {
	if opt.MaxIter == 0 {
		opt.MaxIter = DefaultMaxIter
	}
	cp, err := ResumeRatingEM(r, opt, nil, max(opt.MaxIter, 1))
	if err != nil {
		return nil, err
	}
	return FinishRatingEM(r, opt, cp)
}

// RatingCheckpoint is a RatingEM run stopped between rounds, so that a
// long fit can be spread over many calls (the chain runs a few rounds per
// block): the item values in units (-1: none) and the worker model of the
// last round. A run split over calls gives exactly the bits of one
// RatingEM call.
type RatingCheckpoint struct {
	Iterations int      `cbor:"1,keyasint"`
	Converged  bool     `cbor:"2,keyasint"`
	Values     []int64  `cbor:"3,keyasint"`
	Bias       []int64  `cbor:"4,keyasint"`
	Vars       []uint64 `cbor:"5,keyasint"`
}

// Done reports that the run has converged or used its rounds.
func (cp *RatingCheckpoint) Done(opt RatingOptions) bool {
	if cp == nil {
		return false
	}
	if opt.MaxIter == 0 {
		opt.MaxIter = DefaultMaxIter
	}
	return cp.Converged || cp.Iterations >= opt.MaxIter
}

// ResumeRatingEM runs up to rounds more rounds of RatingEM over r from cp
// (nil: from the start, the medians) and returns the new checkpoint. r and
// opt must be the same in every call of one run.
func ResumeRatingEM(r *Ratings, opt RatingOptions, cp *RatingCheckpoint, rounds int) (*RatingCheckpoint, error) {
	u, err := r.prepare(&opt)
	if err != nil {
		return nil, fmt.Errorf("resume rating em: %w", err)
	}
	if opt.MaxIter == 0 {
		opt.MaxIter = DefaultMaxIter
	}
	if cp == nil {
		cp = &RatingCheckpoint{Values: r.medians(u, &opt), Bias: make([]int64, r.Workers), Vars: make([]uint64, r.Workers)}
	} else {
		if err := cp.fits(r); err != nil {
			return nil, err
		}
		cp = &RatingCheckpoint{Iterations: cp.Iterations, Converged: cp.Converged, Values: slices.Clone(cp.Values), Bias: slices.Clone(cp.Bias), Vars: slices.Clone(cp.Vars)}
	}
	w := make([]uint64, r.Workers)
	for range rounds {
		if cp.Converged || cp.Iterations >= opt.MaxIter {
			break
		}
		cp.Iterations++
		r.fitWorkers(u, cp.Values, cp.Bias, cp.Vars)
		for n := range w {
			w[n] = max(uint64(1<<50)/cp.Vars[n], 1) // vars in [2^13, 2^42]: w in [2^8, 2^37], clamped to 2^32 in weighted
		}
		next := r.weighted(u, w, cp.Bias, &opt)
		var moved int64
		for i := range next {
			moved = max(moved, abs64(next[i]-cp.Values[i]))
		}
		cp.Values = next
		if moved <= RatingUnit>>14 {
			cp.Converged = true
		}
	}
	return cp, nil
}

// FinishRatingEM returns the result of the run cp stopped (as RatingEM
// would).
func FinishRatingEM(r *Ratings, opt RatingOptions, cp *RatingCheckpoint) (*RatingResult, error) {
	u, err := r.prepare(&opt)
	if err != nil {
		return nil, fmt.Errorf("finish rating em: %w", err)
	}
	if cp == nil {
		return nil, fmt.Errorf("truth: finish rating em: no checkpoint")
	}
	if err := cp.fits(r); err != nil {
		return nil, err
	}
	out := r.finish("em", slices.Clone(cp.Values), u, &opt, cp.Bias, cp.Vars)
	out.Iterations, out.Converged = cp.Iterations, cp.Converged
	return out, nil
}

func (cp *RatingCheckpoint) fits(r *Ratings) error {
	if len(cp.Values) != r.Items || len(cp.Bias) != r.Workers || len(cp.Vars) != r.Workers {
		return fmt.Errorf("truth: rating checkpoint of %d items and %d workers does not fit %d and %d", len(cp.Values), len(cp.Bias), r.Items, r.Workers)
	}
	for _, v := range cp.Values {
		if v < -1 || v > RatingUnit {
			return fmt.Errorf("truth: rating checkpoint value %d outside [-1, %d]", v, RatingUnit)
		}
	}
	return nil
}

// fitWorkers sets each worker's bias (mean residual, shrunk toward 0) and
// variance (of the residual after bias, shrunk toward the prior).
func (r *Ratings) fitWorkers(u, t []int64, bias []int64, vars []uint64) {
	sum := make([]int64, r.Workers)
	n := make([]int64, r.Workers)
	for k, x := range r.List {
		if t[x.Item] < 0 {
			continue
		}
		sum[x.Worker] += u[k] - t[x.Item]
		n[x.Worker]++
	}
	sq := make([]uint64, r.Workers)
	for w := range bias {
		bias[w] = divRound(sum[w], n[w]+ratingPriorCount)
	}
	for k, x := range r.List {
		if t[x.Item] < 0 {
			continue
		}
		d := u[k] - t[x.Item] - bias[x.Worker]
		sq[x.Worker] += uint64(d * d)
	}
	for w := range vars {
		vars[w] = max((sq[w]+ratingPriorVar*ratingPriorCount)/uint64(n[w]+ratingPriorCount), minRatingVar)
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// isqrt is the integer square root, rounded down.
func isqrt(x uint64) uint64 {
	if x == 0 {
		return 0
	}
	r := uint64(1) << ((bitsLen(x) + 1) / 2)
	for {
		s := (r + x/r) / 2
		if s >= r {
			return r
		}
		r = s
	}
}

func bitsLen(x uint64) int {
	n := 0
	for x != 0 {
		x >>= 1
		n++
	}
	return n
}

// finish fills the item values and each worker's errors and quality.
func (r *Ratings) finish(method string, t, u []int64, opt *RatingOptions, bias []int64, vars []uint64) *RatingResult {
	res := &RatingResult{Method: method, Items: make([]RatingItem, r.Items), Workers: make([]RatingWorker, r.Workers), values: t}
	for i, v := range t {
		it := &res.Items[i]
		it.Gold = opt.gold(i)
		if v >= 0 {
			it.Milli = r.toMilli(v)
			it.Value = divRound(it.Milli, 1000)
		}
	}
	for k, x := range r.List {
		wr := &res.Workers[x.Worker]
		res.Items[x.Item].Votes++
		if wr.Answers == 0 {
			wr.first, wr.Constant = x.Value, true
		} else if x.Value != wr.first {
			wr.Constant = false
		}
		wr.Answers++
		if t[x.Item] >= 0 {
			d := abs64(u[k] - t[x.Item])
			if opt.gold(x.Item) {
				wr.GoldAnswers++
				wr.goldErrSum += d
			} else {
				wr.errSum += d
			}
		}
	}
	milli := func(units int64) int64 { return int64(mulDiv(uint64(units), uint64(r.span())*1000, RatingUnit)) }
	for n := range res.Workers {
		wr := &res.Workers[n]
		if wr.Answers < 3 {
			wr.Constant = false
		}
		if bias != nil {
			wr.NoiseMilli = milli(int64(isqrt(vars[n])))
			if bias[n] < 0 {
				wr.BiasMilli = -milli(-bias[n])
			} else {
				wr.BiasMilli = milli(bias[n])
			}
		}
		other := int64(wr.Answers - wr.GoldAnswers)
		if other > 0 {
			wr.MAEMilli = milli(wr.errSum / other)
		}
		if wr.GoldAnswers > 0 {
			wr.GoldMAEMilli = milli(wr.goldErrSum / int64(wr.GoldAnswers))
		}
		if wr.Answers > 0 {
			// Mean absolute error over all answers: gold and the rest each
			// count by their number of answers.
			e := (wr.errSum + wr.goldErrSum) / int64(wr.Answers)
			wr.Quality = ratingQuality(e)
		}
	}
	return res
}

// ratingQuality maps a mean absolute error in units to [0, One]: 1 at no
// error, 0 at a quarter of the span (what a constant mid-range answer
// earns on values spread evenly over the range).
func ratingQuality(e int64) Prob {
	const tol = RatingUnit / 4
	if e >= tol {
		return 0
	}
	return Ratio(uint64(tol-e), tol)
}

// RatingScore is a method's error against known values, in thousandths of a
// rating step: mean absolute and root mean square error over Scored items.
type RatingScore struct {
	Scored              int
	MAEMilli, RMSEMilli int64
}

// EvaluateRatings scores res against truth where has is set, skipping items
// without a verdict.
func EvaluateRatings(res *RatingResult, truth []int64, has []bool) RatingScore {
	var s RatingScore
	var abs, sq uint64
	for i, it := range res.Items {
		if i >= len(truth) || !has[i] || res.values[i] < 0 {
			continue
		}
		d := abs64(it.Milli - truth[i]*1000)
		abs += uint64(d)
		sq += uint64(d) * uint64(d)
		s.Scored++
	}
	if s.Scored > 0 {
		s.MAEMilli = int64(abs / uint64(s.Scored))
		s.RMSEMilli = int64(isqrt(sq / uint64(s.Scored)))
	}
	return s
}

// HasValue reports whether item i got a verdict (answers or gold).
func (r *RatingResult) HasValue(i int) bool { return r.values[i] >= 0 }
