package label

import (
	"fmt"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/workforce"
)

// The typed task types on the chain's state machine: a small job of each
// type worked by honest workers with noise and by each cheating strategy
// of the workforce simulation. Every cheater ends with less than it had
// (its stake is slashed beyond any pay) and every honest worker gains.

const (
	simItems   = 40
	simPerItem = 3
	simStake   = 20_000
	simReward  = 2_000
	simImage   = 320
)

// typedJob is a job of the task type with simItems inline items.
func typedJob(task string, gold chain.Hash) *MsgCreateJob {
	m := &MsgCreateJob{
		Title: task + " job", Labels: []string{"car", "person", "sign"}, ItemKind: KindText, Task: task,
		Redundancy: simPerItem, MaxRedundancy: simPerItem, Reward: simReward, Stake: simStake,
		DeadlineBlocks: 50, RevealBlocks: 50, GraceBlocks: 10, QualityPPM: 500_000,
		BatchSize: 15, MaxPerWorker: 15, GoldHash: gold, Instructions: "Answer every item; see the examples.",
		Examples: []string{"an example item and its answer"},
	}
	switch task {
	case TaskMulti:
		// Chance-corrected scores (kappa) run lower than accuracies.
		m.QualityPPM = 400_000
	case TaskRating:
		m.Labels, m.RatingMin, m.RatingMax = nil, -100, 100
	case TaskBox:
		m.Width, m.Height, m.MaxBoxes = simImage, simImage, 8
	}
	for i := range simItems {
		m.Items = append(m.Items, fmt.Sprintf("item %d", i))
	}
	return m
}

// typedTruth draws the true answers of the simulation's items.
func typedTruth(task string) []Answer {
	out := make([]Answer, simItems)
	switch task {
	case TaskRating:
		for i, v := range workforce.RatingTruth(simItems, -100, 100, 5) {
			out[i].Value = v
		}
	case TaskMulti:
		for i, m := range workforce.MultiTruth(simItems, 3, 5) {
			out[i].Label = m
		}
	case TaskBox:
		for i, bs := range workforce.BoxImages(simItems, simImage, simImage, 3, 4, 5) {
			out[i].Boxes = fromTruthBoxes(bs)
		}
	}
	return out
}

// simAnswer is worker w's answer to item i of true answer t.
func simAnswer(c *workforce.TypedCrowd, task string, w int, t Answer, target *Answer) Answer {
	ok := target != nil
	if !ok {
		target = &Answer{}
	}
	switch task {
	case TaskRating:
		return Answer{Value: c.Rate(w, t.Value, -100, 100, target.Value, ok)}
	case TaskMulti:
		return Answer{Label: c.Mark(w, t.Label, 3, target.Label, ok)}
	}
	return Answer{Boxes: fromTruthBoxes(c.Draw(w, toTruthBoxes(t.Boxes), simImage, simImage, 3, toTruthBoxes(target.Boxes), ok))}
}

func goldOf(task string, tr []Answer, items []uint32) *MsgClose {
	m := &MsgClose{GoldItems: items, Salt: goldSalt}
	for _, i := range items {
		switch task {
		case TaskRating:
			m.GoldValues = append(m.GoldValues, tr[i].Value)
		case TaskBox:
			m.GoldBoxes = append(m.GoldBoxes, tr[i].Boxes)
		default:
			m.GoldLabels = append(m.GoldLabels, tr[i].Label)
		}
	}
	return m
}

// typedRun is a typed job worked and closed on a harness.
type typedRun struct {
	h      *harness
	crowd  *workforce.TypedCrowd
	addrs  []chain.Address
	before []uint64
	truth  []Answer
}

// workTypedJob posts a job of the task type, has the crowd of mix answer
// it, closes it with gold and waits for the close to finish (over blocks
// when it is large for the limits in force).
func workTypedJob(t *testing.T, task string, mix workforce.TypedMix) *typedRun {
	t.Helper()
	crowd, err := workforce.NewTyped(mix)
	if err != nil {
		t.Fatal(err)
	}
	n := len(crowd.Workers)
	h := newHarness(t, 2+n, 10_000_000)
	tr := typedTruth(task)
	goldItems := []uint32{0, 5, 10, 15, 20, 25, 30, 35}
	gm := goldOf(task, tr, goldItems)
	h.must(requester, typedJob(task, GoldAnswersHash(gm.GoldItems, gm.GoldLabels, gm.GoldValues, gm.GoldBoxes, gm.Salt)))
	addrs := make([]chain.Address, n)
	before := make([]uint64, n)
	answers := make([]map[uint32]Answer, n)
	for w := range addrs {
		addrs[w] = addr(byte(3 + w))
		before[w] = h.wealth(addrs[w])
		answers[w] = map[uint32]Answer{}
	}
	// Workers join in order; a copier answers like its target where
	// the target has answered the item (they collude off chain).
	for w, a := range addrs {
		h.must(a, &chain.MsgBond{Pool: Pool, Amount: simStake})
		if err := h.run(a, &MsgJoin{Job: 1}); err != nil {
			t.Fatalf("worker %d join: %v", w, err)
		}
		c := &MsgCommit{Job: 1}
		for _, tk := range h.tasks(1, a) {
			var target *Answer
			if wk := crowd.Workers[w]; wk.Kind == workforce.Copier {
				if x, ok := answers[wk.Target][tk.Item]; ok {
					target = &x
				}
			}
			ans := simAnswer(crowd, task, w, tr[tk.Item], target)
			answers[w][tk.Item] = ans
			c.Entries = append(c.Entries, CommitEntry{Item: tk.Item, Hash: CommitAnswerHash(1, tk.Item, ans, salt(a, tk.Item), a)})
		}
		h.must(a, c)
	}
	h.next()
	for w, a := range addrs {
		r := &MsgReveal{Job: 1}
		for _, tk := range h.tasks(1, a) {
			ans := answers[w][tk.Item]
			r.Entries = append(r.Entries, RevealEntry{Item: tk.Item, Label: ans.Label, Value: ans.Value, Boxes: ans.Boxes, Salt: salt(a, tk.Item)})
		}
		h.must(a, r)
	}
	h.advance(h.job(1).RevealEnd + 1)
	gm.Job = 1
	h.must(requester, gm)
	for h.job(1).Status == StatusClosing {
		h.mustFail(requester, gm, chain.ErrConflict, "already closing")
		h.next()
		if h.Height > 5000 {
			t.Fatal("the close never finished")
		}
	}
	h.invariants()
	return &typedRun{h: h, crowd: crowd, addrs: addrs, before: before, truth: tr}
}

func cheaters(task string) workforce.TypedMix {
	mix := workforce.TypedMix{Honest: 4, Spammers: 1, Constant: 1, Copiers: 1, Seed: 3}
	if task == TaskBox {
		mix.Lazy = 1
	}
	return mix
}

func TestTypedCheatersLoseTheirStake(t *testing.T) {
	for _, task := range []string{TaskMulti, TaskRating, TaskBox} {
		t.Run(task, func(t *testing.T) {
			r := workTypedJob(t, task, cheaters(task))
			h := r.h
			res, err := GetResults(h.KV, 1)
			if err != nil {
				t.Fatal(err)
			}
			j := h.job(1)
			for w, a := range r.addrs {
				wr, _ := GetWorker(h.KV, 1, a)
				after := h.wealth(a)
				kind := r.crowd.Workers[w].Kind
				t.Logf("%-8s score %6d ppm, paid %6d, slashed %6d (%s), net %+d", kind, wr.ScorePPM, wr.Paid, wr.Slashed, wr.Reason, int64(after)-int64(r.before[w]))
				if kind == workforce.Honest {
					if after <= r.before[w] || wr.Slashed > 0 {
						t.Errorf("honest worker %d: %d -> %d, slashed %d", w, r.before[w], after, wr.Slashed)
					}
				} else if after >= r.before[w] || wr.Slashed == 0 {
					t.Errorf("%s worker %d: %d -> %d (staked %d), slashed %d", kind, w, r.before[w], after, simStake, wr.Slashed)
				}
			}
			checkTypedResults(t, task, r.truth, res)
			t.Logf("method %s, paid %d, slashed %d, refunded %d", res.Method, j.Paid, j.Slashed, j.Refunded)
		})
	}
}

// checkTypedResults checks the chain's verdicts against the truth.
func checkTypedResults(t *testing.T, task string, tr []Answer, res Results) {
	t.Helper()
	switch task {
	case TaskRating:
		var sum int64
		for i, it := range res.Items {
			sum += abs(it.Value - tr[i].Value)
		}
		if mae := sum / int64(len(tr)); mae > 10 {
			t.Errorf("rating MAE %d on a range of 200", mae)
		}
	case TaskMulti:
		right := 0
		for i, it := range res.Items {
			if uint32(it.Label) == tr[i].Label {
				right++
			}
		}
		if right*10 < len(tr)*7 {
			t.Errorf("%d of %d masks right", right, len(tr))
		}
	case TaskBox:
		pred, want, has := make([][]truth.Box, len(tr)), make([][]truth.Box, len(tr)), make([]bool, len(tr))
		for i, it := range res.Items {
			pred[i], want[i], has[i] = toTruthBoxes(it.Boxes), toTruthBoxes(tr[i].Boxes), true
		}
		if s := truth.EvaluateBoxes(pred, want, has, 3); s.MeanIoU < truth.One/10*7 {
			t.Errorf("box mean IoU %d ppm", s.MeanIoU.PPM())
		}
	}
}
