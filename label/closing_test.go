package label

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label/workforce"
)

// runChoiceJob works a single-choice job of items items with honest
// workers (one answer in five wrong), spammers and a constant answerer, closes it with gold and returns the block
// at which it settled.
func runChoiceJob(t *testing.T, h *harness, items int) (closedAt int64) {
	t.Helper()
	crowd, err := workforce.New(workforce.Mix{Classes: 3, Honest: 6, Spammers: 2, Constant: 1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	n := len(crowd.Workers)
	labels := workforce.Labels(items, 3, nil, 8)
	var goldItems, goldLabels []uint32
	for i := 0; i < items; i += 10 {
		goldItems, goldLabels = append(goldItems, uint32(i)), append(goldLabels, uint32(labels[i]))
	}
	m := textJob(items)
	m.Redundancy, m.MaxRedundancy, m.BatchSize, m.MaxPerWorker = 3, 3, uint32(items*3/n+1), uint32(items*3/n+1)
	m.DeadlineBlocks, m.RevealBlocks = 100, 100
	m.GoldHash = GoldHash(goldItems, goldLabels, goldSalt)
	h.must(requester, m)
	answer := map[[2]int]uint32{}
	for w := range n {
		a := addr(byte(3 + w))
		h.must(a, &chain.MsgBond{Pool: Pool, Amount: m.Stake})
		h.must(a, &MsgJoin{Job: 1})
		lab := map[uint32]uint32{}
		for _, tk := range h.tasks(1, a) {
			l := uint32(labels[tk.Item])
			switch crowd.Workers[w].Kind {
			case workforce.Spammer:
				l = uint32((tk.Item*7 + uint32(w)) % 3)
			case workforce.Constant:
				l = 0
			default:
				if (tk.Item+uint32(w))%5 == 0 {
					l = (l + 1) % 3
				}
			}
			lab[tk.Item] = l
			answer[[2]int{w, int(tk.Item)}] = l
		}
		h.must(a, commitMsg(1, a, lab, itemsOf(h.tasks(1, a))...))
	}
	h.next()
	for w := range n {
		a := addr(byte(3 + w))
		lab := map[uint32]uint32{}
		for _, tk := range h.tasks(1, a) {
			lab[tk.Item] = answer[[2]int{w, int(tk.Item)}]
		}
		h.must(a, revealMsg(1, a, lab, itemsOf(h.tasks(1, a))...))
	}
	h.advance(h.job(1).RevealEnd + 1)
	h.must(requester, &MsgClose{Job: 1, GoldItems: goldItems, GoldLabels: goldLabels, Salt: goldSalt})
	for h.job(1).Status == StatusClosing {
		// Work on a closing job is refused; the close goes on in EndBlock.
		h.mustFail(requester, &MsgClose{Job: 1, GoldItems: goldItems, GoldLabels: goldLabels, Salt: goldSalt}, chain.ErrConflict, "already closing")
		h.next()
		if h.Height > 1000 {
			t.Fatal("the close never finished")
		}
	}
	return h.job(1).Closed
}

// A job closed over many blocks ends exactly as the same job closed in one
// block: the same results (bytes and CID), pay, slashing and refund.
func TestCloseOverBlocksMatchesOneBlock(t *testing.T) {
	const items = 90
	one := newHarness(t, 12, 10_000_000)
	oneAt := runChoiceJob(t, one, items)

	defer func(a uint64, c, r int) { oneBlockAnswers, collectPerBlock, roundsBudget = a, c, r }(oneBlockAnswers, collectPerBlock, roundsBudget)
	oneBlockAnswers, collectPerBlock, roundsBudget = 50, 40, 1 // one EM round a block, a few workers' answers a block
	many := newHarness(t, 12, 10_000_000)
	manyAt := runChoiceJob(t, many, items)

	startedAt := many.job(1).RevealEnd + 1
	t.Logf("one-block close at block %d; over blocks: from block %d to %d", oneAt, startedAt, manyAt)
	if manyAt-startedAt < 10 {
		t.Errorf("the close took %d blocks, want it spread over many", manyAt-startedAt)
	}
	a, b := one.KV.Get(resultKey(1)), many.KV.Get(resultKey(1))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("results differ: %d and %d bytes", len(a), len(b))
	}
	ja, jb := one.job(1), many.job(1)
	if ja.ResultsCID != jb.ResultsCID || ja.Paid != jb.Paid || ja.Slashed != jb.Slashed || ja.Refunded != jb.Refunded || jb.Status != StatusClosed {
		t.Fatalf("jobs differ:\n%+v\n%+v", ja, jb)
	}
	if ja.Slashed == 0 {
		t.Error("nobody was slashed: the test does not exercise the second pass")
	}
	for w := range 9 {
		x, _ := GetWorker(one.KV, 1, addr(byte(3+w)))
		y, _ := GetWorker(many.KV, 1, addr(byte(3+w)))
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Errorf("worker %d differs:\n%+v\n%+v", w, x, y)
		}
	}
	if _, _, ok := Closing(many.KV, 1); ok {
		t.Error("the closing state is still in the store")
	}
	many.KV.Iterate(prefixChunk, func(k, _ []byte) bool { t.Errorf("answer chunk %x left behind", k); return false })
	many.invariants()
}
