package label_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/label/agent"
	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/workforce"
)

// The adversarial market on the in-memory chain (the real state machine,
// one block per transaction): many workers, many blocks, in about a second.

func simKeys(n int, tag string) []ed25519.PrivKey {
	out := make([]ed25519.PrivKey, n)
	for i := range out {
		out[i] = ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("%s-%d", tag, i)))
	}
	return out
}

func addrOf(k ed25519.PrivKey) chain.Address { return chain.AddressFromPubKey(k.PubKey().Bytes()) }

// pickGold chooses n gold items at random, in increasing order.
func pickGold(items, n int, labels []int, seed uint64) (idx, lab []uint32) {
	perm := rand.New(rand.NewPCG(seed, 99)).Perm(items)[:n]
	chosen := make([]bool, items)
	for _, i := range perm {
		chosen[i] = true
	}
	for i, c := range chosen {
		if c {
			idx = append(idx, uint32(i))
			lab = append(lab, uint32(labels[i]))
		}
	}
	return idx, lab
}

// marketOutcome is what an adversarial run measured.
type marketOutcome struct {
	chainAcc, mvAcc, mvAllAcc float64
	honestMin, spamMax        int64 // net change of wealth (balance + label stake), fees included
	overlap                   uint64
}

// checkOutcome applies the acceptance rules to a closed job.
func checkOutcome(t *testing.T, res label.ResultsView, st agent.SimStats, kinds []workforce.Kind, labels []int, gold []uint32, net []int64) marketOutcome {
	t.Helper()
	isGold := make([]bool, len(labels))
	for _, g := range gold {
		isGold[g] = true
	}
	// Accuracy on the items that are not gold and have an answer from a
	// worker who is not a spammer: the items both methods can label.
	mvAnswers := workforce.Without(st.Answers, kinds, workforce.Spammer)
	fair := mvAnswers.VotesPerItem()
	scoredTruth := make([]int, len(labels))
	var correct, scored int
	for i, it := range res.Items {
		scoredTruth[i] = truth.NoLabel
		if isGold[i] || fair[i] == 0 {
			continue
		}
		scoredTruth[i] = labels[i]
		scored++
		if int(it.Label) == labels[i] {
			correct++
		}
	}
	mv, err := truth.MajorityVote(mvAnswers, truth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mvAll, err := truth.MajorityVote(st.Answers, truth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := marketOutcome{
		chainAcc: float64(correct) / float64(scored),
		mvAcc:    float64(truth.Evaluate(mv, scoredTruth, truth.NoLabel).Accuracy().PPM()) / 1e6,
		mvAllAcc: float64(truth.Evaluate(mvAll, scoredTruth, truth.NoLabel).Accuracy().PPM()) / 1e6,
		honestMin: 1 << 62, spamMax: -1 << 62,
	}
	byAddr := map[chain.Address]label.Worker{}
	for _, w := range res.Workers {
		byAddr[w.Address] = w
	}
	for i, k := range kinds {
		w := byAddr[st.Workers[i].Address]
		switch k {
		case workforce.Honest:
			out.honestMin = min(out.honestMin, net[i])
			if net[i] <= 0 || w.Slashed > 0 {
				t.Errorf("honest worker %d (%d answers, score %d ppm, accuracy %d ppm, gold %d/%d): net %d, slashed %d",
					i, w.Revealed, w.ScorePPM, w.AccuracyPPM, w.GoldCorrect, w.GoldAnswers, net[i], w.Slashed)
			}
		case workforce.Spammer:
			out.spamMax = max(out.spamMax, net[i])
			if net[i] >= 0 || w.Slashed == 0 || w.Paid != 0 {
				t.Errorf("spammer %d (%d answers, score %d ppm): net %d, paid %d, slashed %d", i, w.Revealed, w.ScorePPM, net[i], w.Paid, w.Slashed)
			}
			if w.Reason != label.ReasonRandom {
				t.Errorf("spammer %d slashed for %q, want %q", i, w.Reason, label.ReasonRandom)
			}
		}
	}
	if out.chainAcc < out.mvAcc {
		t.Errorf("chain accuracy %.4f is below majority vote without spammers %.4f", out.chainAcc, out.mvAcc)
	}
	return out
}

// TestAdversarialMarketInMemory: 40 workers, 30% of them spammers, 300
// ten-class items with 15% gold, three answers each and up to five where
// they disagree.
func TestAdversarialMarketInMemory(t *testing.T) {
	const items, classes = 300, 10
	crowd, err := workforce.New(workforce.Mix{Classes: classes, Honest: 28, Spammers: 12, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	labels := workforce.Labels(items, classes, nil, 12)
	reqKey := simKeys(1, "requester")[0]
	keys := simKeys(len(crowd.Workers), "worker")
	l, err := agent.NewMemLedger(append([]ed25519.PrivKey{reqKey}, keys...), 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	goldIdx, goldLab := pickGold(items, items*15/100, labels, 13)
	goldSalt := []byte("a gold salt of 32 bytes, secret!")
	job := &label.MsgCreateJob{
		Title: "digits", ItemKind: label.KindText, Redundancy: 3, MaxRedundancy: 5, ConfidencePPM: 900_000,
		Reward: 1000, Stake: 20_000, DeadlineBlocks: 20_000, RevealBlocks: 1000, GraceBlocks: 100,
		QualityPPM: 400_000, BatchSize: 10, MaxPerWorker: 60, GoldHash: label.GoldHash(goldIdx, goldLab, goldSalt),
	}
	for c := range classes {
		job.Labels = append(job.Labels, fmt.Sprint(c))
	}
	for i := range items {
		job.Items = append(job.Items, fmt.Sprintf("item %d", i))
	}
	if _, err := l.Submit(ctx, reqKey, job); err != nil {
		t.Fatal(err)
	}
	start := make([]uint64, len(keys))
	for i, k := range keys {
		start[i] = l.Account(addrOf(k)).Balance
		if _, err := l.Submit(ctx, k, &chain.MsgBond{Pool: label.Pool, Amount: job.Stake}); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	st, err := agent.Simulate(ctx, l, agent.SimConfig{Job: 1, Truth: labels, Crowd: crowd, Keys: keys, Seed: 14})
	if err != nil {
		t.Fatal(err)
	}
	var j label.Job
	if err := l.Query(ctx, "job/1", nil, &j); err != nil {
		t.Fatal(err)
	}
	h, _ := l.Height(ctx)
	t.Logf("simulated %d answers (%d by overlap) in %d blocks, %v", j.Revealed, j.Overlap, h, time.Since(began))
	if j.Revealed != j.Committed || j.Overlap == 0 {
		t.Fatalf("revealed %d of %d commits, %d overlap answers", j.Revealed, j.Committed, j.Overlap)
	}
	l.Advance(j.CommitEnd - h)
	if _, err := l.Submit(ctx, reqKey, &label.MsgClose{Job: 1, GoldItems: goldIdx, GoldLabels: goldLab, Salt: goldSalt}); err != nil {
		t.Fatal(err)
	}
	var res label.ResultsView
	if err := l.Query(ctx, "results/1", nil, &res); err != nil {
		t.Fatal(err)
	}
	if err := l.Query(ctx, "job/1", nil, &j); err != nil {
		t.Fatal(err)
	}
	net := make([]int64, len(keys))
	for i, k := range keys {
		a := l.Account(addrOf(k))
		wealth := a.Balance
		for _, s := range a.Stakes {
			wealth += s.Amount
		}
		net[i] = int64(wealth) - int64(start[i])
	}
	out := checkOutcome(t, res, st, crowd.Kinds(), labels, goldIdx, net)
	t.Logf("accuracy on non-gold items: chain %.4f, majority vote without spammers %.4f, with them %.4f",
		out.chainAcc, out.mvAcc, out.mvAllAcc)
	t.Logf("net: worst honest worker %+d utnn, best spammer %+d utnn; job paid %d, slashed %d, refunded %d of %d",
		out.honestMin, out.spamMax, j.Paid, j.Slashed, j.Refunded, j.Budget)
	if err := l.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
