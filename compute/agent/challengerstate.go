package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/compute"
)

// A challenger's verdicts on disk (ChallengerConfig.StateDir). Re-running
// a job is the expensive part of checking it, and a challenge must land
// inside the job's window, so:
//
//   - a job whose re-run agreed is recorded, and a restarted challenger
//     does not run it again;
//   - a challenge is recorded once its claim (the output archive) is stored
//     and registered on chain, before the challenge is sent (fsynced). A
//     challenger restarted between the two sends it from the record without
//     running the job again; once it is in a block the record says so.
//
// A record names the published result it judged: should the job's result
// ever differ from it, the record is ignored and the job checked afresh.
// Records of jobs that left the challenge window are removed.

const (
	verdictAgreed    = "agreed"
	verdictChallenge = "challenge"
)

// challengeRecord is one job's verdict as saved.
type challengeRecord struct {
	Job     uint64       `json:"job"`
	Result  compute.Hash `json:"result"`  // the published digest judged
	Verdict string       `json:"verdict"` // verdictAgreed or verdictChallenge
	// Digest and Output are the challenge's claim.
	Digest compute.Hash `json:"digest,omitempty"`
	Output string       `json:"output,omitempty"`
	Sent   bool         `json:"sent,omitempty"` // the challenge is in a block
}

const challengeKeyPrefix = "challenger-job-"

func challengeKey(job uint64) string { return challengeKeyPrefix + strconv.FormatUint(job, 10) }

func (c *Challenger) saveVerdict(rec challengeRecord) error {
	if err := c.state.Save(challengeKey(rec.Job), rec); err != nil {
		return fmt.Errorf("keep verdict: %w", err)
	}
	return nil
}

// resume acts on j's record from before a restart, if there is one for
// j's published result: nothing more for a result agreed with or a
// challenge sent, the challenge itself for one decided on and not sent. It
// reports whether a record settled j.
func (c *Challenger) resume(ctx context.Context, j compute.Job) (bool, error) {
	var rec challengeRecord
	ok, err := c.state.Load(challengeKey(j.ID), &rec)
	if err != nil {
		c.cfg.Logf("challenger: job %d: %v (checking it afresh)", j.ID, err)
		return false, nil
	}
	if !ok || rec.Job != j.ID || j.Result == nil || rec.Result != j.Result.Digest {
		return false, nil
	}
	switch {
	case rec.Verdict == verdictAgreed || rec.Sent:
		return true, nil
	case rec.Verdict == verdictChallenge && rec.Output != "":
		c.cfg.Logf("challenger: job %d: sending the challenge decided before a restart", j.ID)
		return true, c.sendChallenge(ctx, rec)
	}
	return false, nil
}

// sweepRecords removes the records of jobs no longer in their challenge
// window (listed holds every job that is).
func (c *Challenger) sweepRecords(listed []compute.Job) {
	keys, err := c.state.Keys(challengeKeyPrefix)
	if err != nil {
		c.cfg.Logf("challenger: state: %v", err)
		return
	}
	open := make(map[uint64]bool, len(listed))
	for _, j := range listed {
		open[j.ID] = true
	}
	for _, k := range keys {
		id, err := strconv.ParseUint(strings.TrimPrefix(k, challengeKeyPrefix), 10, 64)
		if err == nil && !open[id] {
			_ = c.state.Remove(k)
		}
	}
}
