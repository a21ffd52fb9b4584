package truth

import (
	"fmt"
	"slices"
)

// EMCheckpoint is a Best (hierarchical Dawid-Skene) run stopped between
// rounds, so that a long inference can be spread over many calls (the
// chain runs a few rounds per block). It holds what a round's M-step
// leaves: the posterior mass per (worker, label, class), the pooled
// confusion, the class prior and the log parameters; the posteriors
// themselves are recomputed from them (one E-step) when the run resumes.
// A run split over calls gives exactly the bits of one Best call.
type EMCheckpoint struct {
	Iterations int      `cbor:"1,keyasint"`
	Converged  bool     `cbor:"2,keyasint"`
	Cnt        []uint64 `cbor:"3,keyasint"`
	LogConf    []int64  `cbor:"4,keyasint"`
	LogPrior   []int64  `cbor:"5,keyasint"`
	Prior      []Prob   `cbor:"6,keyasint"`
	Pool       []Prob   `cbor:"7,keyasint"`
}

// Done reports that the run has converged or used its rounds.
func (cp *EMCheckpoint) Done(opt Options) bool {
	if cp == nil {
		return false
	}
	maxIter := opt.MaxIter
	if maxIter == 0 {
		maxIter = DefaultMaxIter
	}
	return cp.Converged || cp.Iterations >= maxIter
}

// ResumeBest runs up to rounds more rounds of Best over a from cp (nil:
// from the start) and returns the new checkpoint. a and opt must be the
// same in every call of one run.
func ResumeBest(a *Answers, opt Options, cp *EMCheckpoint, rounds int) (*EMCheckpoint, error) {
	opt, err := opt.withDefaults(a)
	if err != nil {
		return nil, fmt.Errorf("resume best: %w", err)
	}
	e := newEM(a, opt, true)
	iters, converged := 0, false
	if cp != nil {
		if err := e.restore(cp); err != nil {
			return nil, err
		}
		iters, converged = cp.Iterations, cp.Converged
	}
	for r := 0; r < rounds && iters < opt.MaxIter && !converged; r++ {
		iters++
		e.mStep()
		converged = e.eStep() < opt.Tolerance
		e.post, e.next = e.next, e.post
	}
	return e.checkpoint(iters, converged), nil
}

// FinishBest returns the Result of the run cp stopped (as Best would).
func FinishBest(a *Answers, opt Options, cp *EMCheckpoint) (*Result, error) {
	opt, err := opt.withDefaults(a)
	if err != nil {
		return nil, fmt.Errorf("finish best: %w", err)
	}
	e := newEM(a, opt, true)
	if cp == nil || cp.Iterations == 0 {
		return e.run("hierarchical-ds"), nil // no rounds: as Best with nothing to do
	}
	if err := e.restore(cp); err != nil {
		return nil, err
	}
	r := finish(e.a, e.opt.Gold, "hierarchical-ds", e.post)
	r.Iterations, r.Converged = cp.Iterations, cp.Converged
	r.Confusion, r.ClassPrior = e.confusion()
	r.informativeness()
	return r, nil
}

func (e *em) checkpoint(iters int, converged bool) *EMCheckpoint {
	cp := &EMCheckpoint{Iterations: iters, Converged: converged, Cnt: slices.Clone(e.cnt),
		LogConf: make([]int64, len(e.logConf)), LogPrior: make([]int64, len(e.logPrior)), Prior: slices.Clone(e.prior), Pool: slices.Clone(e.pool)}
	for i, v := range e.logConf {
		cp.LogConf[i] = int64(v)
	}
	for i, v := range e.logPrior {
		cp.LogPrior[i] = int64(v)
	}
	return cp
}

// restore loads cp's parameters and recomputes the posteriors they give.
func (e *em) restore(cp *EMCheckpoint) error {
	k := e.k
	if len(cp.Cnt) != len(e.cnt) || len(cp.LogConf) != len(e.logConf) || len(cp.LogPrior) != k || len(cp.Prior) != k || len(cp.Pool) != len(e.pool) {
		return fmt.Errorf("truth: checkpoint does not fit %d workers and %d classes", e.a.Workers, k)
	}
	if cp.Iterations == 0 {
		return nil // nothing run yet: the start posteriors stand
	}
	copy(e.cnt, cp.Cnt)
	for i, v := range cp.LogConf {
		e.logConf[i] = log2Q(v)
	}
	for i, v := range cp.LogPrior {
		e.logPrior[i] = log2Q(v)
	}
	copy(e.prior, cp.Prior)
	copy(e.pool, cp.Pool)
	e.eStep()
	e.post, e.next = e.next, e.post
	return nil
}
