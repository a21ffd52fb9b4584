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
		chainAcc:  float64(correct) / float64(scored),
		mvAcc:     float64(truth.Evaluate(mv, scoredTruth, truth.NoLabel).Accuracy().PPM()) / 1e6,
		mvAllAcc:  float64(truth.Evaluate(mvAll, scoredTruth, truth.NoLabel).Accuracy().PPM()) / 1e6,
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

// digitsPath is the shared digits set, relative to this package.
const digitsPath = "../datasets/digits/digits.csv.gz"

// scenario is the adversarial setting: 20 workers of whom 30% are
// spammers, honest accuracy 0.55 to 0.95 (a real crowd is uneven), 600
// ten-class items (8x8 digits when the shared set is present), 15% of them
// gold, three answers per item and up to five where they disagree, a
// quality bar of 0.3 (three times chance).
type scenario struct {
	crowd    *workforce.Crowd
	classes  []int    // true class per item
	items    []string // inline grid items (or text), in job order
	grid     bool
	goldIdx  []uint32
	goldLab  []uint32
	goldSalt chain.Hash
}

func newScenario(t *testing.T, n int, seed uint64) *scenario {
	t.Helper()
	crowd, err := workforce.New(workforce.Mix{Classes: 10, Honest: 14, Spammers: 6, MinAccuracy: 0.55, MaxAccuracy: 0.95, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario{crowd: crowd, goldSalt: chain.Hash([]byte("a gold salt of 32 bytes, secret!"))}
	if px, cls, err := agent.Digits(digitsPath); err == nil && len(px) >= n {
		sc.grid = true
		sc.classes = cls[:n]
		for _, p := range px[:n] {
			sc.items = append(sc.items, agent.FormatGrid(p))
		}
	} else {
		t.Logf("digits not available (%v): synthetic items", err)
		sc.classes = workforce.Labels(n, 10, nil, seed+1)
		for i := range n {
			sc.items = append(sc.items, fmt.Sprintf("item %d", i))
		}
	}
	sc.goldIdx, sc.goldLab = pickGold(n, n*15/100, sc.classes, seed+2)
	return sc
}

// job is the scenario's job message with inline items.
func (sc *scenario) job(deadline int64) *label.MsgCreateJob {
	m := &label.MsgCreateJob{
		Title: "handwritten digits", ItemKind: label.KindText, Items: sc.items,
		Redundancy: 3, MaxRedundancy: 5, ConfidencePPM: 900_000,
		Reward: 1000, Stake: 20_000, DeadlineBlocks: deadline, RevealBlocks: 200, GraceBlocks: 100,
		QualityPPM: 300_000, BatchSize: 20, MaxPerWorker: uint32(len(sc.items) / 2),
		GoldHash: label.GoldHash(sc.goldIdx, sc.goldLab, sc.goldSalt),
	}
	if sc.grid {
		m.ItemKind = label.KindGrid
	}
	for c := range 10 {
		m.Labels = append(m.Labels, fmt.Sprint(c))
	}
	return m
}

func (sc *scenario) close(job uint64) *label.MsgClose {
	return &label.MsgClose{Job: job, GoldItems: sc.goldIdx, GoldLabels: sc.goldLab, Salt: sc.goldSalt}
}

func wealth(a chain.AccountInfo) uint64 {
	w := a.Balance
	for _, s := range a.Stakes {
		w += s.Amount
	}
	for _, u := range a.Unbondings {
		w += u.Amount
	}
	return w
}

// TestAdversarialMarketInMemory runs the scenario on the in-memory chain.
func TestAdversarialMarketInMemory(t *testing.T) {
	sc := newScenario(t, 600, 21)
	reqKey := simKeys(1, "requester")[0]
	keys := simKeys(len(sc.crowd.Workers), "worker")
	l, err := agent.NewMemLedger(append([]ed25519.PrivKey{reqKey}, keys...), 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job := sc.job(20_000)
	if _, err := l.Submit(ctx, reqKey, job); err != nil {
		t.Fatal(err)
	}
	start := make([]uint64, len(keys))
	for i, k := range keys {
		start[i] = wealth(l.Account(addrOf(k)))
		if _, err := l.Submit(ctx, k, &chain.MsgBond{Pool: label.Pool, Amount: job.Stake}); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	st, err := agent.Simulate(ctx, l, agent.SimConfig{Job: 1, Truth: sc.classes, Crowd: sc.crowd, Keys: keys, Seed: 22})
	if err != nil {
		t.Fatal(err)
	}
	var j label.Job
	if err := l.Query(ctx, "job/1", nil, &j); err != nil {
		t.Fatal(err)
	}
	h, _ := l.Height(ctx)
	t.Logf("simulated %d answers (%d extra slots from dynamic overlap) in %d blocks, %v", j.Revealed, j.Overlap, h, time.Since(began))
	if j.Revealed != j.Committed || j.Overlap == 0 {
		t.Fatalf("revealed %d of %d commits, %d overlap slots", j.Revealed, j.Committed, j.Overlap)
	}
	l.Advance(j.CommitEnd - h)
	if _, err := l.Submit(ctx, reqKey, sc.close(1)); err != nil {
		t.Fatal(err)
	}
	res, err := agent.FetchResults(ctx, l, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Query(ctx, "job/1", nil, &j); err != nil {
		t.Fatal(err)
	}
	net := make([]int64, len(keys))
	for i, k := range keys {
		net[i] = int64(wealth(l.Account(addrOf(k)))) - int64(start[i])
	}
	out := checkOutcome(t, res, st, sc.crowd.Kinds(), sc.classes, sc.goldIdx, net)
	t.Logf("accuracy on non-gold items: chain %.4f, majority vote without spammers %.4f, with them %.4f",
		out.chainAcc, out.mvAcc, out.mvAllAcc)
	t.Logf("net: worst honest worker %+d utnn, best spammer %+d utnn; job paid %d, slashed %d, refunded %d of %d",
		out.honestMin, out.spamMax, j.Paid, j.Slashed, j.Refunded, j.Budget)
	if err := l.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestSlashReasons: a worker who always gives one label, a random clicker
// and a worker whose answers depend on the item but are wrong (always the
// next class) are each slashed with their own reason.
func TestSlashReasons(t *testing.T) {
	crowd, err := workforce.New(workforce.Mix{Classes: 4, Honest: 8, Spammers: 1, Constant: 1, MinAccuracy: 0.7, MaxAccuracy: 0.95, Seed: 31})
	if err != nil {
		t.Fatal(err)
	}
	shifted := workforce.Worker{Kind: workforce.Honest, Confusion: make([][]float64, 4)}
	for c := range shifted.Confusion {
		shifted.Confusion[c] = make([]float64, 4)
		shifted.Confusion[c][(c+1)%4] = 1
	}
	crowd.Workers = append(crowd.Workers, shifted)
	classes := workforce.Labels(160, 4, nil, 32)
	goldIdx, goldLab := pickGold(160, 32, classes, 33)
	salt := chain.Hash([]byte("a salt that is exactly 32 bytes!"))
	reqKey := simKeys(1, "req")[0]
	keys := simKeys(len(crowd.Workers), "w")
	l, err := agent.NewMemLedger(append([]ed25519.PrivKey{reqKey}, keys...), 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := &label.MsgCreateJob{Title: "grades", Labels: []string{"a", "b", "c", "d"}, ItemKind: label.KindText,
		Redundancy: 3, MaxRedundancy: 4, ConfidencePPM: 900_000, Reward: 100, Stake: 5000,
		DeadlineBlocks: 10_000, RevealBlocks: 100, GraceBlocks: 100, QualityPPM: 500_000, BatchSize: 16, MaxPerWorker: 60,
		GoldHash: label.GoldHash(goldIdx, goldLab, salt)}
	for i := range 160 {
		m.Items = append(m.Items, fmt.Sprintf("essay %d", i))
	}
	if _, err := l.Submit(ctx, reqKey, m); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, err := l.Submit(ctx, k, &chain.MsgBond{Pool: label.Pool, Amount: m.Stake}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := agent.Simulate(ctx, l, agent.SimConfig{Job: 1, Truth: classes, Crowd: crowd, Keys: keys, Seed: 34}); err != nil {
		t.Fatal(err)
	}
	var j label.Job
	l.Query(ctx, "job/1", nil, &j)
	h, _ := l.Height(ctx)
	l.Advance(j.CommitEnd - h)
	if _, err := l.Submit(ctx, reqKey, &label.MsgClose{Job: 1, GoldItems: goldIdx, GoldLabels: goldLab, Salt: salt}); err != nil {
		t.Fatal(err)
	}
	res, err := agent.FetchResults(ctx, l, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[chain.Address]string{
		addrOf(keys[8]):  label.ReasonRandom,
		addrOf(keys[9]):  label.ReasonOneLabel,
		addrOf(keys[10]): label.ReasonSpam,
	}
	for _, w := range res.Workers {
		if w.Reason != want[w.Address] || (w.Slashed > 0) != (want[w.Address] != "") {
			t.Errorf("worker %s (score %d ppm, gold %d/%d): slashed %d for %q, want %q", w.Address, w.ScorePPM, w.GoldCorrect, w.GoldAnswers, w.Slashed, w.Reason, want[w.Address])
		}
	}
	// The slash records carry the reasons.
	var reasons []string
	for _, k := range keys[8:] {
		for _, s := range l.Account(addrOf(k)).Slashes {
			reasons = append(reasons, s.Reason)
		}
	}
	t.Logf("slash records: %q", reasons)
	if len(reasons) != 3 {
		t.Fatalf("want 3 slash records, got %q", reasons)
	}
}
