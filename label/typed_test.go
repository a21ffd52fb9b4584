package label

import (
	"testing"

	"github.com/tenun-chain/tenun/chain"
)

// Bad typed answers are refused with a clear error and change nothing:
// boxes outside the image, ratings outside the range, too many boxes, a
// mask beyond the labels, an item that is not the sender's, bad task
// parameters and gold of the wrong kind.
func TestTypedBadInputChangesNothing(t *testing.T) {
	h := newHarness(t, 9, 10_000_000)
	// Task parameters.
	for _, c := range []struct {
		edit func(*MsgCreateJob)
		want string
	}{
		{func(m *MsgCreateJob) { m.Task = "poll" }, `task "poll"`},
		{func(m *MsgCreateJob) { m.Task, m.Labels, m.RatingMin, m.RatingMax = TaskRating, nil, 5, 5 }, "rating range [5, 5]"},
		{func(m *MsgCreateJob) { m.Task, m.Labels, m.RatingMin, m.RatingMax = TaskRating, nil, 0, 2_000_000 }, "span of at most"},
		{func(m *MsgCreateJob) { m.RatingMin, m.RatingMax = 0, 10 }, "for rating jobs only"},
		{func(m *MsgCreateJob) { m.Task, m.Width, m.Height, m.MaxBoxes = TaskBox, 0, 100, 4 }, "image size 0x100"},
		{func(m *MsgCreateJob) { m.Task, m.Width, m.Height, m.MaxBoxes = TaskBox, 100, 100, MaxBoxes+1 }, "max boxes"},
		{func(m *MsgCreateJob) { m.Width = 10 }, "for box jobs only"},
		{func(m *MsgCreateJob) { m.Task, m.Labels = TaskMulti, nil }, "0 labels: want 1 to 16 for a multi job"},
		{func(m *MsgCreateJob) { m.Examples = []string{""} }, "example 0"},
		{func(m *MsgCreateJob) { m.Instructions = string(make([]byte, MaxInstructLen+1)) }, "instructions are"},
	} {
		m := typedJob(TaskChoice, chain.Hash{})
		m.Labels = []string{"a", "b"}
		c.edit(m)
		h.mustFail(requester, m, chain.ErrInvalidRequest, c.want)
	}

	gold := &MsgClose{GoldItems: []uint32{0}, GoldBoxes: [][]Box{{{X: 1, Y: 1, W: 10, H: 10}}}, Salt: goldSalt}
	h.must(requester, typedJob(TaskBox, GoldAnswersHash(gold.GoldItems, nil, nil, gold.GoldBoxes, goldSalt)))
	rg := &MsgClose{GoldItems: []uint32{0}, GoldValues: []int64{500}, Salt: goldSalt}
	h.must(requester, typedJob(TaskRating, GoldAnswersHash(rg.GoldItems, nil, rg.GoldValues, nil, goldSalt)))
	mg := &MsgClose{GoldItems: []uint32{0}, GoldLabels: []uint32{3}, Salt: goldSalt}
	h.must(requester, typedJob(TaskMulti, GoldAnswersHash(mg.GoldItems, mg.GoldLabels, nil, nil, goldSalt)))
	j := h.job(1)
	if j.TaskType() != TaskBox || j.Width != simImage || j.Instructions == "" || len(j.Examples) != 1 {
		t.Fatalf("box job record: %+v", j)
	}
	for _, w := range []chain.Address{alice, bob} {
		h.must(w, &chain.MsgBond{Pool: Pool, Amount: 3 * simStake})
		for id := uint64(1); id <= 3; id++ {
			h.must(w, &MsgJoin{Job: id})
		}
	}
	// Alice commits bad answers honestly (each hash matches its answer);
	// each is refused at reveal, alone or in a batch with a good one.
	type bad struct {
		job  uint64
		a    Answer
		want string
	}
	cases := []bad{
		{1, Answer{Boxes: []Box{{X: 300, Y: 10, W: 40, H: 10}}}, "outside the 320x320 image"},
		{1, Answer{Boxes: []Box{{X: 0, Y: 10, W: 0, H: 10}}}, "is empty or outside"},
		{1, Answer{Boxes: make([]Box, 9)}, "9 boxes, at most 8"},
		{1, Answer{Boxes: []Box{{X: 1, Y: 1, W: 5, H: 5, Class: 3}}}, "class 3, outside the 3 labels"},
		{1, Answer{Label: 1, Boxes: []Box{{X: 1, Y: 1, W: 5, H: 5}}}, "fields a box job does not take"},
		{2, Answer{Value: 101}, "rating 101 is outside the range [-100, 100]"},
		{2, Answer{Value: -101}, "outside the range"},
		{2, Answer{Value: 5, Label: 1}, "fields a rating job does not take"},
		{3, Answer{Label: 8}, "label mask 0x8 has bits beyond the 3 labels"},
		{3, Answer{Label: 1, Value: 3}, "fields a multi job does not take"},
	}
	next := map[uint64]int{}
	type pending struct {
		reveal *MsgReveal
		want   string
	}
	var reveals []pending
	good := map[uint64]*MsgReveal{}
	for _, c := range cases {
		ts := h.tasks(c.job, alice)
		it := ts[next[c.job]].Item
		next[c.job]++
		h.must(alice, &MsgCommit{Job: c.job, Entries: []CommitEntry{{Item: it, Hash: CommitAnswerHash(c.job, it, c.a, salt(alice, it), alice)}}})
		reveals = append(reveals, pending{&MsgReveal{Job: c.job, Entries: []RevealEntry{{Item: it, Label: c.a.Label, Value: c.a.Value, Boxes: c.a.Boxes, Salt: salt(alice, it)}}}, c.want})
		if good[c.job] == nil {
			g := Answer{Boxes: []Box{{X: 1, Y: 1, W: 10, H: 10}}}
			switch c.job {
			case 2:
				g = Answer{Value: 7}
			case 3:
				g = Answer{Label: 5}
			}
			gi := ts[len(ts)-1].Item
			h.must(alice, &MsgCommit{Job: c.job, Entries: []CommitEntry{{Item: gi, Hash: CommitAnswerHash(c.job, gi, g, salt(alice, gi), alice)}}})
			good[c.job] = &MsgReveal{Job: c.job, Entries: []RevealEntry{{Item: gi, Label: g.Label, Value: g.Value, Boxes: g.Boxes, Salt: salt(alice, gi)}}}
		}
	}
	// An item that is not alice's.
	var notMine uint32
	for notMine = 0; notMine < simItems; notMine++ {
		if _, ok := getTask(h.KV, 1, alice, notMine); !ok {
			break
		}
	}
	h.mustFail(alice, &MsgCommit{Job: 1, Entries: []CommitEntry{{Item: notMine, Hash: chain.Hash{1}}}}, chain.ErrNotFound, "is not assigned to")
	h.advance(j.CommitEnd + 1) // every commit may be revealed now
	h.mustFail(alice, &MsgReveal{Job: 1, Entries: []RevealEntry{{Item: notMine, Salt: salt(alice, notMine)}}}, chain.ErrNotFound, "is not assigned to")
	for _, p := range reveals {
		h.mustFail(alice, p.reveal, chain.ErrInvalidRequest, p.want)
		batch := &MsgReveal{Job: p.reveal.Job, Entries: append(append([]RevealEntry{}, good[p.reveal.Job].Entries...), p.reveal.Entries...)}
		if batch.Entries[0].Item > batch.Entries[1].Item {
			batch.Entries[0], batch.Entries[1] = batch.Entries[1], batch.Entries[0]
		}
		h.mustFail(alice, batch, chain.ErrInvalidRequest, p.want)
	}
	// Too many boxes for any job is refused before the handler.
	h.mustFail(alice, &MsgReveal{Job: 1, Entries: []RevealEntry{{Item: 0, Salt: goldSalt, Boxes: make([]Box, MaxBoxes+1)}}}, chain.ErrInvalidRequest, "65 boxes, at most 64")
	for _, g := range good {
		h.must(alice, g)
	}

	// Gold: of the wrong kind, outside the image, or outside the range.
	h.advance(j.RevealEnd + 1)
	wrongKind := &MsgClose{Job: 2, GoldItems: []uint32{0}, GoldLabels: []uint32{1}, Salt: goldSalt}
	h.mustFail(requester, wrongKind, chain.ErrInvalidRequest, "does not match")
	rg.Job = 2
	h.mustFail(requester, rg, chain.ErrInvalidRequest, "item 0 of label job 2: rating 500 is outside the range")
	h.must(requester, &MsgClose{Job: 1, GoldItems: gold.GoldItems, GoldBoxes: gold.GoldBoxes, Salt: goldSalt})
	mg.Job = 3
	h.must(requester, mg)
	mixed := &MsgClose{Job: 2, GoldItems: []uint32{0}, GoldLabels: []uint32{1}, GoldValues: []int64{1}, Salt: goldSalt}
	h.mustFail(requester, mixed, chain.ErrInvalidRequest, "one answer of one kind per item")
	h.invariants()
}
