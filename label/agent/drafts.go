package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/label"
)

// draft is an answer given on the page and not yet committed.
type draft struct {
	Job    uint64
	Item   uint32
	Answer label.Answer
	At     time.Time
}

// job returns the job to work on: a.Job, or the newest open job (then
// kept, so the page stays on it).
func (a *Annotator) job(ctx context.Context) (label.Job, error) {
	a.mu.Lock()
	id := a.Job
	a.mu.Unlock()
	if id != 0 {
		var j label.Job
		err := a.C.Query(ctx, "label", fmt.Sprintf("job/%d", id), nil, &j)
		return j, err
	}
	var jobs []label.Job
	if err := a.C.Query(ctx, "label", "jobs", url.Values{"status": {label.StatusOpen}}, &jobs); err != nil {
		return label.Job{}, err
	}
	if len(jobs) == 0 {
		return label.Job{}, errors.New("no open labeling job yet: the page will pick one up when a requester posts it")
	}
	newest := jobs[len(jobs)-1]
	a.mu.Lock()
	a.Job = newest.ID
	a.mu.Unlock()
	return newest, nil
}

func (a *Annotator) tasks(ctx context.Context, job uint64) (label.TasksView, error) {
	var tv label.TasksView
	err := a.C.Query(ctx, "label", fmt.Sprintf("tasks/%d", job), url.Values{"worker": {a.addr.String()}}, &tv)
	return tv, err
}

func (a *Annotator) send(ctx context.Context, msg chain.Msg) error {
	a.txMu.Lock()
	defer a.txMu.Unlock()
	_, err := a.C.Submit(ctx, a.Key, msg, client.Options{})
	return err
}

func (a *Annotator) submit(ctx context.Context, msg func(job uint64) chain.Msg) error {
	j, err := a.job(ctx)
	if err != nil {
		return err
	}
	return a.send(ctx, msg(j.ID))
}

// Answer checks an answer to an assigned item against the job (the label
// set, the rating range, the image and box limits: what the chain would
// refuse at reveal) and keeps it as a draft; the loop commits it once the
// undo window has passed.
func (a *Annotator) Answer(ctx context.Context, item uint32, ans label.Answer) error {
	j, err := a.job(ctx)
	if err != nil {
		return err
	}
	if err := j.CheckAnswer(item, ans); err != nil {
		return err
	}
	tv, err := a.tasks(ctx, j.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(tv.Tasks, func(t label.TaskView) bool { return t.Item == item })
	switch {
	case i < 0:
		return fmt.Errorf("item %d of job %d is not assigned to you", item, j.ID)
	case tv.Tasks[i].State != label.TaskAssigned:
		return fmt.Errorf("item %d of job %d is already committed on chain", item, j.ID)
	case j.Status != label.StatusOpen:
		return fmt.Errorf("job %d is %s", j.ID, j.Status)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if slices.ContainsFunc(a.drafts, func(d draft) bool { return d.Job == j.ID && d.Item == item }) {
		return fmt.Errorf("item %d already has an answer waiting to be committed: undo it first", item)
	}
	a.drafts = append(a.drafts, draft{Job: j.ID, Item: item, Answer: ans, At: time.Now()})
	delete(a.skipped, item)
	if a.restore != nil && a.restore.Item == item {
		a.restore = nil
	}
	return nil
}

// Undo takes back the latest answer that is not committed yet and returns
// its item, which the page shows again with the answer filled in. A
// committed answer cannot change: that is what the commitment is for.
func (a *Annotator) Undo() (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.drafts) == 0 {
		return 0, errors.New("nothing to undo: your answers so far are committed on chain, and a commitment cannot change")
	}
	d := a.drafts[len(a.drafts)-1]
	a.drafts = a.drafts[:len(a.drafts)-1]
	a.restore = &d
	return d.Item, nil
}

// Skip moves an item to the back of the worker's queue. Every assigned
// item must be answered before the chain hands out more, so a skipped item
// comes back once the others are done.
func (a *Annotator) Skip(item uint32) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.skipSeq++
	a.skipped[item] = a.skipSeq
	if a.restore != nil && a.restore.Item == item {
		a.restore = nil
	}
	return nil
}

// Flush commits the drafts whose undo window has passed (all of them with
// now) in one transaction per MaxBatch, and returns how many it committed.
// The salts are on disk before a commit is sent.
func (a *Annotator) Flush(ctx context.Context, now bool) (int, error) {
	a.mu.Lock()
	var due []draft
	cutoff := time.Now().Add(-a.UndoWindow)
	for _, d := range a.drafts {
		if (now || d.At.Before(cutoff)) && len(due) < label.MaxBatch && (len(due) == 0 || d.Job == due[0].Job) {
			due = append(due, d)
		}
	}
	a.mu.Unlock()
	if len(due) == 0 {
		return 0, nil
	}
	slices.SortFunc(due, func(x, y draft) int { return int(x.Item) - int(y.Item) })
	job := due[0].Job
	items := make([]uint32, len(due))
	answers := make([]label.Answer, len(due))
	for i, d := range due {
		items[i], answers[i] = d.Item, d.Answer
	}
	salts, err := a.Secrets.NewAnswers(job, items, answers)
	if err != nil {
		return 0, fmt.Errorf("save the commit salts: %w", err)
	}
	msg := &label.MsgCommit{Job: job}
	for i, d := range due {
		msg.Entries = append(msg.Entries, label.CommitEntry{Item: d.Item, Hash: label.CommitAnswerHash(job, d.Item, d.Answer, salts[i], a.addr)})
	}
	sendErr := a.send(ctx, msg)
	// A refusal that will not get better (the item is not or no longer
	// open to this worker) drops the batch; any other error (the network,
	// a full mempool) keeps the drafts for the next round.
	if c := Code(sendErr); sendErr != nil && c != chain.ErrNotFound.Code && c != chain.ErrConflict.Code && c != chain.ErrTooLate.Code {
		return 0, fmt.Errorf("commit %d answers: %w", len(due), sendErr)
	}
	a.mu.Lock()
	a.drafts = slices.DeleteFunc(a.drafts, func(d draft) bool {
		return d.Job == job && slices.Contains(items, d.Item)
	})
	a.mu.Unlock()
	if sendErr != nil {
		return 0, fmt.Errorf("commit %d answers: %w", len(due), sendErr)
	}
	a.logf("committed %d answers of job %d", len(due), job)
	return len(due), nil
}

// Drafts is how many answers wait to be committed.
func (a *Annotator) Drafts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.drafts)
}

// Reveal reveals every commit the chain lets the worker open now and
// returns how many.
func (a *Annotator) Reveal(ctx context.Context) (int, error) {
	j, err := a.job(ctx)
	if err != nil {
		return 0, err
	}
	tv, err := a.tasks(ctx, j.ID)
	if err != nil || tv.Worker == nil || tv.Job.Status != label.StatusOpen {
		return 0, err
	}
	st, err := a.C.Status(ctx)
	if err != nil {
		return 0, err
	}
	if st.Height >= tv.Job.RevealEnd {
		return 0, nil
	}
	var entries []label.RevealEntry
	for _, t := range tv.Tasks {
		if t.State != label.TaskCommitted || !(t.Sealed || st.Height >= tv.Job.CommitEnd) || len(entries) == label.MaxBatch {
			continue
		}
		s, ok := a.Secrets.Get(j.ID, t.Item)
		if !ok {
			continue // committed elsewhere: nothing here can open it
		}
		entries = append(entries, label.RevealEntry{Item: t.Item, Label: s.Label, Value: s.Value, Boxes: s.Boxes, Salt: s.Salt})
	}
	if len(entries) == 0 {
		return 0, nil
	}
	if err := a.send(ctx, &label.MsgReveal{Job: j.ID, Entries: entries}); err != nil {
		if Code(err) == chain.ErrTooEarly.Code {
			return 0, nil // an item just got another worker; next round
		}
		return 0, err
	}
	a.logf("revealed %d answers of job %d", len(entries), j.ID)
	return len(entries), nil
}

// Loop commits due drafts and reveals what the chain lets open, every
// RevealEvery until ctx ends; on the way out it commits the drafts left.
func (a *Annotator) Loop(ctx context.Context) {
	period := min(a.RevealEvery, max(a.UndoWindow/4, 50*time.Millisecond))
	t := time.NewTicker(period)
	defer t.Stop()
	lastReveal := time.Time{}
	for {
		select {
		case <-ctx.Done():
			if a.Drafts() > 0 {
				bg, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if _, err := a.Flush(bg, true); err != nil {
					a.logf("commit on exit: %v", err)
				}
				cancel()
			}
			return
		case <-t.C:
		}
		if _, err := a.Flush(ctx, false); err != nil && ctx.Err() == nil {
			a.note("%v", err)
		}
		if time.Since(lastReveal) < a.RevealEvery {
			continue
		}
		lastReveal = time.Now()
		if _, err := a.Reveal(ctx); err != nil && ctx.Err() == nil {
			a.logf("reveal: %v", err)
		}
	}
}
