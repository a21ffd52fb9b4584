package label

import (
	"encoding/binary"
	"fmt"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/label/truth"
)

// InferenceMaxIter bounds the EM rounds of the inference at close.
const InferenceMaxIter = 50

// MaxForfeitsPerBlock bounds the jobs EndBlock settles in one block; the
// rest wait for the next block.
const MaxForfeitsPerBlock = 2

// Slash reasons, recorded with each slashing.
const (
	ReasonOneLabel = "one-label-always" // every answer was the same label
	ReasonRandom   = "random clicking"  // answers do not depend on the item
	ReasonSpam     = "spam"             // answers depend on the item but fail the bar (or were never revealed)
)

// randomInformativeness: a worker below the bar whose answers tell the
// true classes apart less than this (mean total-variation distance between
// its confusion rows, 0 for answers independent of the item) is clicking at
// random. The inference's prior keeps a random clicker with a few dozen
// answers near 0.3 to 0.45; honest workers sit above 0.6.
const randomInformativeness = truth.One / 2

// Results is the canonical record of a closed job's labels. Its CBOR
// encoding (EncodeResults) is the blob whose CID the job records, so anyone
// holding the bytes can prove they are the chain's results.
type Results struct {
	Job     uint64       `json:"job" cbor:"1,keyasint"`
	Labels  []string     `json:"labels" cbor:"2,keyasint"`
	Method  string       `json:"method" cbor:"3,keyasint"`
	Forfeit bool         `json:"forfeit" cbor:"4,keyasint"`
	Items   []ItemResult `json:"items" cbor:"5,keyasint"`
}

// ItemResult is the verdict on one item.
type ItemResult struct {
	Item          uint32 `json:"item" cbor:"1,keyasint"`
	Label         int32  `json:"label" cbor:"2,keyasint"` // index into Labels; -1: no answers and no gold
	ConfidencePPM uint32 `json:"confidence_ppm" cbor:"3,keyasint"`
	Votes         uint32 `json:"votes" cbor:"4,keyasint"`
	Gold          bool   `json:"gold" cbor:"5,keyasint"`
}

// EncodeResults is the canonical bytes of results: the blob content whose
// CID a closed job records.
func EncodeResults(r *Results) []byte { return chain.Marshal(r) }

func closeJob(ctx *chain.Context, m *MsgClose) error {
	j, err := GetJob(ctx.KV, m.Job)
	if err != nil {
		return err
	}
	if j.Status != StatusOpen {
		return chain.Wrap(chain.ErrConflict, "label job %d is already %s (block %d)", j.ID, j.Status, j.Closed)
	}
	h := ctx.Block.Height
	if h >= j.ForfeitAt {
		if len(m.GoldItems) > 0 || len(m.Salt) > 0 {
			return chain.Wrap(chain.ErrTooLate, "label job %d's grace period ended at block %d: it is forfeited and settles without gold (send close with no gold)", j.ID, j.ForfeitAt)
		}
		return settle(ctx, &j, nil)
	}
	if ctx.Sender != j.Requester {
		return chain.Wrap(chain.ErrUnauthorized, "only the requester %s may close label job %d before block %d", j.Requester, j.ID, j.ForfeitAt)
	}
	allIn := h > j.CommitEnd && j.Revealed == j.Committed
	if h <= j.RevealEnd && !allIn {
		return chain.Wrap(chain.ErrTooEarly, "label job %d closes after its reveal phase (block %d), or after block %d once every commit is revealed (%d of %d)",
			j.ID, j.RevealEnd, j.CommitEnd, j.Revealed, j.Committed)
	}
	gold, err := checkGold(&j, m)
	if err != nil {
		return err
	}
	return settle(ctx, &j, gold)
}

// checkGold verifies the revealed gold against the job's gold hash and
// returns it as one label per item (truth.NoLabel where none).
func checkGold(j *Job, m *MsgClose) ([]int, error) {
	if len(j.GoldHash) == 0 {
		if len(m.GoldItems) > 0 {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "label job %d committed no gold; close it without gold", j.ID)
		}
		return nil, nil
	}
	if !sameHash(GoldHash(m.GoldItems, m.GoldLabels, m.Salt), j.GoldHash) {
		return nil, chain.Wrap(chain.ErrInvalidRequest, "the gold revealed does not match label job %d's gold hash", j.ID)
	}
	gold := make([]int, j.ItemCount)
	for i := range gold {
		gold[i] = truth.NoLabel
	}
	for n, it := range m.GoldItems {
		if it >= j.ItemCount || int(m.GoldLabels[n]) >= len(j.Labels) {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "gold item %d label %d is outside label job %d (%d items, %d labels)",
				it, m.GoldLabels[n], j.ID, j.ItemCount, len(j.Labels))
		}
		gold[it] = int(m.GoldLabels[n])
	}
	return gold, nil
}

// infer runs truth.Best with the gold clamped. When no item has two answers
// and no answer falls on a gold item, nothing tells a worker's reliability
// apart from the class mix and EM's verdict is arbitrary: then each item
// keeps its answer (majority vote).
func infer(a *truth.Answers, gold []int) (*truth.Result, error) {
	opt := truth.Options{Gold: gold, MaxIter: InferenceMaxIter}
	for i, n := range a.VotesPerItem() {
		if n >= 2 || n > 0 && gold != nil && gold[i] != truth.NoLabel {
			return truth.Best(a, opt)
		}
	}
	return truth.MajorityVote(a, opt)
}

// collectAnswers gathers the revealed answers in the inference's dense form
// (workers by join index) and counts each worker's distinct labels.
func collectAnswers(kv store.KV, j *Job, workers []Worker) (truth.Answers, [][]uint32) {
	a := truth.Answers{Items: int(j.ItemCount), Workers: len(workers), Classes: len(j.Labels)}
	index := make(map[chain.Address]int, len(workers)) // lookups only
	perLabel := make([][]uint32, len(workers))
	for i, w := range workers {
		index[w.Address] = i
		perLabel[i] = make([]uint32, len(j.Labels))
	}
	p := taskPrefix(j.ID)
	kv.Iterate(p, func(k, v []byte) bool {
		var t Task
		if chain.Unmarshal(v, &t) != nil || t.State != TaskRevealed {
			return true
		}
		w, ok := index[chain.AddressFromBytes(k[len(p):len(p)+chain.AddressLen])]
		if !ok {
			return true
		}
		a.List = append(a.List, truth.Answer{Item: int(t.Item), Worker: w, Class: int(t.Label)})
		perLabel[w][t.Label]++
		return true
	})
	return a, perLabel
}

// minConfusion bounds confusion probabilities from below in looAccuracy,
// so that dividing by one stays in 64 bits (2^-16: far below any rate the
// smoothed inference learns for a worker with answers).
const minConfusion = truth.One >> 16

// looAccuracy is each worker's leave-one-out accuracy: the mean, over its
// answers, of the posterior of its label computed from everyone else. The
// inference's posterior is the prior times each answer's confusion entry,
// so dividing out the worker's own entry leaves the others' verdict (with
// the parameters fixed). A spammer cannot vouch for itself this way; gold
// items stay one-hot, so gold answers count exactly right or wrong. An
// answer that is its item's only evidence (no gold, no other answer) says
// nothing either way and is left out; ok[w] is false for a worker with no
// other answers. O(answers x labels).
func looAccuracy(tr *truth.Result, a *truth.Answers) (acc []truth.Prob, ok []bool) {
	k := a.Classes
	sum := make([]uint64, a.Workers)
	n := make([]uint64, a.Workers)
	r := make([]uint64, k)
	for _, x := range a.List {
		if it := tr.Items[x.Item]; it.Votes < 2 && !it.Gold || tr.Confusion == nil {
			continue
		}
		post := tr.Row(x.Item)
		var total uint64
		for c := range k {
			conf := max(tr.ConfusionRow(x.Worker, c)[x.Class], minConfusion)
			r[c] = chain.MulDiv(uint64(post[c]), uint64(truth.One), uint64(conf)) // < 2^48
			total += r[c]
		}
		n[x.Worker]++
		if total > 0 {
			sum[x.Worker] += chain.MulDiv(r[x.Class], uint64(truth.One), total)
		}
	}
	acc, ok = make([]truth.Prob, a.Workers), make([]bool, a.Workers)
	for w := range acc {
		if n[w] > 0 {
			acc[w], ok[w] = truth.Prob(sum[w]/n[w]), true
		}
	}
	return acc, ok
}

// score is a worker's quality in [0, One]: its leave-one-out accuracy
// (the inference's own estimate when nothing could be checked against
// others) blended with its gold reputation in proportion to the evidence
// behind each (answers, gold answers), so a lucky guess on two gold items
// moves little; then scaled by the share of its commits it revealed
// (withheld answers count as wrong).
func score(w *Worker, wr *truth.WorkerResult, loo truth.Prob, goldRep []truth.Prob, idx int) truth.Prob {
	if w.Committed == 0 {
		return 0
	}
	s := uint64(loo)
	if g := uint64(wr.GoldAnswers); g > 0 && goldRep != nil {
		n := uint64(wr.Answers)
		s = (s*n + uint64(goldRep[idx])*g) / (n + g)
	}
	return truth.Prob(chain.MulDiv(s, uint64(w.Revealed), uint64(w.Committed)))
}

// reasonFor names why a worker below the bar is slashed.
func reasonFor(w *Worker, wr *truth.WorkerResult, labels []uint32) string {
	used := 0
	for _, n := range labels {
		if n > 0 {
			used++
		}
	}
	switch {
	case w.Revealed >= 3 && used == 1:
		return ReasonOneLabel
	case w.Revealed >= 3 && wr.Informativeness < randomInformativeness:
		return ReasonRandom
	}
	return ReasonSpam
}

// settle runs the inference, pays, slashes, refunds and records the
// results. gold nil with the job past ForfeitAt is a forfeit: no slashing,
// and the whole escrow goes to the qualifying workers.
func settle(ctx *chain.Context, j *Job, gold []int) error {
	forfeit := ctx.Block.Height >= j.ForfeitAt
	workers := Workers(ctx.KV, j)
	a, perLabel := collectAnswers(ctx.KV, j, workers)
	res := Results{Job: j.ID, Labels: j.Labels, Method: "none", Forfeit: forfeit, Items: make([]ItemResult, j.ItemCount)}
	for i := range res.Items {
		res.Items[i] = ItemResult{Item: uint32(i), Label: -1}
		if gold != nil && gold[i] != truth.NoLabel {
			res.Items[i] = ItemResult{Item: uint32(i), Label: int32(gold[i]), ConfidencePPM: ppm, Gold: true}
		}
	}
	bar := truth.Ratio(uint64(j.QualityPPM), ppm)
	scores := make([]truth.Prob, len(workers))
	var tr *truth.Result
	if len(a.List) > 0 {
		var err error
		if tr, err = infer(&a, gold); err != nil {
			return chain.Wrap(chain.ErrInternal, "label job %d: inference: %v", j.ID, err)
		}
		var goldRep []truth.Prob
		if gold != nil {
			goldRep, _ = truth.GoldReputation(&a, gold) // nil when no answer hit a gold item
		}
		loo, checked := looAccuracy(tr, &a)
		for i := range workers {
			if !checked[i] {
				loo[i] = tr.Workers[i].Accuracy
			}
			scores[i] = score(&workers[i], &tr.Workers[i], loo[i], goldRep, i)
		}
		// The labels come from the accepted answers only: a second pass
		// without the workers below the bar, whose answers are rejected.
		items := tr
		accepted := truth.Answers{Items: a.Items, Workers: a.Workers, Classes: a.Classes}
		for _, x := range a.List {
			if scores[x.Worker] >= bar {
				accepted.List = append(accepted.List, x)
			}
		}
		if len(accepted.List) < len(a.List) {
			items = nil
			if len(accepted.List) > 0 {
				if items, err = infer(&accepted, gold); err != nil {
					return chain.Wrap(chain.ErrInternal, "label job %d: inference over accepted answers: %v", j.ID, err)
				}
			}
		}
		if items != nil {
			res.Method = items.Method
			for i, it := range items.Items {
				res.Items[i] = ItemResult{Item: uint32(i), Label: int32(it.Label), ConfidencePPM: uint32(it.Confidence.PPM()), Votes: uint32(it.Votes), Gold: it.Gold}
			}
		}
	}
	escrow := j.Escrow()

	// Pay, or slash. A forfeit pays the whole escrow pro rata to
	// revealed answers x score and slashes nobody: the requester broke
	// the protocol, so its missing gold must not cost the workers.
	var weights []uint64
	var totalWeight uint64
	if forfeit {
		weights = make([]uint64, len(workers))
	}
	for i := range workers {
		w := &workers[i]
		w.Settled = true
		w.ScorePPM = uint32(scores[i].PPM())
		if tr != nil {
			wr := &tr.Workers[i]
			w.AccuracyPPM = uint32(wr.Accuracy.PPM())
			w.GoldAnswers, w.GoldCorrect = uint32(wr.GoldAnswers), uint32(wr.GoldCorrect)
		}
		switch {
		case w.Committed == 0:
			// Joined and did nothing: neither paid nor slashed.
		case scores[i] >= bar && w.Revealed > 0:
			if forfeit {
				weights[i] = uint64(w.Revealed) * uint64(scores[i])
				totalWeight += weights[i]
			} else {
				w.Paid = chain.MulDiv(uint64(w.Revealed)*j.Reward, uint64(scores[i]), uint64(truth.One))
			}
		case !forfeit:
			wr := &truth.WorkerResult{}
			if tr != nil {
				wr = &tr.Workers[i]
			}
			w.Reason = reasonFor(w, wr, perLabel[i])
			taken, err := chain.Slash(ctx, w.Address, Pool, w.Reason, j.Stake, chain.Address{})
			if err != nil {
				return fmt.Errorf("label job %d: slash %s: %w", j.ID, w.Address, err)
			}
			w.Slashed = taken
			j.Slashed += taken
		}
	}
	if forfeit && totalWeight > 0 {
		pool := chain.EscrowBalance(ctx, escrow)
		var sum uint64
		top := -1
		for i := range workers {
			if weights[i] == 0 {
				continue
			}
			workers[i].Paid = chain.MulDiv(pool, weights[i], totalWeight)
			sum += workers[i].Paid
			if top < 0 || weights[i] > weights[top] {
				top = i
			}
		}
		workers[top].Paid += pool - sum // rounding dust to the heaviest worker
	}
	for i := range workers {
		w := &workers[i]
		if w.Paid > 0 {
			if err := chain.Release(ctx, escrow, w.Address, w.Paid); err != nil {
				return fmt.Errorf("label job %d: pay %s: %w", j.ID, w.Address, err)
			}
			j.Paid += w.Paid
		}
		// The job no longer holds the worker's stake.
		used := InUse(ctx.KV, w.Address)
		chain.SetUint64(ctx.KV, inUseKey(w.Address), used-min(used, j.Stake))
		putWorker(ctx.KV, j.ID, w)
		ctx.Emit("label_settle", "job", chain.U64(j.ID), "worker", w.Address.String(), "score_ppm", chain.U64(uint64(w.ScorePPM)),
			"paid", chain.U64(w.Paid), "slashed", chain.U64(w.Slashed), "reason", w.Reason)
	}
	refunded, err := chain.Refund(ctx, escrow)
	if err != nil {
		return fmt.Errorf("label job %d: refund: %w", j.ID, err)
	}
	j.Refunded = refunded
	j.Status = StatusClosed
	if forfeit {
		j.Status = StatusForfeited
	}
	j.Closed = ctx.Block.Height
	if j.Source != nil {
		// A job that labelled nothing still settles: the export's own
		// writes are dropped and the reason recorded.
		if err := ctx.Isolated(func(sub *chain.Context) error { return exportResults(sub, j, &res, workers) }); err != nil {
			ctx.Emit("label_export_error", "job", chain.U64(j.ID), "error", err.Error())
		}
	}
	enc := EncodeResults(&res)
	j.ResultsCID = chain.BlobCID(enc)
	ctx.KV.Set(resultKey(j.ID), enc)
	ctx.KV.Delete(dueKey(j.ForfeitAt, j.ID))
	putJob(ctx.KV, j)
	ctx.Emit("label_close", "job", chain.U64(j.ID), "status", j.Status, "paid", chain.U64(j.Paid), "slashed", chain.U64(j.Slashed),
		"refunded", chain.U64(refunded), "results_cid", j.ResultsCID)
	return nil
}

// GetResults loads a closed job's results.
func GetResults(kv store.KV, id uint64) (Results, error) {
	var r Results
	if !chain.Get(kv, resultKey(id), &r) {
		return r, chain.Wrap(chain.ErrNotFound, "label job %d has no results (not closed yet?)", id)
	}
	return r, nil
}

func be64u(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// endBlock settles forfeited jobs whose grace period has ended, at most
// MaxForfeitsPerBlock per block, each in its own write buffer so that one
// failure cannot block the others.
func endBlock(ctx *chain.Context) error {
	type due struct {
		key []byte
		job uint64
	}
	var list []due
	ctx.KV.Iterate(prefixDue, func(k, _ []byte) bool {
		rest := k[len(prefixDue):]
		if len(rest) != 16 || int64(be64u(rest[:8])) > ctx.Block.Height || len(list) == MaxForfeitsPerBlock {
			return false
		}
		list = append(list, due{key: append([]byte{}, k...), job: be64u(rest[8:])})
		return true
	})
	for _, d := range list {
		j, err := GetJob(ctx.KV, d.job)
		if err != nil || j.Status != StatusOpen {
			ctx.KV.Delete(d.key)
			continue
		}
		if err := ctx.Isolated(func(sub *chain.Context) error { return settle(sub, &j, nil) }); err != nil {
			// Leave the job open for a close message; stop retrying it here.
			ctx.KV.Delete(d.key)
			ctx.Emit("label_forfeit_error", "job", chain.U64(j.ID), "error", err.Error())
		}
	}
	return nil
}
