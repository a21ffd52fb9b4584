package label_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/label/agent"
	"github.com/tenun-chain/tenun/label/workforce"
	"github.com/tenun-chain/tenun/label/truth"
)

func TestZZSeeds(t *testing.T) {
	for seed := uint64(100); seed < 116; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			const items, classes = 300, 10
			crowd, _ := workforce.New(workforce.Mix{Classes: classes, Honest: 14, Spammers: 6, Seed: seed})
			labels := workforce.Labels(items, classes, nil, seed+1)
			reqKey := simKeys(1, "requester")[0]
			keys := simKeys(len(crowd.Workers), "worker")
			l, _ := agent.NewMemLedger(append([]ed25519.PrivKey{reqKey}, keys...), 10_000_000)
			ctx := context.Background()
			goldIdx, goldLab := pickGold(items, items*15/100, labels, seed+2)
			goldSalt := []byte("a gold salt of 32 bytes, secret!")
			job := &label.MsgCreateJob{
				Title: "digits", ItemKind: label.KindText, Redundancy: 3, MaxRedundancy: 5, ConfidencePPM: 900_000,
				Reward: 1000, Stake: 20_000, DeadlineBlocks: 20_000, RevealBlocks: 1000, GraceBlocks: 100,
				QualityPPM: 400_000, BatchSize: 20, MaxPerWorker: 150, GoldHash: label.GoldHash(goldIdx, goldLab, goldSalt),
			}
			for c := range classes {
				job.Labels = append(job.Labels, fmt.Sprint(c))
			}
			for i := range items {
				job.Items = append(job.Items, fmt.Sprintf("item %d", i))
			}
			l.Submit(ctx, reqKey, job)
			start := make([]uint64, len(keys))
			for i, k := range keys {
				start[i] = l.Account(addrOf(k)).Balance
				l.Submit(ctx, k, &chain.MsgBond{Pool: label.Pool, Amount: job.Stake})
			}
			st, err := agent.Simulate(ctx, l, agent.SimConfig{Job: 1, Truth: labels, Crowd: crowd, Keys: keys, Seed: seed + 3})
			if err != nil {
				t.Fatal(err)
			}
			hmin, smax := uint64(1e9), uint64(0)
			defer func() { t.Logf("SEP honest min %d spam max %d", hmin, smax) }()
			label.SetDebugHook(func(i int, w label.Worker, wr truth.WorkerResult, s truth.Prob, gr []truth.Prob) {
				var gri uint64
				if gr != nil { gri = gr[i].PPM() }
				// true accuracy
				c, n := 0, 0
				for _, x := range st.Answers.List {
					if x.Worker == i { n++; if x.Class == labels[x.Item] { c++ } }
				}
				if crowd.Workers[i].Kind == workforce.Honest { hmin = min(hmin, s.PPM()) } else { smax = max(smax, s.PPM()) }
				_ = fmt.Sprintf("w%d %v rev=%d est=%d inf=%d gold=%d/%d rep=%d score=%d true=%d/%d", i, crowd.Workers[i].Kind, w.Revealed, wr.Accuracy.PPM(), wr.Informativeness.PPM(), wr.GoldCorrect, wr.GoldAnswers, gri, s.PPM(), c, n)
			})
			var j label.Job
			l.Query(ctx, "job/1", nil, &j)
			h, _ := l.Height(ctx)
			l.Advance(j.CommitEnd - h)
			if _, err := l.Submit(ctx, reqKey, &label.MsgClose{Job: 1, GoldItems: goldIdx, GoldLabels: goldLab, Salt: goldSalt}); err != nil {
				t.Fatal(err)
			}
			var res label.ResultsView
			l.Query(ctx, "results/1", nil, &res)
			net := make([]int64, len(keys))
			for i, k := range keys {
				a := l.Account(addrOf(k))
				wealth := a.Balance
				for _, s := range a.Stakes {
					wealth += s.Amount
				}
				net[i] = int64(wealth) - int64(start[i])
			}
			{
				hon := workforce.Without(st.Answers, crowd.Kinds(), workforce.Spammer)
				gold := make([]int, items)
				ev := make([]int, items)
				for i := range gold { gold[i] = truth.NoLabel; ev[i] = labels[i] }
				for n, g := range goldIdx { gold[g] = int(goldLab[n]); ev[g] = truth.NoLabel }
				acc := func(r *truth.Result) float64 { return float64(truth.Evaluate(r, ev, -1).Accuracy().PPM())/1e6 }
				mv, _ := truth.MajorityVote(hon, truth.Options{})
				b, _ := truth.Best(hon, truth.Options{Gold: gold, MaxIter: 50})
				b100, _ := truth.Best(hon, truth.Options{Gold: gold})
				ds, _ := truth.DawidSkene(hon, truth.Options{Gold: gold})
				wv, _ := truth.WeightedVote(hon, nil, truth.Options{Gold: gold})
				ballgold, _ := truth.Best(st.Answers, truth.Options{Gold: gold, MaxIter: 50})
				_, _, _ = b100, ds, ballgold
				s4, _ := truth.Best(hon, truth.Options{Gold: gold, MaxIter: 50, Shrinkage: 4 * truth.One})
				s16, _ := truth.Best(hon, truth.Options{Gold: gold, MaxIter: 50, Shrinkage: 16 * truth.One})
				s16p, _ := truth.Best(hon, truth.Options{Gold: gold, MaxIter: 50, Shrinkage: 16 * truth.One, PoolShare: truth.One/100})
				s4p, _ := truth.Best(hon, truth.Options{Gold: gold, MaxIter: 50, Shrinkage: 4 * truth.One, PoolShare: truth.One/100})
				rep := make([]truth.Prob, len(crowd.Workers))
				for w := range rep { rep[w] = b.Workers[w].Accuracy }
				wvb, _ := truth.WeightedVote(hon, rep, truth.Options{Gold: gold})
				cur := wvb
				for range 5 {
					r2 := make([]truth.Prob, len(crowd.Workers))
					cnt := make([]uint64, len(crowd.Workers)); sum := make([]uint64, len(crowd.Workers))
					for _, x := range hon.List { cnt[x.Worker]++; sum[x.Worker] += uint64(cur.Row(x.Item)[x.Class]) }
					for w := range r2 { if cnt[w] > 0 { r2[w] = truth.Prob((sum[w] + uint64(truth.One)) / (cnt[w] + 2)) } else { r2[w] = truth.One/2 } }
					cur, _ = truth.WeightedVote(hon, r2, truth.Options{Gold: gold})
				}
				clean := &workforce.Crowd{Classes: classes, Workers: crowd.Workers[:14]}
				var cl []float64
				for r := range 5 {
					ca, _ := clean.Answer(labels, 3, seed*10+uint64(r))
					cmv, _ := truth.MajorityVote(ca, truth.Options{})
					cl = append(cl, acc(cmv))
				}
				t.Logf("CLEAN mv3 %.4f", cl)
				t.Logf("DIAG2 mv %.4f best %.4f wvBestAcc %.4f oneCoinEM %.4f", acc(mv), acc(b), acc(wvb), acc(cur))
				t.Logf("DIAG mv %.4f best %.4f wv %.4f s4 %.4f s16 %.4f s16p %.4f s4p %.4f", acc(mv), acc(b), acc(wv), acc(s4), acc(s16), acc(s16p), acc(s4p))
			}
			out := checkOutcome(t, res, st, crowd.Kinds(), labels, goldIdx, net)
			t.Logf("chain %.4f mv %.4f all %.4f honestMin %d spamMax %d overlap %d", out.chainAcc, out.mvAcc, out.mvAllAcc, out.honestMin, out.spamMax, j.Overlap)
		})
	}
}
