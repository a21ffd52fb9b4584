package truth

// Score compares a result with truth labels. Only items that have a truth
// label and at least one answer count. A tie between t top classes earns 1/t
// of an item when the truth is among them: the expected credit under a
// random tie-break, as the published figures are computed.
type Score struct {
	Scored int
	// Correct is the credit earned, One per fully correct item.
	Correct Prob
	// TP, FP and FN count (expected) outcomes for the positive class.
	TP, FP, FN Prob
}

// Evaluate scores r against truth labels (one per item, NoLabel where
// unknown); positive is the class F1 is reported for (NoLabel for none).
func Evaluate(r *Result, truth []int, positive int) Score {
	var s Score
	for i, t := range truth {
		if t == NoLabel || i >= len(r.Items) || r.Items[i].Votes == 0 {
			continue
		}
		s.Scored++
		row := r.Row(i)
		best, tied := topClass(row)
		share := One / Prob(tied)
		if row[t] == row[best] {
			s.Correct += share
		}
		var pos Prob
		if positive >= 0 && positive < len(row) && row[positive] == row[best] {
			pos = share
		}
		if t == positive {
			s.TP += pos
			s.FN += One - pos
		} else {
			s.FP += pos
		}
	}
	return s
}

// Accuracy is Correct/Scored (0 when nothing was scored).
func (s Score) Accuracy() Prob {
	if s.Scored == 0 {
		return 0
	}
	return Prob(uint64(s.Correct) / uint64(s.Scored))
}

// F1 is 2TP/(2TP+FP+FN) for the positive class (0 when undefined).
func (s Score) F1() Prob {
	d := 2*s.TP + s.FP + s.FN
	if d == 0 {
		return 0
	}
	return Ratio(uint64(2*s.TP), uint64(d))
}
