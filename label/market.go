package label

import (
	"fmt"
	"math/bits"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label/truth"
)

func createJob(ctx *chain.Context, m *MsgCreateJob) error {
	n := m.Count()
	// The budget covers every answer slot dynamic overlap could open.
	hi, budget := bits.Mul64(uint64(n)*uint64(m.MaxRedundancy), m.Reward)
	if hi != 0 {
		return chain.Wrap(chain.ErrOverflow, "budget of %d items x %d answers x %d utnn", n, m.MaxRedundancy, m.Reward)
	}
	if m.ItemsCID != "" {
		if _, err := chain.RequireBlob(ctx, m.ItemsCID); err != nil {
			return err
		}
	}
	if bal := chain.Balance(ctx.KV, ctx.Sender); bal < budget {
		return chain.Wrap(chain.ErrInsufficientFunds, "job budget is %d utnn (%d items x max redundancy %d x reward %d); %s has %d",
			budget, n, m.MaxRedundancy, m.Reward, ctx.Sender, bal)
	}
	id := chain.NextSeq(ctx.KV, keySeq)
	h := ctx.Block.Height
	j := Job{
		ID: id, Requester: ctx.Sender, Title: m.Title, Labels: m.Labels, ItemKind: m.ItemKind, ItemCount: n,
		ItemsCID: m.ItemsCID, ItemFormat: m.ItemFormat, Redundancy: m.Redundancy, MaxRedundancy: m.MaxRedundancy,
		ConfidencePPM: m.ConfidencePPM, Reward: m.Reward, Stake: m.Stake, QualityPPM: m.QualityPPM,
		BatchSize: m.BatchSize, MaxPerWorker: m.MaxPerWorker, GoldHash: m.GoldHash, Budget: budget,
		Created: h, CommitEnd: h + m.DeadlineBlocks, RevealEnd: h + m.DeadlineBlocks + m.RevealBlocks,
		ForfeitAt: h + m.DeadlineBlocks + m.RevealBlocks + m.GraceBlocks, Status: StatusOpen, Source: m.Source,
		Task: m.Task, RatingMin: m.RatingMin, RatingMax: m.RatingMax, Width: m.Width, Height: m.Height, MaxBoxes: m.MaxBoxes,
		Instructions: m.Instructions, Examples: m.Examples,
	}
	if m.Source != nil {
		if err := loadSourceItems(ctx, id, m); err != nil {
			return err
		}
	}
	if err := chain.Lock(ctx, ctx.Sender, j.Escrow(), budget); err != nil {
		return fmt.Errorf("lock the budget of label job %d: %w", id, err)
	}
	for i, it := range m.Items {
		ctx.KV.Set(textKey(id, uint32(i)), []byte(it))
	}
	putJob(ctx.KV, &j)
	ctx.KV.Set(dueKey(j.ForfeitAt, id), []byte{1})
	ctx.Emit("label_create", "job", chain.U64(id), "requester", ctx.Sender.String(), "items", chain.U64(uint64(n)),
		"budget", chain.U64(budget), "commit_end", chain.I64(j.CommitEnd), "reveal_end", chain.I64(j.RevealEnd))
	return nil
}

// openJob loads a job that still takes work at this height.
func openJob(ctx *chain.Context, id uint64) (Job, error) {
	j, err := GetJob(ctx.KV, id)
	if err != nil {
		return j, err
	}
	if j.Status != StatusOpen {
		return j, chain.Wrap(chain.ErrTooLate, "label job %d is %s", id, j.Status)
	}
	if ctx.Block.Height > j.CommitEnd {
		return j, chain.Wrap(chain.ErrTooLate, "label job %d took work until block %d; this is block %d", id, j.CommitEnd, ctx.Block.Height)
	}
	return j, nil
}

// joinedWorker returns the sender's worker record in job id.
func joinedWorker(ctx *chain.Context, id uint64) (Worker, error) {
	w, ok := GetWorker(ctx.KV, id, ctx.Sender)
	if !ok {
		return w, chain.Wrap(chain.ErrNotFound, "%s has not joined label job %d", ctx.Sender, id)
	}
	return w, nil
}

func join(ctx *chain.Context, m *MsgJoin) error {
	j, err := openJob(ctx, m.Job)
	if err != nil {
		return err
	}
	if ctx.Sender == j.Requester {
		return chain.Wrap(chain.ErrUnauthorized, "the requester of label job %d cannot annotate it (it knows the gold)", j.ID)
	}
	if _, ok := GetWorker(ctx.KV, j.ID, ctx.Sender); ok {
		return chain.Wrap(chain.ErrConflict, "%s already joined label job %d; ask for more items with label/more", ctx.Sender, j.ID)
	}
	if j.Workers >= MaxWorkers {
		return chain.Wrap(chain.ErrConflict, "label job %d has the maximum of %d workers", j.ID, MaxWorkers)
	}
	bonded, used := chain.Bonded(ctx, ctx.Sender, Pool), InUse(ctx.KV, ctx.Sender)
	if bonded < used || bonded-used < j.Stake {
		return chain.Wrap(chain.ErrInsufficientFunds, "label job %d needs %d utnn bonded in pool %q; %s has %d bonded, %d of it backing other open jobs",
			j.ID, j.Stake, Pool, ctx.Sender, bonded, used)
	}
	w := Worker{Address: ctx.Sender, Index: j.Workers, Joined: ctx.Block.Height}
	if assign(ctx, &j, &w) == 0 {
		return chain.Wrap(chain.ErrNotFound, "label job %d has no items that need answers now", j.ID)
	}
	chain.SetUint64(ctx.KV, inUseKey(ctx.Sender), used+j.Stake)
	j.Workers++
	putWorker(ctx.KV, j.ID, &w)
	putJob(ctx.KV, &j)
	ctx.Emit("label_join", "job", chain.U64(j.ID), "worker", ctx.Sender.String(), "assigned", chain.U64(uint64(w.Assigned)))
	return nil
}

func more(ctx *chain.Context, m *MsgMore) error {
	j, err := openJob(ctx, m.Job)
	if err != nil {
		return err
	}
	w, err := joinedWorker(ctx, j.ID)
	if err != nil {
		return err
	}
	if w.Pending > 0 {
		return chain.Wrap(chain.ErrConflict, "commit your %d pending items of label job %d before asking for more", w.Pending, j.ID)
	}
	if w.Assigned >= j.MaxPerWorker {
		return chain.Wrap(chain.ErrConflict, "%s has had the most items one worker may get in label job %d (%d)", ctx.Sender, j.ID, j.MaxPerWorker)
	}
	before := w.Assigned
	if assign(ctx, &j, &w) == 0 {
		return chain.Wrap(chain.ErrNotFound, "label job %d has no items that need an answer from %s now", j.ID, ctx.Sender)
	}
	putWorker(ctx.KV, j.ID, &w)
	putJob(ctx.KV, &j)
	ctx.Emit("label_more", "job", chain.U64(j.ID), "worker", ctx.Sender.String(), "assigned", chain.U64(uint64(w.Assigned-before)))
	return nil
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// assign gives w its next round of up to BatchSize items, and returns how
// many. It walks the items in an order drawn from the block seed (a random
// start and a random stride coprime to the item count, so the walk visits
// every item once) and takes items that still need answers and that w was
// never given. At most ItemCount steps: bounded by MaxItems.
func assign(ctx *chain.Context, j *Job, w *Worker) uint32 {
	want := min(j.BatchSize, j.MaxPerWorker-w.Assigned)
	n := uint64(j.ItemCount)
	purpose := fmt.Sprintf("label/assign/%d/%s/%d", j.ID, w.Address, w.Rounds)
	start := ctx.Block.Rand(purpose, 0) % n
	stride := uint64(1)
	if n > 2 {
		stride = 1 + ctx.Block.Rand(purpose, 1)%(n-1)
		for gcd(stride, n) != 1 { // terminates: stride n-1 is coprime to n
			stride++
		}
	}
	var got uint32
	for step := uint64(0); step < n && got < want; step++ {
		i := uint32((start + step*stride) % n)
		it := getItem(ctx.KV, j, i)
		if it.Assigned >= it.Need {
			continue
		}
		if _, seen := getTask(ctx.KV, j.ID, w.Address, i); seen {
			continue // never the same item twice for one worker
		}
		it.Assigned++
		putItem(ctx.KV, j, i, &it)
		putTask(ctx.KV, j.ID, w.Address, &Task{Item: i, Round: w.Rounds, State: TaskAssigned})
		got++
	}
	if got > 0 {
		w.Rounds++
		w.Assigned += got
		w.Pending += got
		j.Assigned += uint64(got)
	}
	return got
}

func commit(ctx *chain.Context, m *MsgCommit) error {
	j, err := openJob(ctx, m.Job)
	if err != nil {
		return err
	}
	w, err := joinedWorker(ctx, j.ID)
	if err != nil {
		return err
	}
	for _, e := range m.Entries {
		t, ok := getTask(ctx.KV, j.ID, ctx.Sender, e.Item)
		if !ok {
			return chain.Wrap(chain.ErrNotFound, "item %d of label job %d is not assigned to %s", e.Item, j.ID, ctx.Sender)
		}
		if t.State != TaskAssigned {
			return chain.Wrap(chain.ErrConflict, "item %d of label job %d is already committed", e.Item, j.ID)
		}
		t.State, t.Commit, t.Committed = TaskCommitted, e.Hash, ctx.Block.Height
		putTask(ctx.KV, j.ID, ctx.Sender, &t)
		it := getItem(ctx.KV, &j, e.Item)
		it.Committed++
		putItem(ctx.KV, &j, e.Item, &it)
	}
	k := uint32(len(m.Entries))
	w.Pending -= k
	w.Committed += k
	j.Committed += uint64(k)
	putWorker(ctx.KV, j.ID, &w)
	putJob(ctx.KV, &j)
	ctx.Emit("label_commit", "job", chain.U64(j.ID), "worker", ctx.Sender.String(), "count", chain.U64(uint64(k)))
	return nil
}

func reveal(ctx *chain.Context, m *MsgReveal) error {
	j, err := GetJob(ctx.KV, m.Job)
	if err != nil {
		return err
	}
	if j.Status != StatusOpen {
		return chain.Wrap(chain.ErrTooLate, "label job %d is %s", j.ID, j.Status)
	}
	if ctx.Block.Height > j.RevealEnd {
		return chain.Wrap(chain.ErrTooLate, "late reveal: label job %d took reveals until block %d; this is block %d", j.ID, j.RevealEnd, ctx.Block.Height)
	}
	w, err := joinedWorker(ctx, j.ID)
	if err != nil {
		return err
	}
	for _, e := range m.Entries {
		t, ok := getTask(ctx.KV, j.ID, ctx.Sender, e.Item)
		switch {
		case !ok:
			return chain.Wrap(chain.ErrNotFound, "item %d of label job %d is not assigned to %s", e.Item, j.ID, ctx.Sender)
		case t.State == TaskAssigned:
			return chain.Wrap(chain.ErrInvalidRequest, "item %d of label job %d has no commit to reveal", e.Item, j.ID)
		case t.State == TaskRevealed:
			return chain.Wrap(chain.ErrConflict, "item %d of label job %d is already revealed", e.Item, j.ID)
		}
		if err := j.CheckAnswer(e.Item, e.Answer()); err != nil {
			return err
		}
		if CommitAnswerHash(j.ID, e.Item, e.Answer(), e.Salt, ctx.Sender) != t.Commit {
			return chain.Wrap(chain.ErrInvalidRequest, "reveal of item %d of label job %d does not match its commit", e.Item, j.ID)
		}
		it := getItem(ctx.KV, &j, e.Item)
		// Nobody sees a label of an item before committing their own: an
		// item's answers open only once all its assigned workers committed.
		if it.Committed < it.Assigned && ctx.Block.Height <= j.CommitEnd {
			return chain.Wrap(chain.ErrTooEarly, "item %d of label job %d waits for %d more commits; reveal once they are in or after block %d",
				e.Item, j.ID, it.Assigned-it.Committed, j.CommitEnd)
		}
		t.State, t.Label, t.Value, t.Boxes = TaskRevealed, e.Label, e.Value, e.Boxes
		putTask(ctx.KV, j.ID, ctx.Sender, &t)
		it.Revealed++
		choice := j.TaskType() == TaskChoice
		if choice {
			it.Votes[e.Label]++
		}
		// Dynamic overlap judges single-choice votes only; other task
		// types get their redundancy.
		if choice && it.Revealed == it.Need && it.Need < j.MaxRedundancy && ctx.Block.Height <= j.CommitEnd &&
			overlapConfidence(it.Votes) < truth.Ratio(uint64(j.ConfidencePPM), ppm) {
			it.Need++
			j.Overlap++
			ctx.Emit("label_overlap", "job", chain.U64(j.ID), "item", chain.U64(uint64(e.Item)), "need", chain.U64(uint64(it.Need)))
		}
		putItem(ctx.KV, &j, e.Item, &it)
	}
	n := uint32(len(m.Entries))
	w.Revealed += n
	j.Revealed += uint64(n)
	putWorker(ctx.KV, j.ID, &w)
	putJob(ctx.KV, &j)
	ctx.Emit("label_reveal", "job", chain.U64(j.ID), "worker", ctx.Sender.String(), "count", chain.U64(uint64(n)))
	return nil
}

// OverlapPriorAccuracy is the accuracy the dynamic-overlap check assumes of
// every answer (0.75): before close the chain knows nothing of the workers.
const OverlapPriorAccuracy = truth.One / 4 * 3

// overlapConfidence is the posterior of an item's leading label under the
// one-coin model (each answer right with OverlapPriorAccuracy, wrong labels
// equally likely): truth.WeightedVote with one pseudo-worker. With 10 labels
// two agreeing answers of three give 0.94; with 2 labels a 2-1 split gives
// 0.75. At most MaxRedundancy votes: cheap enough for every reveal.
func overlapConfidence(votes []uint32) truth.Prob {
	a := truth.Answers{Items: 1, Workers: 1, Classes: len(votes)}
	for c, v := range votes {
		for range v {
			a.List = append(a.List, truth.Answer{Class: c})
		}
	}
	r, err := truth.WeightedVote(&a, []truth.Prob{OverlapPriorAccuracy}, truth.Options{})
	if err != nil || len(r.Items) != 1 {
		return truth.One // cannot judge: ask for no more answers
	}
	return r.Items[0].Confidence
}
