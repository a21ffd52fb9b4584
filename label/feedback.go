package label

import (
	"slices"

	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/label/truth"
)

// Feedback tells a worker, before pay, how their revealed answers compare
// with the other workers' revealed answers to the same items. The gold stays
// sealed until the close (the requester committed only its hash), so before
// the close this agreement is the only honest signal; after the close
// Gold carries the worker's gold score and pay.
type Feedback struct {
	Job      uint64 `json:"job"`
	Compared uint32 `json:"compared"` // revealed items of the worker that others also revealed
	Agreed   uint32 `json:"agreed"`   // of those, answers that agree with the others (see AnswersAgree)
	Recent   uint32 `json:"recent"`   // how many of the worker's latest revealed items were looked at
	// Set once the job is settled.
	Gold *GoldScore `json:"gold,omitempty"`
}

// GoldScore is a settled worker's result against the gold.
type GoldScore struct {
	Answers  uint32 `json:"answers"`
	Correct  uint32 `json:"correct"`
	ScorePPM uint32 `json:"score_ppm"`
	Paid     uint64 `json:"paid"`
	Slashed  uint64 `json:"slashed"`
	Reason   string `json:"reason,omitempty"`
}

// FeedbackItems bounds the feedback query: the worker's latest revealed
// items it compares (each reads at most MaxWorkers tasks).
const FeedbackItems = 64

// WorkerFeedback compares the worker's latest revealed answers with the
// other workers' revealed answers to the same items.
func WorkerFeedback(kv store.KV, j *Job, w *Worker) Feedback {
	fb := Feedback{Job: j.ID}
	if w.Settled {
		fb.Gold = &GoldScore{Answers: w.GoldAnswers, Correct: w.GoldCorrect, ScorePPM: w.ScorePPM, Paid: w.Paid, Slashed: w.Slashed, Reason: w.Reason}
	}
	var mine []Task
	for _, t := range WorkerTasks(kv, j.ID, w.Address) {
		if t.State == TaskRevealed {
			mine = append(mine, t)
		}
	}
	// The latest reveals: by commit height, then item (both deterministic).
	slices.SortStableFunc(mine, func(a, b Task) int {
		if a.Committed != b.Committed {
			return int(b.Committed - a.Committed)
		}
		return int(b.Item) - int(a.Item)
	})
	mine = mine[:min(len(mine), FeedbackItems)]
	fb.Recent = uint32(len(mine))
	workers := Workers(kv, j)
	for _, t := range mine {
		var others []Answer
		for _, o := range workers {
			if o.Address == w.Address {
				continue
			}
			if ot, ok := getTask(kv, j.ID, o.Address, t.Item); ok && ot.State == TaskRevealed {
				others = append(others, Answer{Label: ot.Label, Value: ot.Value, Boxes: ot.Boxes})
			}
		}
		if len(others) == 0 {
			continue
		}
		fb.Compared++
		if AnswersAgree(j, Answer{Label: t.Label, Value: t.Value, Boxes: t.Boxes}, others) {
			fb.Agreed++
		}
	}
	return fb
}

// AnswersAgree says whether an answer agrees with the others' answers to
// the same item, by the job's task type: a choice that is one of the most
// chosen labels; a multi-label mask equal to the others' majority per label
// (ties count as agreeing); a rating within a tenth of the range (at least 1)
// of the others' median; boxes that each match another worker's box of the
// same class at IoU 0.5, as many as the others' median count give or take one.
func AnswersAgree(j *Job, a Answer, others []Answer) bool {
	n := len(others)
	switch j.TaskType() {
	case TaskChoice:
		votes := make([]int, len(j.Labels))
		for _, o := range others {
			if int(o.Label) < len(votes) {
				votes[o.Label]++
			}
		}
		return int(a.Label) < len(votes) && votes[a.Label] == slices.Max(votes)
	case TaskMulti:
		for bit := range len(j.Labels) {
			yes := 0
			for _, o := range others {
				yes += int(o.Label >> bit & 1)
			}
			mine := a.Label>>bit&1 == 1
			if (mine && 2*yes < n) || (!mine && 2*yes > n) {
				return false
			}
		}
		return true
	case TaskRating:
		vals := make([]int64, n)
		for i, o := range others {
			vals[i] = o.Value
		}
		slices.Sort(vals)
		med := vals[n/2]
		if n%2 == 0 {
			med = (vals[n/2-1] + vals[n/2]) / 2
		}
		tol := max(1, (j.RatingMax-j.RatingMin)/10)
		return abs(a.Value-med) <= tol
	case TaskBox:
		counts := make([]int, n)
		var pool []truth.Box
		for i, o := range others {
			counts[i] = len(o.Boxes)
			pool = append(pool, toTruthBoxes(o.Boxes)...)
		}
		slices.Sort(counts)
		if d := len(a.Boxes) - counts[n/2]; d < -1 || d > 1 {
			return false
		}
		for _, b := range toTruthBoxes(a.Boxes) {
			matched := false
			for _, p := range pool {
				if p.Class == b.Class && truth.IoU(b, p) >= truth.MatchIoU {
					matched = true
					break
				}
			}
			if !matched {
				return false
			}
		}
		return true
	}
	return false
}
