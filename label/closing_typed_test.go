package label

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tenun-chain/tenun/label/workforce"
)

// lowBudgets makes every job close over blocks with little work a block:
// a few workers' answers read, one EM round and a few box items.
func lowBudgets(t testing.TB, boxWork int) {
	a, c, r, b := oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget
	t.Cleanup(func() { oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget = a, c, r, b })
	oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget = 10, 20, 1, boxWork
}

// A typed job closed over many blocks ends exactly as the same job closed
// in one block: the same results (bytes and CID), pay, slashing, refund
// and worker records, for each typed task and crowd (cheaters slashed, and
// an honest crowd where every answer is accepted and no second pass runs).
func TestTypedCloseOverBlocksMatchesOneBlock(t *testing.T) {
	for _, task := range []string{TaskMulti, TaskRating, TaskBox} {
		for _, crowd := range []string{"cheaters", "honest"} {
			t.Run(task+"/"+crowd, func(t *testing.T) {
				mix := cheaters(task)
				if crowd == "honest" {
					mix = workforce.TypedMix{Honest: 6, Seed: 4}
				}
				one := workTypedJob(t, task, mix)
				oneAt := one.h.job(1).Closed
				lowBudgets(t, 30)
				many := workTypedJob(t, task, mix)
				j := many.h.job(1)
				t.Logf("one-block close at block %d; over blocks: from %d to %d", oneAt, j.RevealEnd+1, j.Closed)
				if j.Closed-(j.RevealEnd+1) < 5 {
					t.Errorf("the close took %d blocks, want it spread over many", j.Closed-(j.RevealEnd+1))
				}
				compareCloses(t, one, many)
				if crowd == "cheaters" && j.Slashed == 0 {
					t.Error("nobody was slashed: the test does not exercise the second pass")
				}
			})
		}
	}
}

func compareCloses(t *testing.T, one, many *typedRun) {
	t.Helper()
	a, b := one.h.KV.Get(resultKey(1)), many.h.KV.Get(resultKey(1))
	if len(a) == 0 || !bytes.Equal(a, b) {
		ra, _ := GetResults(one.h.KV, 1)
		rb, _ := GetResults(many.h.KV, 1)
		t.Fatalf("results differ: %d and %d bytes\n%+v\n%+v", len(a), len(b), ra, rb)
	}
	ja, jb := one.h.job(1), many.h.job(1)
	if ja.ResultsCID != jb.ResultsCID || ja.Paid != jb.Paid || ja.Slashed != jb.Slashed || ja.Refunded != jb.Refunded || ja.Status != jb.Status {
		t.Fatalf("jobs differ:\n%+v\n%+v", ja, jb)
	}
	for w, addr := range one.addrs {
		x, _ := GetWorker(one.h.KV, 1, addr)
		y, _ := GetWorker(many.h.KV, 1, addr)
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Errorf("worker %d differs:\n%+v\n%+v", w, x, y)
		}
		if one.h.wealth(addr) != many.h.wealth(addr) {
			t.Errorf("worker %d's wealth differs: %d and %d", w, one.h.wealth(addr), many.h.wealth(addr))
		}
	}
	if _, _, ok := Closing(many.h.KV, 1); ok {
		t.Error("the closing state is still in the store")
	}
	for _, p := range [][]byte{prefixChunk, prefixItemChunk, prefixClosing} {
		many.h.KV.Iterate(p, func(k, _ []byte) bool { t.Errorf("closing key %x left behind", k); return false })
	}
}

// A larger rating and box job (3,000 items, 30 workers, every 100th item
// gold) closed in one block and over blocks at budgets that cut through
// workers, EM rounds and box items: the same results, pay and slashes.
func TestTypedLargerCloseOverBlocksMatchesOneBlock(t *testing.T) {
	const items, per = 3000, 3
	for _, task := range []string{TaskRating, TaskBox} {
		t.Run(task, func(t *testing.T) {
			run := func() *typedRun {
				crowd, err := workforce.NewTyped(workforce.TypedMix{Honest: 24, Spammers: 3, Constant: 2, Copiers: 1, Seed: 9})
				if err != nil {
					t.Fatal(err)
				}
				h := newHarness(t, 2+len(crowd.Workers), 10_000_000)
				gm := bigTypedJob(t, h, task, items, per, crowd)
				r := &typedRun{h: h, crowd: crowd}
				for w := range crowd.Workers {
					r.addrs = append(r.addrs, addr(byte(3+w)))
				}
				if oneBlockAnswers < items*per {
					if blocks := closeOverBlocks(t, h, gm); len(blocks) < 20 {
						t.Errorf("the close took %d blocks, want many", len(blocks))
					}
				} else {
					h.must(requester, gm)
				}
				return r
			}
			one := run()
			a, c, r, b := oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget
			t.Cleanup(func() { oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget = a, c, r, b })
			oneBlockAnswers, collectPerBlock, roundsBudget, boxWorkBudget = 100, 700, 20_000, 3_000
			many := run()
			compareCloses(t, one, many)
			if j := many.h.job(1); j.Slashed == 0 || j.Status != StatusClosed {
				t.Errorf("job %s, slashed %d: the second pass is not exercised", j.Status, j.Slashed)
			}
		})
	}
}

// A typed close whose collected answers are found corrupt stops with a
// label_closing_error, leaves the job open for another close and leaves
// no closing state behind; a close then succeeds again from the start
// (here a forfeit: the first close ran past the grace period).
func TestTypedCloseCorruptChunkReopens(t *testing.T) {
	lowBudgets(t, 30)
	crowd, err := workforce.NewTyped(workforce.TypedMix{Honest: 5, Spammers: 1, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 2+len(crowd.Workers), 10_000_000)
	gm := bigTypedJob(t, h, TaskRating, 200, 3, crowd)
	h.must(requester, gm)
	for range 8 { // past the collect
		h.next()
	}
	if phase, _, ok := Closing(h.KV, 1); !ok || phase == "collect" {
		t.Fatalf("closing phase %q (%v), want past the collect", phase, ok)
	}
	h.KV.Set(chunkKey(1, 0), []byte{1, 2, 3})
	h.next()
	if j := h.job(1); j.Status != StatusOpen {
		t.Fatalf("job %s after a corrupt chunk, want open", j.Status)
	}
	if _, _, ok := Closing(h.KV, 1); ok {
		t.Error("the closing state is still in the store")
	}
	h.KV.Iterate(chunkPrefix(1), func(k, _ []byte) bool { t.Errorf("chunk %x left behind", k); return false })
	again, want := gm, StatusClosed
	if h.Height >= h.job(1).ForfeitAt { // the grace period ended meanwhile
		again, want = &MsgClose{Job: 1}, StatusForfeited
	}
	h.must(requester, again)
	for h.job(1).Status == StatusClosing {
		h.next()
	}
	if j := h.job(1); j.Status != want || j.ResultsCID == "" {
		t.Fatalf("job after the second close: %+v", j)
	}
	h.invariants()
}
