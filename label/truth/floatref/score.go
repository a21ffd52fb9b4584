package floatref

import "github.com/tenun-chain/tenun/label/truth"

// Score is accuracy and F1 over items with a truth label and at least one answer.
// A tie between the top classes earns the expected credit of a random tie-break.
type Score struct {
	Scored     int
	Accuracy   float64
	F1         float64 // F1 on the positive class; 0 when no item is positive
	TP, FP, FN float64
}

// Evaluate scores r against truth labels; positive is the class whose F1 is reported.
func Evaluate(a *truth.Answers, r *Result, truthLabels []int, positive int) Score {
	votes := a.VotesPerItem()
	var s Score
	correct := 0.0
	for i, t := range truthLabels {
		if t == truth.NoLabel || votes[i] == 0 {
			continue
		}
		s.Scored++
		row := r.Row(i)
		top := row[0]
		for _, v := range row {
			top = max(top, v)
		}
		ties := 0
		for _, v := range row {
			if v == top {
				ties++
			}
		}
		share := 1 / float64(ties)
		if row[t] == top {
			correct += share
		}
		pPos := 0.0
		if positive >= 0 && positive < len(row) && row[positive] == top {
			pPos = share
		}
		if t == positive {
			s.TP += pPos
			s.FN += 1 - pPos
		} else {
			s.FP += pPos
		}
	}
	if s.Scored > 0 {
		s.Accuracy = correct / float64(s.Scored)
	}
	if d := 2*s.TP + s.FP + s.FN; d > 0 {
		s.F1 = 2 * s.TP / d
	}
	return s
}
