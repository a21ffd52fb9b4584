package truth

import (
	"fmt"
	"slices"
)

// DawidSkene runs the EM algorithm of Dawid and Skene (1979): one confusion
// matrix per worker and a class prior, estimated from the posteriors, which
// are re-estimated from them in turn. It starts from majority-vote shares,
// keeps gold items clamped, and adds opt.Smoothing to every count so that no
// probability is zero.
func DawidSkene(a *Answers, opt Options) (*Result, error) {
	opt, err := opt.withDefaults(a)
	if err != nil {
		return nil, fmt.Errorf("dawid-skene: %w", err)
	}
	return newEM(a, opt, false).run("dawid-skene"), nil
}

// Best is the method that wins across the reference data sets: currently
// HierarchicalDS (see the package tests for the figures).
func Best(a *Answers, opt Options) (*Result, error) { return HierarchicalDS(a, opt) }

// HierarchicalDS is Dawid-Skene with an empirical-Bayes Dirichlet prior on
// each confusion row: Shrinkage*(K-1) pseudo-answers (one per free parameter
// of the row at the default Shrinkage of 1), centred on a blend of the
// worker's own one-coin model (accuracy q on the diagonal, 1-q spread over
// the other classes) and, with weight PoolShare, the crowd's pooled confusion
// row. A worker with 20 answers on a 4-class task has 12 free confusion
// parameters: plain DS overfits them, the prior keeps the estimate near what
// the worker's overall accuracy and the crowd's typical mistakes imply, and
// workers with many answers are barely moved. It is the MAP counterpart of
// LFC/BCC with the prior means learned from the data.
func HierarchicalDS(a *Answers, opt Options) (*Result, error) {
	opt, err := opt.withDefaults(a)
	if err != nil {
		return nil, fmt.Errorf("hierarchical dawid-skene: %w", err)
	}
	return newEM(a, opt, true).run("hierarchical-ds"), nil
}

// em holds the state of one EM run. Layouts keep the classes of one
// (worker, answered label) pair adjacent, the access pattern of both steps:
// cnt and logConf are indexed (w*K+l)*K+c for true class c.
type em struct {
	a            *Answers
	opt          Options
	k            int
	hierarchical bool
	answered     []bool // item has answers or gold: counts towards the class prior
	post, next   []Prob
	cnt          []uint64 // posterior mass per (worker, label, true class), Q32 units
	logConf      []log2Q  // log2 P(label | true class) per (worker, label, class)
	logPrior     []log2Q
	prior        []Prob
	pool         []Prob // pooled P(label | class) at [c*K+l], hierarchical only
	alpha        []uint64
	acc          []log2Q
	scratch      []uint64
	// Answers grouped by item (a stable counting sort of a.List), each as the
	// offset (w*K+l)*K of its cells, so both steps walk items in order.
	start []int32 // answers of item i are cell[start[i]:start[i+1]]
	cell  []int32
}

func newEM(a *Answers, opt Options, hierarchical bool) *em {
	k := a.Classes
	e := &em{a: a, opt: opt, k: k, hierarchical: hierarchical,
		answered: make([]bool, a.Items),
		post:     voteShares(a, opt.Gold),
		next:     make([]Prob, a.Items*k),
		cnt:      make([]uint64, a.Workers*k*k),
		logConf:  make([]log2Q, a.Workers*k*k),
		logPrior: make([]log2Q, k),
		prior:    make([]Prob, k),
		alpha:    make([]uint64, k),
		acc:      make([]log2Q, k),
		scratch:  make([]uint64, k),
	}
	if hierarchical {
		e.pool = make([]Prob, k*k)
	}
	e.start = make([]int32, a.Items+1)
	for _, x := range a.List {
		e.answered[x.Item] = true
		e.start[x.Item+1]++
	}
	for i := 0; i < a.Items; i++ {
		e.start[i+1] += e.start[i]
	}
	e.cell = make([]int32, len(a.List))
	fill := slices.Clone(e.start[:a.Items])
	for _, x := range a.List {
		e.cell[fill[x.Item]] = int32((x.Worker*k + x.Class) * k)
		fill[x.Item]++
	}
	for i, g := range opt.Gold {
		if g != NoLabel {
			e.answered[i] = true
		}
	}
	return e
}

func (e *em) run(method string) *Result {
	iters, converged := 0, false
	for iters < e.opt.MaxIter && !converged {
		iters++
		e.mStep()
		converged = e.eStep() < e.opt.Tolerance
		e.post, e.next = e.next, e.post
	}
	r := finish(e.a, e.opt.Gold, method, e.post)
	r.Iterations, r.Converged = iters, converged
	if iters > 0 {
		r.Confusion, r.ClassPrior = e.confusion()
		r.informativeness()
	}
	return r
}

// mStep estimates log class priors and log confusion matrices from e.post.
func (e *em) mStep() {
	k, a := e.k, e.a
	clear(e.cnt)
	for i := 0; i < a.Items; i++ {
		e.count(e.post[i*k:(i+1)*k], e.cell[e.start[i]:e.start[i+1]])
	}
	e.priorFromPost()
	if e.hierarchical {
		e.pooled()
	}
	for w := 0; w < a.Workers; w++ {
		q := e.oneCoin(w)
		for c := 0; c < k; c++ {
			tot := e.rowAlpha(w, c, q)
			lt := log2Int(tot)
			for l, v := range e.alpha {
				e.logConf[(w*k+l)*k+c] = log2Int(v) - lt
			}
		}
	}
}

// priorFromPost sets logPrior from the posteriors of answered or gold items.
func (e *em) priorFromPost() {
	k := e.k
	sum := e.scratch
	clear(sum)
	var tot uint64
	for i, ok := range e.answered {
		if !ok {
			continue
		}
		for c, p := range e.post[i*k : (i+1)*k] {
			sum[c] += uint64(p)
		}
	}
	for c := range sum {
		sum[c] += uint64(e.opt.Smoothing)
		tot += sum[c]
	}
	lt := log2Int(tot)
	for c, s := range sum {
		e.logPrior[c] = log2Int(s) - lt
		e.prior[c] = Ratio(s, tot)
	}
}

// pooled sets e.pool to the confusion of all workers together.
func (e *em) pooled() {
	k := e.k
	sum := make([]uint64, k*k) // [c*K+l]
	for w := 0; w < e.a.Workers; w++ {
		for l := 0; l < k; l++ {
			for c, v := range e.cnt[(w*k+l)*k : (w*k+l+1)*k] {
				sum[c*k+l] += v
			}
		}
	}
	for c := 0; c < k; c++ {
		var tot uint64
		for l := 0; l < k; l++ {
			sum[c*k+l] += uint64(e.opt.Smoothing)
			tot += sum[c*k+l]
		}
		for l := 0; l < k; l++ {
			e.pool[c*k+l] = Ratio(sum[c*k+l], tot)
		}
	}
}

// oneCoin is worker w's overall accuracy under the current counts with a
// Laplace prior, (correct+1)/(total+2); only the hierarchical prior uses it.
func (e *em) oneCoin(w int) Prob {
	if !e.hierarchical {
		return 0
	}
	k := e.k
	var cor, tot uint64
	for l := 0; l < k; l++ {
		for c, v := range e.cnt[(w*k+l)*k : (w*k+l+1)*k] {
			tot += v
			if c == l {
				cor += v
			}
		}
	}
	return Ratio(cor+uint64(One), tot+2*uint64(One))
}

// rowAlpha fills e.alpha with the Dirichlet posterior counts of worker w's
// confusion row for true class c (counts + smoothing + prior) and returns their sum.
func (e *em) rowAlpha(w, c int, q Prob) uint64 {
	k := e.k
	var tot uint64
	var strength, miss Prob // prior pseudo-answers; one-coin P(a given wrong label)
	if e.hierarchical {
		strength = e.opt.Shrinkage * Prob(k-1)
		miss = (One - q) / Prob(k-1)
	}
	for l := 0; l < k; l++ {
		v := e.cnt[(w*k+l)*k+c] + uint64(e.opt.Smoothing)
		if e.hierarchical {
			self := miss
			if l == c {
				self = q
			}
			mean := mulQ(One-e.opt.PoolShare, self) + mulQ(e.opt.PoolShare, e.pool[c*k+l])
			v += uint64(mulQ(strength, mean))
		}
		e.alpha[l] = v
		tot += v
	}
	return tot
}

// eStep computes e.next from logPrior and logConf and returns the largest
// change of any posterior against e.post.
func (e *em) eStep() Prob {
	k, a := e.k, e.a
	gold := e.opt.Gold
	var delta Prob
	for i := 0; i < a.Items; i++ {
		next := e.next[i*k : (i+1)*k]
		if gold != nil && gold[i] != NoLabel {
			clear(next)
			next[gold[i]] = One
			continue // clamped: never moves
		}
		e.accumulate(e.cell[e.start[i]:e.start[i+1]])
		softmax(e.acc, next, e.scratch)
		for c, p := range next {
			q := e.post[i*k+c]
			if p > q {
				delta = max(delta, p-q)
			} else {
				delta = max(delta, q-p)
			}
		}
	}
	return delta
}

// accumulate sets e.acc to the log prior plus the log confusion entries of
// one item's answers. Binary and 4-class sets, the common cases, get
// unrolled loops with one bounds check per answer (about twice as fast).
func (e *em) accumulate(cells []int32) {
	acc := e.acc
	copy(acc, e.logPrior)
	switch e.k {
	case 2:
		a0, a1 := acc[0], acc[1]
		for _, off := range cells {
			lc := (*[2]log2Q)(e.logConf[off:])
			a0, a1 = a0+lc[0], a1+lc[1]
		}
		acc[0], acc[1] = a0, a1
	case 4:
		a0, a1, a2, a3 := acc[0], acc[1], acc[2], acc[3]
		for _, off := range cells {
			lc := (*[4]log2Q)(e.logConf[off:])
			a0, a1, a2, a3 = a0+lc[0], a1+lc[1], a2+lc[2], a3+lc[3]
		}
		acc[0], acc[1], acc[2], acc[3] = a0, a1, a2, a3
	default:
		for _, off := range cells {
			lc := e.logConf[off : int(off)+len(acc)]
			for c := range acc {
				acc[c] += lc[c]
			}
		}
	}
}

// count adds one item's posterior row to the cells of each of its answers.
func (e *em) count(row []Prob, cells []int32) {
	switch e.k {
	case 2:
		p0, p1 := uint64(row[0]), uint64(row[1])
		for _, off := range cells {
			cnt := (*[2]uint64)(e.cnt[off:])
			cnt[0] += p0
			cnt[1] += p1
		}
	case 4:
		p0, p1, p2, p3 := uint64(row[0]), uint64(row[1]), uint64(row[2]), uint64(row[3])
		for _, off := range cells {
			cnt := (*[4]uint64)(e.cnt[off:])
			cnt[0] += p0
			cnt[1] += p1
			cnt[2] += p2
			cnt[3] += p3
		}
	default:
		for _, off := range cells {
			cnt := e.cnt[off : int(off)+len(row)]
			for c, p := range row {
				cnt[c] += uint64(p)
			}
		}
	}
}

// confusion returns the confusion matrices ([w][c][l]) and class prior that
// produced the final posteriors.
func (e *em) confusion() (conf, prior []Prob) {
	k := e.k
	conf = make([]Prob, e.a.Workers*k*k)
	for w := 0; w < e.a.Workers; w++ {
		q := e.oneCoin(w)
		for c := 0; c < k; c++ {
			tot := e.rowAlpha(w, c, q)
			for l, v := range e.alpha {
				conf[(w*k+c)*k+l] = Ratio(v, tot)
			}
		}
	}
	return conf, slices.Clone(e.prior)
}
