package label

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/workforce"
)

// bigTypedJob posts a rating or box job of items items and writes the
// crowd's revealed answers (per an item) straight into the store, as the
// join, commit and reveal messages would leave them (the messages would
// take minutes at this size); gold on every 100th item. It returns the
// close message.
func bigTypedJob(t testing.TB, h *harness, task string, items, per int, crowd *workforce.TypedCrowd) *MsgClose {
	t.Helper()
	const side = 320
	cid := chain.BlobCID([]byte("typed bound items " + task))
	h.must(requester, &chain.MsgRegisterBlob{CID: cid, Size: 1024})
	m := &MsgCreateJob{Title: "bound", Labels: []string{"car", "person", "sign"}, ItemKind: KindText, ItemsCID: cid, ItemCount: uint32(items),
		ItemFormat: FormatJSONL, Task: task, Redundancy: uint32(per), MaxRedundancy: uint32(per), Reward: 1, Stake: 100,
		DeadlineBlocks: 2, RevealBlocks: 2, GraceBlocks: MinGraceBlocks, QualityPPM: 500_000, BatchSize: MaxBatch, MaxPerWorker: uint32(items)}
	var tasks [][]Task // per worker
	tasks = make([][]Task, len(crowd.Workers))
	gm := &MsgClose{Job: 1, Salt: goldSalt}
	switch task {
	case TaskRating:
		m.Labels, m.RatingMin, m.RatingMax = nil, 0, 100
		tv := workforce.RatingTruth(items, 0, 100, 11)
		rs, err := crowd.AnswerRatings(tv, 0, 100, per, 12)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range rs.List {
			tasks[x.Worker] = append(tasks[x.Worker], Task{Item: uint32(x.Item), Value: x.Value})
		}
		for i := 0; i < items; i += 100 {
			gm.GoldItems, gm.GoldValues = append(gm.GoldItems, uint32(i)), append(gm.GoldValues, tv[i])
		}
	case TaskBox:
		m.Width, m.Height, m.MaxBoxes = side, side, 8
		tb := workforce.BoxImages(items, side, side, 3, 4, 11)
		ba, err := crowd.AnswerBoxes(tb, side, side, 3, per, 12)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ba.List {
			tasks[x.Worker] = append(tasks[x.Worker], Task{Item: uint32(x.Item), Boxes: fromTruthBoxes(x.Boxes)})
		}
		for i := 0; i < items; i += 100 {
			gm.GoldItems, gm.GoldBoxes = append(gm.GoldItems, uint32(i)), append(gm.GoldBoxes, fromTruthBoxes(tb[i]))
		}
	}
	m.GoldHash = GoldAnswersHash(gm.GoldItems, nil, gm.GoldValues, gm.GoldBoxes, gm.Salt)
	h.must(requester, m)
	j := h.job(1)
	for w, ts := range tasks {
		a := addr(byte(3 + w))
		h.must(a, &chain.MsgBond{Pool: Pool, Amount: m.Stake})
		for k := range ts {
			ts[k].Round, ts[k].State, ts[k].Committed = 1, TaskRevealed, h.Height
			ts[k].Commit = sha256.Sum256([]byte(fmt.Sprint(w, k)))
			putTask(h.KV, 1, a, &ts[k])
		}
		n := uint32(len(ts))
		putWorker(h.KV, 1, &Worker{Address: a, Index: uint32(w), Joined: h.Height, Rounds: 1, Assigned: n, Committed: n, Revealed: n})
		chain.SetUint64(h.KV, inUseKey(a), m.Stake)
		j.Workers++
		j.Assigned, j.Committed, j.Revealed = j.Assigned+uint64(n), j.Committed+uint64(n), j.Revealed+uint64(n)
	}
	putJob(h.KV, &j)
	h.advance(j.RevealEnd + 1)
	return gm
}

// blockWork is one block of a close: its phase, work units and time.
type blockWork struct {
	phase string
	work  uint64
	took  time.Duration
}

// closeOverBlocks sends the close and runs blocks until the job settles,
// returning each block's work as its label_closing_step event reports.
func closeOverBlocks(t testing.TB, h *harness, gm *MsgClose) []blockWork {
	t.Helper()
	h.must(requester, gm)
	if h.job(1).Status != StatusClosing {
		t.Fatalf("the job is %s, want it closing over blocks", h.job(1).Status)
	}
	var out []blockWork
	for h.job(1).Status == StatusClosing {
		start := time.Now()
		res := h.App.ApplyBlock(h.KV, h.Block(), nil, nil)
		took := time.Since(start)
		h.Height++
		for _, e := range res.Events {
			attr := map[string]string{} // lookups only
			for _, a := range e.Attrs {
				attr[a.Key] = a.Value
			}
			switch {
			case strings.HasSuffix(e.Type, "label_closing_step"):
				w, err := strconv.ParseUint(attr["work"], 10, 64)
				if err != nil {
					t.Fatalf("label_closing_step: work %q: %v", attr["work"], err)
				}
				out = append(out, blockWork{phase: attr["phase"], work: w, took: took})
			case strings.HasSuffix(e.Type, "error"):
				t.Fatalf("block %d: %s %v", h.Height-1, e.Type, e.Attrs)
			}
		}
		if len(out) > 2000 {
			t.Fatal("the close never finished")
		}
	}
	h.invariants()
	return out
}

// typedWorkBound is the most work units a block of a typed close may do
// over answers answers and items items: the answers loaded, a budget's
// answer-rounds (at least one round), one box item past the box budget,
// the scores (answers) and the settle (answers and items).
func typedWorkBound(answers, items uint64) uint64 {
	maxItem := uint64(truth.BoxItemWork(MaxRedundancy, MaxRedundancy*MaxBoxes))
	return 2*answers + max(uint64(CloseAnswerRoundsPerBlock), answers) + uint64(CloseBoxWorkPerBlock) + maxItem + items
}

// A 100,000-item rating job and box job (3 answers an item from 30
// workers, a tenth of them spammers) close over blocks, each block's work
// within typedWorkBound and far below the whole close's. The times are on
// the test's in-memory store, whose every prefix scan reads the whole
// store (the node's IAVL tree does not: bench/labelclose times that).
func TestTypedCloseBound(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000-item closes")
	}
	const items, per = MaxItems, 3
	for _, task := range []string{TaskRating, TaskBox} {
		t.Run(task, func(t *testing.T) {
			crowd, err := workforce.NewTyped(workforce.TypedMix{Honest: 27, Spammers: 3, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, 2+len(crowd.Workers), 10_000_000)
			gm := bigTypedJob(t, h, task, items, per, crowd)
			blocks := closeOverBlocks(t, h, gm)
			bound := typedWorkBound(items*per, items)
			var total, most uint64
			var longest time.Duration
			phases := map[string]int{}            // counts only
			slowest := map[string]time.Duration{} // lookups only
			for _, b := range blocks {
				slowest[b.phase] = max(slowest[b.phase], b.took)
				total += b.work
				most = max(most, b.work)
				longest = max(longest, b.took)
				phases[b.phase]++
				if b.work > bound {
					t.Errorf("a %s block did %d work units, bound %d", b.phase, b.work, bound)
				}
			}
			t.Logf("%s, %d items x %d: %d blocks (collect %d, pass1 %d, pass2 %d, settle %d); work a block at most %d units (bound %d), in all %d; longest block %v",
				task, items, per, len(blocks), phases["collect"], phases["pass1"], phases["pass2"], phases["settle"], most, bound, total, longest)
			t.Logf("longest block by phase: collect %v, pass1 %v, pass2 %v, settle %v", slowest["collect"], slowest["pass1"], slowest["pass2"], slowest["settle"])
			if len(blocks) < 10 || most*5 > total {
				t.Errorf("the close took %d blocks, at most %d of %d units in one: not spread", len(blocks), most, total)
			}
			if longest > 10*time.Second {
				t.Errorf("the longest block of the close took %v", longest)
			}
			j := h.job(1)
			if j.Status != StatusClosed || j.Slashed == 0 || j.Paid == 0 {
				t.Errorf("job after the close: %s, paid %d, slashed %d", j.Status, j.Paid, j.Slashed)
			}
			// The results of more items than the chain's decoder takes in
			// one array read back.
			res, err := GetResults(h.KV, 1)
			if err != nil || len(res.Items) != items || res.Items[items-1].Item != items-1 {
				t.Fatalf("results: %d items, %v", len(res.Items), err)
			}
		})
	}
}
