package truth

import "fmt"

// Options tunes the methods. The zero value means the defaults below, which
// the published-figure tests were run with.
type Options struct {
	// Gold holds known labels per item (NoLabel where none), or nil. Gold
	// items keep their label in every round, and each worker's gold answers
	// are counted in WorkerResult.
	Gold []int
	// MaxIter bounds EM rounds (default DefaultMaxIter).
	MaxIter int
	// Tolerance stops EM once no posterior moves this much in a round
	// (default DefaultTolerance).
	Tolerance Prob
	// Smoothing is the Dirichlet pseudo-count added to every confusion cell
	// and class count, so no probability is zero (default DefaultSmoothing).
	Smoothing Prob
	// Shrinkage is Best's prior strength per free parameter of a confusion
	// row, and PoolShare the share of that prior centred on the crowd's pooled
	// confusion rather than the worker's own accuracy (defaults
	// DefaultShrinkage, DefaultPoolShare).
	Shrinkage, PoolShare Prob
}

// Defaults. Smoothing 0.01 keeps classic Dawid-Skene near its published
// figures; 100 rounds keep s_rel (which creeps on for hundreds) in budget.
const (
	DefaultMaxIter   = 100
	DefaultTolerance = One >> 20
	DefaultSmoothing = One / 100
	DefaultShrinkage = One
	DefaultPoolShare = One / 4
)

// withDefaults fills zero fields and checks the rest against a.
func (o Options) withDefaults(a *Answers) (Options, error) {
	if err := a.Validate(); err != nil {
		return o, err
	}
	if err := checkSize(a); err != nil {
		return o, err
	}
	if err := a.checkLabels("gold", o.Gold); err != nil {
		return o, err
	}
	if o.MaxIter == 0 {
		o.MaxIter = DefaultMaxIter
	}
	if o.Tolerance == 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.Smoothing == 0 {
		o.Smoothing = DefaultSmoothing
	}
	if o.Shrinkage == 0 {
		o.Shrinkage = DefaultShrinkage
	}
	if o.PoolShare == 0 {
		o.PoolShare = DefaultPoolShare
	}
	switch {
	case o.MaxIter < 0:
		return o, fmt.Errorf("truth: MaxIter %d < 0", o.MaxIter)
	case o.PoolShare > One:
		return o, fmt.Errorf("truth: PoolShare %d above One", o.PoolShare)
	case o.Smoothing < MinSmoothing:
		return o, fmt.Errorf("truth: Smoothing %d below MinSmoothing (%d)", o.Smoothing, MinSmoothing)
	case o.Smoothing > 1<<20*One || o.Shrinkage > 1<<20*One:
		return o, fmt.Errorf("truth: Smoothing or Shrinkage above 2^20")
	}
	return o, nil
}

// Size limits. With them no sum can overflow: a confusion row totals at most
// 2^24 answers of One (2^56) plus pseudo-counts below 2^61, so every
// probability is at least MinSmoothing/2^62 = 2^-50 and an item's log score
// (all terms <= 0) stays above -2^24 * 50 * 2^32 > -2^62.
const (
	MaxAnswers   = 1 << 24
	MaxItems     = 1 << 26
	MinSmoothing = One >> 20
)

// checkSize enforces the size limits for a (already validated).
func checkSize(a *Answers) error {
	switch {
	case len(a.List) > MaxAnswers:
		return fmt.Errorf("truth: %d answers, at most %d supported", len(a.List), MaxAnswers)
	case a.Items > MaxItems:
		return fmt.Errorf("truth: %d items, at most %d supported", a.Items, MaxItems)
	case uint64(a.Workers)*uint64(a.Classes)*uint64(a.Classes) > 1<<31-1:
		// EM addresses confusion cells with int32 offsets.
		return fmt.Errorf("truth: %d workers x %d classes^2 confusion cells, at most 2^31-1", a.Workers, a.Classes)
	}
	return nil
}
