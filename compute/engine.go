package compute

import (
	"encoding/binary"

	"github.com/tenun-chain/tenun/chain"
)

// The job state machine. Handlers and the end-block step change a job and
// then call advance, which applies whatever the height and the new state
// imply (timeouts, matching, opening reveals, judging results), so the
// rules live in one place whichever event triggers them.

// advance moves j as far as the current height and state allow.
func advance(ctx *chain.Context, j *Job) error {
	h := ctx.Block.Height
	switch {
	case j.final():
		return nil
	case j.Status == StatusChallenge:
		if h >= j.ChallengeEnd {
			return settleUnchallenged(ctx, j)
		}
		return nil
	}
	if err := expireAssignments(ctx, j); err != nil {
		return err
	}
	if h >= j.Deadline {
		if j.Stage == StageDispute {
			return disputeUnresolved(ctx, j, "the dispute did not finish before its deadline")
		}
		return finish(ctx, j, StatusExpired, "deadline passed before the job had its result")
	}
	// Each pass either waits for providers, opens reveals, or judges a
	// complete round; judging may ask for one more provider (a tie), which
	// takes another pass. Want grows by one each time and is capped, so
	// this ends.
	for !j.final() {
		stuck, err := fill(ctx, j)
		if err != nil {
			return err
		}
		if stuck {
			if j.Stage == StageDispute {
				return disputeUnresolved(ctx, j, "too many reassignments")
			}
			return finish(ctx, j, StatusFailed, "too many reassignments")
		}
		assigned, committed, _ := j.stageCounts()
		if j.openSlots() > 0 || assigned > 0 {
			// Reveals open only once every slot holds a commitment, so no
			// provider sees another's answer before committing its own.
			j.Revealing = false
			return nil
		}
		if committed > 0 {
			if !j.Revealing {
				j.Revealing, j.RevealEnd = true, h+j.Timeout
				ctx.Emit("compute_reveals_open", "job", chain.U64(j.ID), "until", chain.I64(j.RevealEnd))
			}
			return nil
		}
		j.Revealing = false
		if err := judge(ctx, j); err != nil {
			return err
		}
		if j.Status != StatusRunning {
			return nil
		}
	}
	return nil
}

// expireAssignments replaces assignees that missed their commit deadline or
// the end of reveals; they lose part of their stake.
func expireAssignments(ctx *chain.Context, j *Job) error {
	h := ctx.Block.Height
	for i := range j.Assignments {
		a := &j.Assignments[i]
		late := a.Status == AssignAssigned && h >= a.Deadline ||
			a.Status == AssignCommitted && j.Revealing && h >= j.RevealEnd
		if !late {
			continue
		}
		why := "no commitment in time"
		if a.Status == AssignCommitted {
			why = "no reveal in time"
		}
		a.Status = AssignTimedOut
		release(ctx, j, a)
		p := LoadParams(ctx.KV)
		taken, err := slashBps(ctx, a.Provider, p.AbandonSlashBps, "abandoned job", SpotPool)
		if err != nil {
			return err
		}
		a.Verdict, a.SlashedBy = VerdictSlashed, taken
		updateProvider(ctx.KV, a.Provider, func(p *Provider) { p.Failed++ })
		ctx.Emit("compute_timeout", "job", chain.U64(j.ID), "provider", a.Provider.String(), "reason", why, "slashed", chain.U64(taken))
	}
	return nil
}

// fill assigns providers to the current stage's open slots, drawn at random
// (ctx.Block.Rand) among the eligible ones. Slots no provider can take stay
// open and are retried by the end-block step, with backoff (see nextDue).
// stuck means the job has used up its assignments.
func fill(ctx *chain.Context, j *Job) (stuck bool, err error) {
	open := j.openSlots()
	if open == 0 {
		return false, nil
	}
	if len(j.Assignments)+open > MaxAssignments {
		return true, nil
	}
	cands := candidates(ctx, j)
	if len(cands) == 0 {
		j.Idle = min(j.Idle+1, 32)
		return false, nil
	}
	j.Idle = 0
	for ; open > 0 && len(cands) > 0; open-- {
		n := uint64(len(j.Assignments))
		k := int(ctx.Block.Rand("compute/match/"+chain.U64(j.ID), n) % uint64(len(cands)))
		p := cands[k]
		cands = append(cands[:k], cands[k+1:]...)
		j.Assignments = append(j.Assignments, Assignment{
			Provider: p.Address, Stage: j.Stage, Status: AssignAssigned, Price: p.Price,
			Assigned: ctx.Block.Height, Deadline: ctx.Block.Height + j.Timeout,
		})
		updateProvider(ctx.KV, p.Address, func(p *Provider) { p.BusyCores += j.Spec.Cores() })
		ctx.KV.Set(assignKey(p.Address, j.ID), present)
		ctx.Emit("compute_assign", "job", chain.U64(j.ID), "provider", p.Address.String(), "stage", j.Stage)
	}
	return false, nil
}

// candidates lists, in address order, the providers eligible for j: live,
// priced at most MaxPrice, with the capacity and stake, a reputation above
// the floor, and no part in j yet.
func candidates(ctx *chain.Context, j *Job) []Provider {
	p := LoadParams(ctx.KV)
	h := ctx.Block.Height
	var out []Provider
	chain.Each(ctx.KV, prefixProvider, func(_ []byte, pr Provider) bool {
		switch {
		case h-pr.LastSeen > p.LivenessBlocks,
			pr.Price > j.MaxPrice,
			pr.BusyCores+j.Spec.Cores() > uint64(pr.CPUCores),
			j.Spec.MemoryBytes > pr.MemoryMB<<20,
			j.Spec.GPUs > pr.GPUs,
			pr.ReputationBps() < p.ReputationFloorBps,
			j.excluded(pr.Address):
			return true
		}
		out = append(out, pr)
		return true
	})
	// Stake is checked last: it reads another prefix, so not inside the iteration.
	eligible := out[:0]
	for _, pr := range out {
		if chain.Bonded(ctx, pr.Address, Pool) >= p.MinStake {
			eligible = append(eligible, pr)
		}
	}
	return eligible
}

// release frees the capacity an assignment held.
func release(ctx *chain.Context, j *Job, a *Assignment) {
	cores := j.Spec.Cores()
	updateProvider(ctx.KV, a.Provider, func(p *Provider) { p.BusyCores -= min(p.BusyCores, cores) })
	ctx.KV.Delete(assignKey(a.Provider, j.ID))
}

// slashBps slashes bps of a's bonded compute stake for reason, to beneficiary.
func slashBps(ctx *chain.Context, a chain.Address, bps uint64, reason string, beneficiary chain.Address) (uint64, error) {
	amount := chain.MulDiv(chain.Bonded(ctx, a, Pool), bps, 10_000)
	if amount == 0 {
		return 0, nil
	}
	return chain.Slash(ctx, a, Pool, reason, amount, beneficiary)
}

func pay(ctx *chain.Context, j *Job, a *Assignment) error {
	amount := a.Price * j.Units // Price <= MaxPrice, and MaxPrice x Units was checked
	if err := chain.Release(ctx, EscrowID(j.ID), a.Provider, amount); err != nil {
		return err
	}
	a.Verdict, a.Paid = VerdictPaid, amount
	updateProvider(ctx.KV, a.Provider, func(p *Provider) { p.Done++ })
	return nil
}

func slashWrong(ctx *chain.Context, a *Assignment, beneficiary chain.Address) error {
	p := LoadParams(ctx.KV)
	taken, err := slashBps(ctx, a.Provider, p.WrongResultSlashBps, "wrong result", beneficiary)
	if err != nil {
		return err
	}
	a.Verdict, a.SlashedBy = VerdictSlashed, taken
	updateProvider(ctx.KV, a.Provider, func(p *Provider) { p.Slashed++ })
	return nil
}

// tally counts the current stage's revealed digests, in order of first
// reveal, and returns the most common one, its count, and whether it is the
// only one with that count.
func tally(j *Job) (top Hash, output string, count int, unique bool) {
	type entry struct {
		digest Hash
		output string
		n      int
	}
	var es []entry
	for i := range j.Assignments {
		a := &j.Assignments[i]
		if a.Stage != j.Stage || a.Status != AssignRevealed {
			continue
		}
		found := false
		for k := range es {
			if es[k].digest == a.Digest {
				es[k].n++
				found = true
				break
			}
		}
		if !found {
			es = append(es, entry{a.Digest, a.Output, 1})
		}
	}
	for _, e := range es {
		switch {
		case e.n > count:
			top, output, count, unique = e.digest, e.output, e.n, true
		case e.n == count:
			unique = false
		}
	}
	return
}

// judge decides a stage whose every slot has revealed.
func judge(ctx *chain.Context, j *Job) error {
	top, output, count, unique := tally(j)
	switch {
	case j.Stage == StageWork && j.Spot != nil:
		return settleSpotCheck(ctx, j)
	case j.Stage == StageWork && j.Redundancy == 1:
		// Optimistic: publish, and pay once the challenge window passes.
		j.Status = StatusChallenge
		j.Result = &Result{Digest: top, Output: output, Height: ctx.Block.Height, By: "unchallenged"}
		j.ChallengeEnd = ctx.Block.Height + j.ChallengeBlocks
		ctx.Emit("compute_result", "job", chain.U64(j.ID), "status", j.Status, "digest", top.String(), "challenge_end", chain.I64(j.ChallengeEnd))
		return nil
	}
	if count >= 2 && unique {
		if j.Stage == StageWork {
			return settleMajority(ctx, j, top, output)
		}
		return resolveDispute(ctx, j, top, output)
	}
	// A tie (or every answer different): bring in one more provider.
	limit := j.Redundancy + TieBreakers
	if j.Stage == StageDispute {
		limit = RefereeCount + TieBreakers
	}
	if j.Want < limit {
		j.Want++
		ctx.Emit("compute_tie", "job", chain.U64(j.ID), "stage", j.Stage, "want", chain.U64(uint64(j.Want)))
		return nil
	}
	if j.Stage == StageDispute {
		return disputeUnresolved(ctx, j, "the referees did not agree")
	}
	return finish(ctx, j, StatusFailed, "no majority among the results")
}

// payOrSlash pays each revealed assignment that in selects whose result is
// win, and slashes the others it selects.
func payOrSlash(ctx *chain.Context, j *Job, win Hash, in func(*Assignment) bool) error {
	for i := range j.Assignments {
		a := &j.Assignments[i]
		if a.Status != AssignRevealed || !in(a) {
			continue
		}
		var err error
		if a.Digest == win {
			err = pay(ctx, j, a)
		} else {
			err = slashWrong(ctx, a, SpotPool)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// settleMajority pays the providers whose result won and slashes the rest.
func settleMajority(ctx *chain.Context, j *Job, win Hash, output string) error {
	if err := payOrSlash(ctx, j, win, func(*Assignment) bool { return true }); err != nil {
		return err
	}
	j.Result = &Result{Digest: win, Output: output, Height: ctx.Block.Height, By: "majority"}
	return finish(ctx, j, StatusSettled, "")
}

// settleUnchallenged pays the provider of an optimistic result whose
// challenge window passed.
func settleUnchallenged(ctx *chain.Context, j *Job) error {
	w := j.worker()
	if w == nil {
		return chain.Wrap(chain.ErrInternal, "job %d in challenge without a result", j.ID)
	}
	if err := pay(ctx, j, w); err != nil {
		return err
	}
	return finish(ctx, j, StatusSettled, "")
}

// settleSpotCheck compares a planted job's answer with the known one.
func settleSpotCheck(ctx *chain.Context, j *Job) error {
	for i := range j.Assignments {
		a := &j.Assignments[i]
		if a.Stage != StageWork || a.Status != AssignRevealed {
			continue
		}
		if a.Digest == j.Spot.Expect {
			if err := pay(ctx, j, a); err != nil {
				return err
			}
			j.Result = &Result{Digest: a.Digest, Output: a.Output, Height: ctx.Block.Height, By: "spot_check"}
			ctx.Emit("compute_spot_check_passed", "job", chain.U64(j.ID), "provider", a.Provider.String())
		} else {
			if err := slashWrong(ctx, a, SpotPool); err != nil {
				return err
			}
			j.Note = "spot check caught a wrong result"
			ctx.Emit("compute_spot_check_failed", "job", chain.U64(j.ID), "provider", a.Provider.String())
		}
	}
	return finish(ctx, j, StatusSettled, j.Note)
}

// resolveDispute settles a challenged optimistic result by the referees'
// majority answer win.
func resolveDispute(ctx *chain.Context, j *Job, win Hash, output string) error {
	if err := payOrSlash(ctx, j, win, func(a *Assignment) bool { return a.Stage == StageDispute }); err != nil {
		return err
	}
	w, ch := j.worker(), j.Challenge
	if w == nil || ch == nil {
		return chain.Wrap(chain.ErrInternal, "job %d disputed without a result or a challenge", j.ID)
	}
	switch {
	case w.Digest == win:
		// The result was right: the challenger's bond goes to the provider
		// it wrongly accused, who is also paid for the job.
		ch.Outcome = "rejected"
		if err := chain.Release(ctx, BondEscrowID(j.ID), w.Provider, ch.Bond); err != nil {
			return err
		}
		if err := pay(ctx, j, w); err != nil {
			return err
		}
		j.Result.By = "referees"
	case ch.Digest == win:
		// The challenger was right: it gets its bond back and the slashed stake.
		ch.Outcome = "upheld"
		if err := slashWrong(ctx, w, ch.Challenger); err != nil {
			return err
		}
		if _, err := chain.Refund(ctx, BondEscrowID(j.ID)); err != nil {
			return err
		}
		j.Result = &Result{Digest: win, Output: output, Height: ctx.Block.Height, By: "referees"}
	default:
		// Both were wrong: the provider is slashed and the bond forfeited.
		ch.Outcome = "both_wrong"
		if err := slashWrong(ctx, w, SpotPool); err != nil {
			return err
		}
		if err := chain.Release(ctx, BondEscrowID(j.ID), SpotPool, ch.Bond); err != nil {
			return err
		}
		j.Result = &Result{Digest: win, Output: output, Height: ctx.Block.Height, By: "referees"}
	}
	ctx.Emit("compute_dispute", "job", chain.U64(j.ID), "outcome", ch.Outcome, "challenger", ch.Challenger.String())
	return finish(ctx, j, StatusSettled, "")
}

// disputeUnresolved ends a dispute the referees could not decide: nobody is
// slashed, the challenger gets its bond back, and the optimistic result
// stands (it is accepted unless shown wrong).
func disputeUnresolved(ctx *chain.Context, j *Job, why string) error {
	ch, w := j.Challenge, j.worker()
	if ch == nil || w == nil {
		return chain.Wrap(chain.ErrInternal, "job %d disputed without a result or a challenge", j.ID)
	}
	ch.Outcome = "unresolved"
	if _, err := chain.Refund(ctx, BondEscrowID(j.ID)); err != nil {
		return err
	}
	if err := pay(ctx, j, w); err != nil {
		return err
	}
	ctx.Emit("compute_dispute", "job", chain.U64(j.ID), "outcome", ch.Outcome, "challenger", ch.Challenger.String())
	return finish(ctx, j, StatusSettled, why)
}

// finish ends j: frees the assignments still held, refunds what the escrow
// still holds to its owner (the tenant, or the spot-check pool), and, for a
// job verified now, records it for spot checks and may plant one.
func finish(ctx *chain.Context, j *Job, status, note string) error {
	for i := range j.Assignments {
		a := &j.Assignments[i]
		if a.active() {
			a.Status = AssignCancelled
			release(ctx, j, a)
		}
		if a.Status == AssignRevealed && a.Verdict == "" {
			a.Verdict = VerdictUnpaid
		}
	}
	j.Status, j.Note, j.Ended, j.Revealing = status, note, ctx.Block.Height, false
	refund, err := chain.Refund(ctx, EscrowID(j.ID))
	if err != nil {
		return err
	}
	attrs := []string{"job", chain.U64(j.ID), "status", status, "refund", chain.U64(refund)}
	if j.Result != nil {
		attrs = append(attrs, "digest", j.Result.Digest.String(), "output", j.Result.Output)
	}
	if note != "" {
		attrs = append(attrs, "note", note)
	}
	ctx.Emit("compute_job_end", attrs...)
	if j.Spot != nil {
		if n := chain.GetUint64(ctx.KV, keySpotOpen); n > 0 {
			chain.SetUint64(ctx.KV, keySpotOpen, n-1)
		}
		return nil
	}
	if status == StatusSettled && j.Result != nil {
		seq := chain.GetUint64(ctx.KV, keyVerifiedSeq)
		ctx.KV.Set(chain.Key(prefixVerified, chain.Uint64Bytes(seq%verifiedRing)), chain.Uint64Bytes(j.ID))
		chain.SetUint64(ctx.KV, keyVerifiedSeq, seq+1)
		return plantSpotCheck(ctx, j)
	}
	return nil
}

// plantSpotCheck, with probability SpotCheckPerMille, posts a re-run of a
// recently verified job (drawn with ctx.Block.Rand) paid by the spot-check
// pool. To the provider it draws it is a job like any other, so one that
// guesses or copies instead of computing is caught even where r = 1. (A
// determined cheat can spot it by its tenant, the pool, or by finding the
// identical verified job; spot checks deter lazy cheating, and redundancy
// or challenges catch the rest.)
func plantSpotCheck(ctx *chain.Context, settled *Job) error {
	p := LoadParams(ctx.KV)
	if p.SpotCheckPerMille == 0 || chain.GetUint64(ctx.KV, keySpotOpen) >= p.MaxOpenSpotChecks {
		return nil
	}
	if ctx.Block.Rand("compute/spot", settled.ID)%1000 >= p.SpotCheckPerMille {
		return nil
	}
	n := min(chain.GetUint64(ctx.KV, keyVerifiedSeq), verifiedRing)
	slot := ctx.Block.Rand("compute/spot-source", settled.ID) % n
	raw := ctx.KV.Get(chain.Key(prefixVerified, chain.Uint64Bytes(slot)))
	if len(raw) != 8 {
		return nil
	}
	// The job settling now is not saved yet: use the copy in hand.
	src := *settled
	if id := binary.BigEndian.Uint64(raw); id != settled.ID {
		var err error
		if src, err = GetJob(ctx.KV, id); err != nil || src.Result == nil {
			return nil
		}
	}
	if len(src.Data) > 0 {
		return nil // its data is open to its own scope only: no re-run
	}
	cost := src.MaxCost()
	if chain.Balance(ctx.KV, SpotPool) < cost {
		return nil // the pool cannot fund it; no check this time
	}
	id := chain.NextSeq(ctx.KV, keyNextJob)
	var exclude []chain.Address
	for _, a := range src.Assignments {
		exclude = append(exclude, a.Provider) // they know the answer
	}
	j := Job{
		ID: id, Tenant: SpotPool, Spec: src.Spec, MaxPrice: src.MaxPrice, Redundancy: 1,
		Timeout: src.Timeout, DeadlineBlocks: src.DeadlineBlocks, Units: src.Units, Budget: cost,
		Posted: ctx.Block.Height, Deadline: ctx.Block.Height + src.DeadlineBlocks,
		Status: StatusRunning, Stage: StageWork, Want: 1, Assignments: []Assignment{},
		Spot: &SpotCheck{Source: src.ID, Expect: src.Result.Digest}, Exclude: exclude,
	}
	if err := chain.Lock(ctx, SpotPool, EscrowID(id), cost); err != nil {
		return err
	}
	chain.SetUint64(ctx.KV, keySpotOpen, chain.GetUint64(ctx.KV, keySpotOpen)+1)
	ctx.Emit("compute_job", "id", chain.U64(id), "tenant", SpotPool.String(), "budget", chain.U64(cost), "redundancy", "1")
	if err := advance(ctx, &j); err != nil {
		return err
	}
	saveJob(ctx, &j)
	return nil
}
