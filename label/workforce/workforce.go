// Package workforce simulates annotators for testing truth inference and the
// annotation market: honest workers with class-dependent confusion matrices,
// spammers, workers who always give one label, and copiers. Everything is
// drawn from explicit seeds, so a seed always gives the same answers. It is
// test and benchmark tooling, not consensus code.
package workforce

import (
	"fmt"
	"math/rand/v2"

	"github.com/tenun-chain/tenun/label/truth"
)

// Kind is a worker's behaviour.
type Kind int

const (
	// Honest workers answer from their confusion matrix.
	Honest Kind = iota
	// Spammer answers uniformly at random.
	Spammer
	// Constant always gives the same label.
	Constant
	// Copier repeats the answer of its target worker on items they share.
	Copier
)

func (k Kind) String() string {
	switch k {
	case Honest:
		return "honest"
	case Spammer:
		return "spammer"
	case Constant:
		return "constant"
	case Copier:
		return "copier"
	case Lazy:
		return "lazy"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Worker is one simulated annotator.
type Worker struct {
	Kind Kind
	// Confusion[c][l] is P(answer l | true class c) for honest workers.
	Confusion [][]float64
	// Accuracy is the honest worker's mean diagonal, as drawn.
	Accuracy float64
	// Label is the constant worker's only answer.
	Label int
	// Target is the worker a copier copies; Late copiers only take items
	// their target has already answered (they wait for the answer), others
	// take random items and guess at random where the target has not answered.
	Target int
	Late   bool
}

// Mix describes a crowd to draw.
type Mix struct {
	Classes                             int
	Honest, Spammers, Constant, Copiers int
	// MinAccuracy and MaxAccuracy bound honest workers' mean accuracy
	// (defaults 0.6 and 0.9). Each class's own accuracy varies by up to
	// ClassSpread around it (default 0.1), so errors depend on the class.
	MinAccuracy, MaxAccuracy, ClassSpread float64
	// LateShare is the share of copiers that wait for their target (default 0.5).
	LateShare float64
	Seed      uint64
}

// Crowd is a set of workers answering tasks with Classes classes.
type Crowd struct {
	Classes int
	Workers []Worker
}

// New draws a crowd. Workers are indexed in the order honest, spammers,
// constant, copiers; Kinds lists them.
func New(m Mix) (*Crowd, error) {
	if m.Classes < 2 {
		return nil, fmt.Errorf("workforce: %d classes, want at least 2", m.Classes)
	}
	if m.Honest < 0 || m.Spammers < 0 || m.Constant < 0 || m.Copiers < 0 {
		return nil, fmt.Errorf("workforce: negative worker count in %+v", m)
	}
	if m.Copiers > 0 && m.Honest == 0 {
		return nil, fmt.Errorf("workforce: copiers need an honest worker to copy")
	}
	if m.MinAccuracy == 0 && m.MaxAccuracy == 0 {
		m.MinAccuracy, m.MaxAccuracy = 0.6, 0.9
	}
	if m.ClassSpread == 0 {
		m.ClassSpread = 0.1
	}
	if m.LateShare == 0 {
		m.LateShare = 0.5
	}
	if m.MinAccuracy > m.MaxAccuracy || m.MaxAccuracy > 1 {
		return nil, fmt.Errorf("workforce: accuracy range [%v, %v] invalid", m.MinAccuracy, m.MaxAccuracy)
	}
	r := rand.New(rand.NewPCG(m.Seed, 0x776f726b666f7263)) // "workforc"
	c := &Crowd{Classes: m.Classes}
	k := m.Classes
	for range m.Honest {
		acc := m.MinAccuracy + r.Float64()*(m.MaxAccuracy-m.MinAccuracy)
		c.Workers = append(c.Workers, Worker{Kind: Honest, Accuracy: acc, Confusion: confusion(r, k, acc, m.ClassSpread)})
	}
	for range m.Spammers {
		c.Workers = append(c.Workers, Worker{Kind: Spammer})
	}
	for range m.Constant {
		c.Workers = append(c.Workers, Worker{Kind: Constant, Label: r.IntN(k)})
	}
	for range m.Copiers {
		c.Workers = append(c.Workers, Worker{Kind: Copier, Target: r.IntN(m.Honest), Late: r.Float64() < m.LateShare})
	}
	return c, nil
}

// confusion draws a row per true class: the diagonal is acc moved by up to
// ±spread (kept above chance and below 0.99), and the errors go to the
// other classes by random weights, doubled for neighbouring classes since
// graded labels are mostly confused with the next grade.
func confusion(r *rand.Rand, k int, acc, spread float64) [][]float64 {
	rows := make([][]float64, k)
	for c := range rows {
		d := acc + (2*r.Float64()-1)*spread
		d = min(max(d, 1/float64(k)+0.05), 0.99)
		row := make([]float64, k)
		sum := 0.0
		for l := range row {
			if l == c {
				continue
			}
			row[l] = 0.2 + r.Float64()
			if l == c-1 || l == c+1 {
				row[l] *= 2
			}
			sum += row[l]
		}
		for l := range row {
			if l == c {
				row[l] = d
			} else {
				row[l] *= (1 - d) / sum
			}
		}
		rows[c] = row
	}
	return rows
}

// Kinds returns each worker's kind, by worker index.
func (c *Crowd) Kinds() []Kind {
	out := make([]Kind, len(c.Workers))
	for w, wk := range c.Workers {
		out[w] = wk.Kind
	}
	return out
}

// Labels draws n true labels from the class shares prior (uniform when nil).
func Labels(n, classes int, prior []float64, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 0x6c6162656c73)) // "labels"
	out := make([]int, n)
	for i := range out {
		if prior == nil {
			out[i] = r.IntN(classes)
		} else {
			out[i] = draw(r, prior)
		}
	}
	return out
}

// draw picks an index with probability proportional to weights.
func draw(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for l, w := range weights {
		if x < w {
			return l
		}
		x -= w
	}
	return len(weights) - 1
}

// Answer has the crowd label items whose true classes are labels. Each item
// gets perItem answers from distinct workers drawn at random among all but
// late copiers; each late copier then answers every item its target answered,
// after it. Answers are in the order they were given.
func (c *Crowd) Answer(labels []int, perItem int, seed uint64) (*truth.Answers, error) {
	var pool, late []int
	for w, wk := range c.Workers {
		if wk.Kind == Copier && wk.Late {
			late = append(late, w)
		} else {
			pool = append(pool, w)
		}
	}
	if perItem < 1 || perItem > len(pool) {
		return nil, fmt.Errorf("workforce: %d answers per item from %d assignable workers", perItem, len(pool))
	}
	for i, l := range labels {
		if l < 0 || l >= c.Classes {
			return nil, fmt.Errorf("workforce: item %d has label %d, want 0..%d", i, l, c.Classes-1)
		}
	}
	r := rand.New(rand.NewPCG(seed, 0x616e7377657273)) // "answers"
	a := &truth.Answers{Items: len(labels), Workers: len(c.Workers), Classes: c.Classes}
	given := make(map[int]int) // worker -> answer on the current item
	order := make([]int, len(pool))
	for i, t := range labels {
		clear(given)
		copy(order, pool)
		// Partial Fisher-Yates: the first perItem entries are a random sample.
		for j := range perItem {
			s := j + r.IntN(len(order)-j)
			order[j], order[s] = order[s], order[j]
		}
		chosen := order[:perItem]
		// Copiers answer after everyone else so they can see their target.
		for pass := range 2 {
			for _, w := range chosen {
				if (c.Workers[w].Kind == Copier) != (pass == 1) {
					continue
				}
				l := c.answer(r, w, t, given)
				given[w] = l
				a.List = append(a.List, truth.Answer{Item: i, Worker: w, Class: l})
			}
		}
		for _, w := range late {
			if _, ok := given[c.Workers[w].Target]; ok {
				l := c.answer(r, w, t, given)
				a.List = append(a.List, truth.Answer{Item: i, Worker: w, Class: l})
			}
		}
	}
	return a, nil
}

// answer is worker w's label for an item of true class t, given the answers
// already given to that item.
func (c *Crowd) answer(r *rand.Rand, w, t int, given map[int]int) int {
	wk := &c.Workers[w]
	switch wk.Kind {
	case Honest:
		return draw(r, wk.Confusion[t])
	case Constant:
		return wk.Label
	case Copier:
		if l, ok := given[wk.Target]; ok {
			return l
		}
	}
	return r.IntN(c.Classes) // spammers, and copiers with nothing to copy
}

// Without returns the answers minus those of workers whose kind is in drop,
// keeping indexes, for comparisons such as "majority vote without spammers".
func Without(a *truth.Answers, kinds []Kind, drop ...Kind) *truth.Answers {
	out := &truth.Answers{Items: a.Items, Workers: a.Workers, Classes: a.Classes}
	for _, x := range a.List {
		keep := true
		for _, k := range drop {
			if kinds[x.Worker] == k {
				keep = false
			}
		}
		if keep {
			out.List = append(out.List, x)
		}
	}
	return out
}
