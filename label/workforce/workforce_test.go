package workforce

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/tenun-chain/tenun/label/truth"
)

func frac(p truth.Prob) float64 { return float64(p) / float64(truth.One) }

func accuracy(r *truth.Result, labels []int) float64 {
	s := truth.Evaluate(r, labels, truth.NoLabel)
	return float64(s.Correct) / float64(truth.One) / float64(s.Scored)
}

func TestDeterministic(t *testing.T) {
	mix := Mix{Classes: 3, Honest: 10, Spammers: 3, Constant: 2, Copiers: 3, Seed: 42}
	c1, err := New(mix)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := New(mix)
	labels := Labels(200, 3, nil, 7)
	a1, err := c1.Answer(labels, 5, 9)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := c2.Answer(labels, 5, 9)
	if !slices.Equal(a1.List, a2.List) {
		t.Error("same seeds gave different answers")
	}
	a3, _ := c1.Answer(labels, 5, 10)
	if slices.Equal(a1.List, a3.List) {
		t.Error("different seeds gave the same answers")
	}
}

func TestWorkerBehaviour(t *testing.T) {
	c, err := New(Mix{Classes: 4, Honest: 8, Spammers: 2, Constant: 2, Copiers: 4, LateShare: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	labels := Labels(4000, 4, []float64{4, 3, 2, 1}, 2)
	a, err := c.Answer(labels, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	right := make([]float64, len(c.Workers))
	n := make([]float64, len(c.Workers))
	byItem := make(map[[2]int]int) // (item, worker) -> answer
	for _, x := range a.List {
		n[x.Worker]++
		if x.Class == labels[x.Item] {
			right[x.Worker]++
		}
		byItem[[2]int{x.Item, x.Worker}] = x.Class
	}
	for w, wk := range c.Workers {
		acc := right[w] / n[w]
		switch wk.Kind {
		case Honest:
			// Per-class accuracy moves by ±0.1 and classes are unbalanced.
			if math.Abs(acc-wk.Accuracy) > 0.12 {
				t.Errorf("honest worker %d: accuracy %.3f, drawn %.3f", w, acc, wk.Accuracy)
			}
			for cl, row := range wk.Confusion {
				sum := 0.0
				for _, p := range row {
					sum += p
				}
				if math.Abs(sum-1) > 1e-9 || row[cl] <= 0.25 {
					t.Errorf("worker %d row %d = %v", w, cl, row)
				}
			}
		case Spammer:
			if math.Abs(acc-0.25) > 0.05 {
				t.Errorf("spammer %d: accuracy %.3f, want about 0.25", w, acc)
			}
		case Constant:
			for _, x := range a.List {
				if x.Worker == w && x.Class != wk.Label {
					t.Fatalf("constant worker %d answered %d, not %d", w, x.Class, wk.Label)
				}
			}
		case Copier:
			shared, same := 0, 0
			for _, x := range a.List {
				if x.Worker != w {
					continue
				}
				if l, ok := byItem[[2]int{x.Item, wk.Target}]; ok {
					shared++
					if l == x.Class {
						same++
					}
				}
			}
			if same != shared {
				t.Errorf("copier %d matched its target on %d of %d shared items", w, same, shared)
			}
			if wk.Late && shared != int(n[w]) {
				t.Errorf("late copier %d answered %d items, only %d of them its target's", w, int(n[w]), shared)
			}
		}
	}
}

// TestSpammersFound: with 30% spammers, truth inference must flag every
// spammer, by low estimated accuracy and by low informativeness, and still
// label at least as well as majority vote over the honest workers alone.
func TestSpammersFound(t *testing.T) {
	for _, tt := range []struct {
		classes, items, perItem int
		minAcc, spread          float64
	}{
		// Binary answers carry little evidence each: a weak honest worker is
		// near chance, so the honest crowd here is a notch better and busier.
		{classes: 2, items: 4000, perItem: 10, minAcc: 0.7, spread: 0.05},
		{classes: 4, items: 2000, perItem: 7, minAcc: 0.6, spread: 0.1},
	} {
		t.Run(fmt.Sprintf("%d classes", tt.classes), func(t *testing.T) {
			k := tt.classes
			c, err := New(Mix{Classes: k, Honest: 70, Spammers: 30, MinAccuracy: tt.minAcc, MaxAccuracy: 0.9,
				ClassSpread: tt.spread, Seed: uint64(k)})
			if err != nil {
				t.Fatal(err)
			}
			labels := Labels(tt.items, k, nil, 11)
			a, err := c.Answer(labels, tt.perItem, 12)
			if err != nil {
				t.Fatal(err)
			}
			kinds := c.Kinds()
			mvHonest, err := truth.MajorityVote(Without(a, kinds, Spammer), truth.Options{})
			if err != nil {
				t.Fatal(err)
			}
			mvAll, _ := truth.MajorityVote(a, truth.Options{})
			// Halfway between chance and the weakest honest class accuracy.
			cut := (1/float64(k) + tt.minAcc - tt.spread) / 2
			for _, m := range []struct {
				name string
				run  func(*truth.Answers, truth.Options) (*truth.Result, error)
			}{{"dawid-skene", truth.DawidSkene}, {"best", truth.Best}} {
				r, err := m.run(a, truth.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for w, wr := range r.Workers {
					spammer := kinds[w] == Spammer
					if low := frac(wr.Accuracy) < cut; low != spammer {
						t.Errorf("%s: %s worker %d estimated accuracy %.3f (cut %.3f)", m.name, kinds[w], w, frac(wr.Accuracy), cut)
					}
					// Spammers' rows differ only by sampling noise (up to about
					// 0.23 with ~35 answers a row on 4 classes); honest workers
					// here sit at 0.34 and above.
					if low := frac(wr.Informativeness) < 0.3; low != spammer {
						t.Errorf("%s: %s worker %d informativeness %.3f (cut 0.3)", m.name, kinds[w], w, frac(wr.Informativeness))
					}
				}
				got, floor := accuracy(r, labels), accuracy(mvHonest, labels)
				t.Logf("%s: %.4f; majority vote %.4f with spammers, %.4f without", m.name, got, accuracy(mvAll, labels), floor)
				if got < floor {
					t.Errorf("%s: accuracy %.4f below majority vote without spammers %.4f", m.name, got, floor)
				}
			}
		})
	}
}

func TestConstantWorkersFound(t *testing.T) {
	c, err := New(Mix{Classes: 3, Honest: 40, Constant: 10, Copiers: 5, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	labels := Labels(1500, 3, nil, 6)
	a, err := c.Answer(labels, 6, 7)
	if err != nil {
		t.Fatal(err)
	}
	r, err := truth.Best(a, truth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for w, wk := range c.Workers {
		if wk.Kind == Constant {
			// The row for a class the worker never names shows it.
			other := (wk.Label + 1) % 3
			if p := frac(r.ConfusionRow(w, other)[wk.Label]); p < 0.9 {
				t.Errorf("constant worker %d: P(says %d | true %d) = %.3f, want ~1", w, wk.Label, other, p)
			}
			if acc := frac(r.Workers[w].Accuracy); acc > 0.45 {
				t.Errorf("constant worker %d: estimated accuracy %.3f", w, acc)
			}
			if inf := frac(r.Workers[w].Informativeness); inf > 0.05 {
				t.Errorf("constant worker %d: informativeness %.3f, want ~0", w, inf)
			}
		}
	}
}

func TestMixErrors(t *testing.T) {
	for _, m := range []Mix{
		{Classes: 1, Honest: 1},
		{Classes: 2, Copiers: 1},
		{Classes: 2, Honest: -1},
		{Classes: 2, Honest: 1, MinAccuracy: 0.9, MaxAccuracy: 0.5},
	} {
		if _, err := New(m); err == nil {
			t.Errorf("%+v: want an error", m)
		}
	}
	c, _ := New(Mix{Classes: 2, Honest: 2})
	if _, err := c.Answer([]int{0}, 3, 1); err == nil {
		t.Error("more answers per item than workers: want an error")
	}
	if _, err := c.Answer([]int{2}, 1, 1); err == nil {
		t.Error("label out of range: want an error")
	}
}
