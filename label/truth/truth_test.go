package truth_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/label/truth"
)

const nl = truth.NoLabel

// method adapts every method to one signature for table tests.
type method struct {
	name string
	run  func(*truth.Answers, truth.Options) (*truth.Result, error)
}

var methods = []method{
	{"majority", truth.MajorityVote},
	{"dawid-skene", truth.DawidSkene},
	{"best", truth.Best},
}

// answers builds an Answers from (item, worker, class) triples.
func answers(items, workers, classes int, triples ...[3]int) *truth.Answers {
	a := &truth.Answers{Items: items, Workers: workers, Classes: classes}
	for _, x := range triples {
		a.List = append(a.List, truth.Answer{Item: x[0], Worker: x[1], Class: x[2]})
	}
	return a
}

func frac(p truth.Prob) float64 { return float64(p) / float64(truth.One) }

func TestMajorityVote(t *testing.T) {
	tests := []struct {
		name      string
		a         *truth.Answers
		gold      []int
		label     []int
		tied      []int
		votes     []int
		confPPM   []uint64
		wantScore uint64 // ppm of accuracy against truth
		truth     []int
	}{
		{
			name:  "clear majority",
			a:     answers(1, 3, 2, [3]int{0, 0, 1}, [3]int{0, 1, 1}, [3]int{0, 2, 0}),
			label: []int{1}, tied: []int{1}, votes: []int{3}, confPPM: []uint64{666_667},
			truth: []int{1}, wantScore: 1_000_000,
		},
		{
			name:  "tie earns half credit",
			a:     answers(1, 2, 2, [3]int{0, 0, 0}, [3]int{0, 1, 1}),
			label: []int{0}, tied: []int{2}, votes: []int{2}, confPPM: []uint64{500_000},
			truth: []int{1}, wantScore: 500_000,
		},
		{
			name:  "three-way tie earns a third",
			a:     answers(1, 3, 3, [3]int{0, 0, 2}, [3]int{0, 1, 1}, [3]int{0, 2, 0}),
			label: []int{0}, tied: []int{3}, votes: []int{3}, confPPM: []uint64{333_333},
			truth: []int{2}, wantScore: 333_333,
		},
		{
			name:  "a worker answering twice counts twice",
			a:     answers(1, 2, 2, [3]int{0, 0, 1}, [3]int{0, 0, 1}, [3]int{0, 1, 0}),
			label: []int{1}, tied: []int{1}, votes: []int{3}, confPPM: []uint64{666_667},
			truth: []int{1}, wantScore: 1_000_000,
		},
		{
			name:  "empty item has no label and is not scored",
			a:     answers(2, 1, 2, [3]int{0, 0, 1}),
			label: []int{1, nl}, tied: []int{1, 2}, votes: []int{1, 0}, confPPM: []uint64{1_000_000, 0},
			truth: []int{1, 0}, wantScore: 1_000_000,
		},
		{
			name:  "gold overrides the votes",
			a:     answers(2, 3, 2, [3]int{0, 0, 0}, [3]int{0, 1, 0}, [3]int{0, 2, 0}, [3]int{1, 0, 1}),
			gold:  []int{1, nl},
			label: []int{1, 1}, tied: []int{1, 1}, votes: []int{3, 1}, confPPM: []uint64{1_000_000, 1_000_000},
			truth: []int{1, 1}, wantScore: 1_000_000,
		},
		{
			name:  "gold item without answers still gets its label",
			a:     answers(2, 1, 2, [3]int{0, 0, 0}),
			gold:  []int{nl, 1},
			label: []int{0, 1}, tied: []int{1, 1}, votes: []int{1, 0}, confPPM: []uint64{1_000_000, 1_000_000},
			truth: []int{0, 1}, wantScore: 1_000_000, // the gold item has no answers: not scored
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := truth.MajorityVote(tt.a, truth.Options{Gold: tt.gold})
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range r.Items {
				if it.Label != tt.label[i] || it.Tied != tt.tied[i] || it.Votes != tt.votes[i] || it.Confidence.PPM() != tt.confPPM[i] {
					t.Errorf("item %d = %+v (confidence %d ppm), want label %d tied %d votes %d confidence %d ppm",
						i, it, it.Confidence.PPM(), tt.label[i], tt.tied[i], tt.votes[i], tt.confPPM[i])
				}
				if it.Gold != (tt.gold != nil && tt.gold[i] != nl) {
					t.Errorf("item %d: Gold = %v", i, it.Gold)
				}
			}
			if got := truth.Evaluate(r, tt.truth, 1).Accuracy().PPM(); got != tt.wantScore {
				t.Errorf("accuracy = %d ppm, want %d", got, tt.wantScore)
			}
		})
	}
}

func TestGoldClampingAllMethods(t *testing.T) {
	// Everyone says 0 on item 0, whose gold label is 1.
	a := answers(3, 3, 2,
		[3]int{0, 0, 0}, [3]int{0, 1, 0}, [3]int{0, 2, 0},
		[3]int{1, 0, 1}, [3]int{1, 1, 1}, [3]int{1, 2, 0},
		[3]int{2, 0, 0}, [3]int{2, 1, 0})
	gold := []int{1, nl, nl}
	for _, m := range append(methods, method{"weighted", func(a *truth.Answers, o truth.Options) (*truth.Result, error) {
		return truth.WeightedVote(a, nil, o)
	}}) {
		t.Run(m.name, func(t *testing.T) {
			r, err := m.run(a, truth.Options{Gold: gold})
			if err != nil {
				t.Fatal(err)
			}
			if it := r.Items[0]; it.Label != 1 || it.Confidence != truth.One || !it.Gold {
				t.Errorf("gold item = %+v, want label 1 with confidence One", it)
			}
			if got := r.Row(0); got[0] != 0 || got[1] != truth.One {
				t.Errorf("gold row = %v, want one-hot on 1", got)
			}
			for w, wr := range r.Workers {
				if wr.GoldAnswers != 1 || wr.GoldCorrect != 0 || wr.GoldAccuracy != 0 {
					t.Errorf("worker %d gold stats = %+v, want 1 answer, 0 correct", w, wr)
				}
			}
		})
	}
}

func TestWeightedVote(t *testing.T) {
	// Two reliable workers say 1, three near-chance workers say 0.
	a := answers(1, 5, 2, [3]int{0, 0, 1}, [3]int{0, 1, 1}, [3]int{0, 2, 0}, [3]int{0, 3, 0}, [3]int{0, 4, 0})
	rep := []truth.Prob{truth.One * 9 / 10, truth.One * 9 / 10, truth.One * 55 / 100, truth.One * 55 / 100, truth.One * 55 / 100}
	r, err := truth.WeightedVote(a, rep, truth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Items[0].Label != 1 {
		t.Errorf("weighted label = %d, want 1 (majority vote would say 0)", r.Items[0].Label)
	}
	// Weights 2*log2(9) against 3*log2(11/9): P(1) = 81/(81+(11/9)^3).
	if got, want := frac(r.Items[0].Confidence), 81/(81+1331.0/729); got < want-1e-8 || got > want+1e-8 {
		t.Errorf("confidence %v, want %v", got, want)
	}

	// Chance-level and worse workers weigh nothing: a tie remains a tie.
	rep = []truth.Prob{truth.One / 2, truth.One / 10, 0, 0, 0}
	a = answers(1, 5, 2, [3]int{0, 0, 1}, [3]int{0, 1, 0})
	if r, err = truth.WeightedVote(a, rep, truth.Options{}); err != nil {
		t.Fatal(err)
	}
	if it := r.Items[0]; it.Tied != 2 {
		t.Errorf("item = %+v, want a two-way tie", it)
	}

	if _, err := truth.WeightedVote(a, nil, truth.Options{}); err == nil {
		t.Error("no reputations and no gold: want an error")
	}
	if _, err := truth.WeightedVote(a, rep[:2], truth.Options{}); err == nil {
		t.Error("short reputations: want an error")
	}
}

func TestGoldReputation(t *testing.T) {
	a := answers(3, 3, 2,
		[3]int{0, 0, 1}, [3]int{1, 0, 0}, // worker 0: 2 of 2 gold right
		[3]int{0, 1, 0}, [3]int{1, 1, 0}, // worker 1: 1 of 2
		[3]int{2, 2, 1}) // worker 2: no gold answers
	rep, err := truth.GoldReputation(a, []int{1, 0, nl})
	if err != nil {
		t.Fatal(err)
	}
	want := []truth.Prob{truth.Ratio(3, 4), truth.Ratio(2, 4), truth.Ratio(1, 2)}
	if !slices.Equal(rep, want) {
		t.Errorf("reputations %v, want %v", rep, want)
	}
}

// flipCrowd: workers 0-2 are right 90% of the time, worker 3 always answers
// the opposite of the truth, worker 4 always says 0.
func flipCrowd(items int, seed uint64) (*truth.Answers, []int) {
	r := rand.New(rand.NewPCG(seed, 7))
	a := &truth.Answers{Items: items, Workers: 5, Classes: 2}
	labels := make([]int, items)
	for i := range labels {
		labels[i] = r.IntN(2)
		for w := range 3 {
			c := labels[i]
			if r.IntN(10) == 0 {
				c = 1 - c
			}
			a.List = append(a.List, truth.Answer{Item: i, Worker: w, Class: c})
		}
		a.List = append(a.List, truth.Answer{Item: i, Worker: 3, Class: 1 - labels[i]}, truth.Answer{Item: i, Worker: 4, Class: 0})
	}
	return a, labels
}

func TestDawidSkeneLearnsWorkers(t *testing.T) {
	a, labels := flipCrowd(400, 1)
	for _, m := range methods[1:] {
		t.Run(m.name, func(t *testing.T) {
			r, err := m.run(a, truth.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if acc := frac(truth.Evaluate(r, labels, 1).Accuracy()); acc < 0.999 {
				t.Errorf("accuracy %v: the flipper's answers carry the truth, want ~1", acc)
			}
			for w := range 3 {
				if acc := frac(r.Workers[w].Accuracy); acc < 0.85 || acc > 0.95 {
					t.Errorf("honest worker %d accuracy %v, want about 0.9", w, acc)
				}
			}
			if acc := frac(r.Workers[3].Accuracy); acc > 0.01 {
				t.Errorf("flipper accuracy %v, want ~0", acc)
			}
			if acc := frac(r.Workers[4].Accuracy); acc < 0.4 || acc > 0.6 {
				t.Errorf("always-0 worker accuracy %v, want about the share of 0s", acc)
			}
			if inf := frac(r.Workers[3].Informativeness); inf < 0.95 {
				t.Errorf("flipper informativeness %v, want ~1: its answers pin the truth down", inf)
			}
			if inf := frac(r.Workers[4].Informativeness); inf > 0.05 {
				t.Errorf("always-0 worker informativeness %v, want ~0", inf)
			}
			// The flipper's confusion row for true class 0 puts its mass on 1.
			if p := frac(r.ConfusionRow(3, 0)[1]); p < 0.98 {
				t.Errorf("flipper P(1|0) = %v, want ~1", p)
			}
			if !r.Converged || r.Iterations < 2 {
				t.Errorf("iterations %d converged %v", r.Iterations, r.Converged)
			}
			var prior truth.Prob
			for _, p := range r.ClassPrior {
				prior += p
			}
			if truth.One-prior > 4 {
				t.Errorf("class prior sums to %d", prior)
			}
		})
	}
}

func TestEmptyItemsAndWorkers(t *testing.T) {
	// Item 1 and worker 2 have no answers at all.
	a := answers(3, 3, 2, [3]int{0, 0, 1}, [3]int{0, 1, 1}, [3]int{2, 0, 0}, [3]int{2, 1, 0})
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			r, err := m.run(a, truth.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if it := r.Items[1]; it.Label != nl || it.Votes != 0 || it.Confidence != 0 {
				t.Errorf("empty item = %+v, want NoLabel", it)
			}
			if w := r.Workers[2]; w.Answers != 0 || w.Accuracy != 0 {
				t.Errorf("idle worker = %+v", w)
			}
			if got := truth.Evaluate(r, []int{1, 1, 0}, 1).Scored; got != 2 {
				t.Errorf("scored %d items, want 2", got)
			}
		})
	}
}

func TestOrderDoesNotMatter(t *testing.T) {
	a, _ := flipCrowd(300, 2)
	b := &truth.Answers{Items: a.Items, Workers: a.Workers, Classes: a.Classes, List: slices.Clone(a.List)}
	r := rand.New(rand.NewPCG(5, 6))
	r.Shuffle(len(b.List), func(i, j int) { b.List[i], b.List[j] = b.List[j], b.List[i] })
	for _, m := range methods {
		x, err := m.run(a, truth.Options{})
		if err != nil {
			t.Fatal(err)
		}
		y, err := m.run(b, truth.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x.Posterior, y.Posterior) || !slices.Equal(x.Workers, y.Workers) || !slices.Equal(x.Confusion, y.Confusion) {
			t.Errorf("%s: shuffling the answers changed the result", m.name)
		}
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		a    *truth.Answers
		opt  truth.Options
		want string
	}{
		{"nil", nil, truth.Options{}, "nil answers"},
		{"one class", answers(1, 1, 1), truth.Options{}, "classes"},
		{"item out of range", answers(1, 1, 2, [3]int{1, 0, 0}), truth.Options{}, "out of range"},
		{"class out of range", answers(1, 1, 2, [3]int{0, 0, 2}), truth.Options{}, "out of range"},
		{"gold length", answers(2, 1, 2), truth.Options{Gold: []int{0}}, "gold"},
		{"gold class", answers(1, 1, 2), truth.Options{Gold: []int{5}}, "gold"},
		{"pool share", answers(1, 1, 2), truth.Options{PoolShare: truth.One + 1}, "PoolShare"},
	}
	for _, tt := range tests {
		for _, m := range methods {
			_, err := m.run(tt.a, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s/%s: error %v, want one mentioning %q", tt.name, m.name, err, tt.want)
			}
		}
	}
}

func TestEvaluateF1(t *testing.T) {
	// Items: truth 1,1,0,0; predictions 1, tie, 1, 0.
	a := answers(4, 2, 2,
		[3]int{0, 0, 1}, [3]int{0, 1, 1},
		[3]int{1, 0, 1}, [3]int{1, 1, 0},
		[3]int{2, 0, 1}, [3]int{2, 1, 1},
		[3]int{3, 0, 0}, [3]int{3, 1, 0})
	r, err := truth.MajorityVote(a, truth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := truth.Evaluate(r, []int{1, 1, 0, 0}, 1)
	// TP = 1.5, FN = 0.5, FP = 1: F1 = 3/(3+1.5) = 2/3; accuracy 2.5/4.
	if s.TP != truth.One*3/2 || s.FN != truth.One/2 || s.FP != truth.One {
		t.Errorf("TP %d FP %d FN %d", s.TP, s.FP, s.FN)
	}
	if got := s.F1().PPM(); got != 666_667 {
		t.Errorf("F1 = %d ppm, want 666667", got)
	}
	if got := s.Accuracy().PPM(); got != 625_000 {
		t.Errorf("accuracy = %d ppm, want 625000", got)
	}
}
