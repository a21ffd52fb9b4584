package label

import (
	"testing"
	"time"

	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/workforce"
)

// TestInferenceBound times the work of a one-block close at the largest
// job that closes in one block (MaxOneBlockAnswers answers from MaxWorkers
// workers over MaxLabels labels): two inference passes and the
// leave-one-out scores. Larger jobs close over blocks (closing.go).
// The package doc quotes the figure; the assertion is loose, for slow CI.
func TestInferenceBound(t *testing.T) {
	for _, shape := range []struct{ items, per, classes int }{
		{MaxOneBlockAnswers / 4, 4, MaxLabels}, // 4096 items x 4 answers
		{MaxOneBlockAnswers / MaxRedundancy, MaxRedundancy, MaxLabels},
	} {
		crowd, err := workforce.New(workforce.Mix{Classes: shape.classes, Honest: MaxWorkers * 7 / 10, Spammers: MaxWorkers - MaxWorkers*7/10, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		labels := workforce.Labels(shape.items, shape.classes, nil, 2)
		a, err := crowd.Answer(labels, shape.per, 3)
		if err != nil {
			t.Fatal(err)
		}
		gold := make([]int, shape.items)
		for i := range gold {
			gold[i] = truth.NoLabel
			if i%10 == 0 {
				gold[i] = labels[i]
			}
		}
		start := time.Now()
		tr, err := infer(a, gold)
		if err != nil {
			t.Fatal(err)
		}
		looAccuracy(tr, a)
		if _, err := infer(a, gold); err != nil { // the second pass, over accepted answers
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("%d answers, %d workers, %d labels: %d EM rounds, close inference %v", len(a.List), MaxWorkers, shape.classes, tr.Iterations, took)
		if took > 5*time.Second {
			t.Fatalf("the inference of the largest job took %v: too slow for a block", took)
		}
	}
}
