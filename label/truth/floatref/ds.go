package floatref

import (
	"math"

	"github.com/tenun-chain/tenun/label/truth"
)

// DSOptions mirrors truth.Options in float64. Zero values take the same
// defaults as truth.
type DSOptions struct {
	Gold                 []int
	MaxIter              int
	Tolerance            float64
	Smoothing            float64
	Shrinkage, PoolShare float64
}

func (o DSOptions) withDefaults() DSOptions {
	if o.MaxIter == 0 {
		o.MaxIter = truth.DefaultMaxIter
	}
	if o.Tolerance == 0 {
		o.Tolerance = float64(truth.DefaultTolerance) / float64(truth.One)
	}
	if o.Smoothing == 0 {
		o.Smoothing = float64(truth.DefaultSmoothing) / float64(truth.One)
	}
	if o.Shrinkage == 0 {
		o.Shrinkage = float64(truth.DefaultShrinkage) / float64(truth.One)
	}
	if o.PoolShare == 0 {
		o.PoolShare = float64(truth.DefaultPoolShare) / float64(truth.One)
	}
	return o
}

// DawidSkene is the float counterpart of truth.DawidSkene.
func DawidSkene(a *truth.Answers, opt DSOptions) *Result { return em(a, opt.withDefaults(), false) }

// HierarchicalDS is the float counterpart of truth.HierarchicalDS.
func HierarchicalDS(a *truth.Answers, opt DSOptions) *Result { return em(a, opt.withDefaults(), true) }

// Best is the float counterpart of truth.Best.
func Best(a *truth.Answers, opt DSOptions) *Result { return HierarchicalDS(a, opt) }

// em follows truth's EM step by step, with the same layouts, so the two can
// be compared round by round when they disagree.
func em(a *truth.Answers, opt DSOptions, hierarchical bool) *Result {
	k := a.Classes
	post := MajorityVote(a, opt.Gold).Posterior
	next := make([]float64, len(post))
	answered := make([]bool, a.Items)
	for _, x := range a.List {
		answered[x.Item] = true
	}
	for i, g := range opt.Gold {
		if g != truth.NoLabel {
			answered[i] = true
		}
	}
	cnt := make([]float64, a.Workers*k*k) // [(w*K+l)*K+c]
	logConf := make([]float64, a.Workers*k*k)
	logPrior := make([]float64, k)
	pool := make([]float64, k*k) // [c*K+l]
	alpha := make([]float64, k)
	iters := 0
	for iters < opt.MaxIter {
		iters++
		// M-step.
		clear(cnt)
		for _, x := range a.List {
			for c := 0; c < k; c++ {
				cnt[(x.Worker*k+x.Class)*k+c] += post[x.Item*k+c]
			}
		}
		clear(logPrior)
		for i, ok := range answered {
			if ok {
				for c := 0; c < k; c++ {
					logPrior[c] += post[i*k+c]
				}
			}
		}
		tot := 0.0
		for c := range logPrior {
			logPrior[c] += opt.Smoothing
			tot += logPrior[c]
		}
		for c := range logPrior {
			logPrior[c] = math.Log2(logPrior[c] / tot)
		}
		if hierarchical {
			clear(pool)
			for w := 0; w < a.Workers; w++ {
				for l := 0; l < k; l++ {
					for c := 0; c < k; c++ {
						pool[c*k+l] += cnt[(w*k+l)*k+c]
					}
				}
			}
			for c := 0; c < k; c++ {
				s := 0.0
				for l := 0; l < k; l++ {
					pool[c*k+l] += opt.Smoothing
					s += pool[c*k+l]
				}
				for l := 0; l < k; l++ {
					pool[c*k+l] /= s
				}
			}
		}
		for w := 0; w < a.Workers; w++ {
			var q float64
			if hierarchical {
				cor, all := 0.0, 0.0
				for l := 0; l < k; l++ {
					for c := 0; c < k; c++ {
						all += cnt[(w*k+l)*k+c]
						if c == l {
							cor += cnt[(w*k+l)*k+c]
						}
					}
				}
				q = (cor + 1) / (all + 2)
			}
			for c := 0; c < k; c++ {
				s := 0.0
				for l := 0; l < k; l++ {
					v := cnt[(w*k+l)*k+c] + opt.Smoothing
					if hierarchical {
						self := (1 - q) / float64(k-1)
						if l == c {
							self = q
						}
						v += opt.Shrinkage * float64(k-1) * ((1-opt.PoolShare)*self + opt.PoolShare*pool[c*k+l])
					}
					alpha[l] = v
					s += v
				}
				for l, v := range alpha {
					logConf[(w*k+l)*k+c] = math.Log2(v / s)
				}
			}
		}
		// E-step.
		for i := 0; i < a.Items; i++ {
			copy(next[i*k:(i+1)*k], logPrior)
		}
		for _, x := range a.List {
			for c := 0; c < k; c++ {
				next[x.Item*k+c] += logConf[(x.Worker*k+x.Class)*k+c]
			}
		}
		for i := 0; i < a.Items; i++ {
			softmax2(next[i*k : (i+1)*k])
		}
		clamp(next, k, opt.Gold)
		delta := 0.0
		for j := range next {
			delta = math.Max(delta, math.Abs(next[j]-post[j]))
		}
		post, next = next, post
		if delta < opt.Tolerance {
			break
		}
	}
	return finish(a, opt.Gold, post, iters)
}
