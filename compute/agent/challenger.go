package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/internal/durable"
)

// Challenger modes.
const (
	// ChallengeHonest re-runs each optimistic result and challenges only
	// those its own run disagrees with.
	ChallengeHonest = ""
	// ChallengeAlways challenges every result with a made-up claim, for
	// tests and demos of a challenge failing.
	ChallengeAlways = "always"
)

// ChallengerConfig configures a challenger.
type ChallengerConfig struct {
	Client  *client.Client
	Key     ed25519.PrivKey
	Mode    string
	Poll    time.Duration    // default 500ms
	Sandbox *sandbox.Sandbox // nil: sandbox.Default()
	Logf    func(format string, args ...any)
	// StateDir, when set, keeps each verdict on disk (challengerstate.go):
	// a restarted challenger neither re-runs the jobs it has checked nor
	// loses a challenge it decided on and had not sent.
	StateDir string
}

// ChallengerStats counts what a challenger did.
type ChallengerStats struct {
	Checked    int `json:"checked"`
	Agreed     int `json:"agreed"`
	Challenged int `json:"challenged"`
	Errors     int `json:"errors"`
}

// Challenger watches optimistic (redundancy 1) results in their challenge
// window, re-runs them, and challenges those that differ.
type Challenger struct {
	cfg   ChallengerConfig
	addr  chain.Address
	blobs *blobCache
	state durable.Dir
	// beforeChallenge, when set (tests), runs once the claim is stored and
	// recorded, just before the challenge is sent; an error stops there.
	beforeChallenge func(job uint64) error

	mu      sync.Mutex
	checked map[uint64]bool
	stats   ChallengerStats
}

// NewChallenger checks cfg and fills its defaults.
func NewChallenger(cfg ChallengerConfig) (*Challenger, error) {
	if cfg.Client == nil || cfg.Key == nil {
		return nil, errors.New("challenger: a client and a key are required")
	}
	if cfg.Mode != ChallengeHonest && cfg.Mode != ChallengeAlways {
		return nil, fmt.Errorf("challenger: unknown mode %q", cfg.Mode)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	state, err := durable.Open(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("challenger: %w", err)
	}
	return &Challenger{
		cfg:     cfg,
		state:   state,
		addr:    chain.AddressFromPubKey(cfg.Key.PubKey().Bytes()),
		blobs:   newBlobCache(cfg.Client, 256<<20),
		checked: map[uint64]bool{},
	}, nil
}

// Stats returns what the challenger has done so far.
func (c *Challenger) Stats() ChallengerStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Challenger) count(f func(s *ChallengerStats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// Run checks each result in its challenge window once, until ctx ends.
func (c *Challenger) Run(ctx context.Context) error {
	tick := time.NewTicker(c.cfg.Poll)
	defer tick.Stop()
	for {
		var jobs []compute.Job
		err := c.cfg.Client.Query(ctx, "compute", "jobs", url.Values{"status": {compute.StatusChallenge}}, &jobs)
		if err != nil && ctx.Err() == nil {
			c.cfg.Logf("challenger: list jobs: %v", err)
		}
		if err == nil {
			c.sweepRecords(jobs)
		}
		for _, j := range jobs {
			c.mu.Lock()
			done := c.checked[j.ID]
			c.checked[j.ID] = true
			c.mu.Unlock()
			if done || j.Challenge != nil || j.Result == nil {
				continue
			}
			if resumed, err := c.resume(ctx, j); resumed {
				if err != nil && ctx.Err() == nil {
					c.cfg.Logf("challenger: job %d: %v", j.ID, err)
					c.count(func(s *ChallengerStats) { s.Errors++ })
				}
				continue
			}
			if _, err := c.Check(ctx, j); err != nil && ctx.Err() == nil {
				c.cfg.Logf("challenger: job %d: %v", j.ID, err)
				c.count(func(s *ChallengerStats) { s.Errors++ })
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Check re-runs j's published result and challenges it if this run
// disagrees (or always, in ChallengeAlways mode). It reports whether it
// challenged.
func (c *Challenger) Check(ctx context.Context, j compute.Job) (bool, error) {
	if j.Result == nil {
		return false, fmt.Errorf("job %d has no result", j.ID)
	}
	c.count(func(s *ChallengerStats) { s.Checked++ })
	var claim Outcome
	if c.cfg.Mode == ChallengeAlways {
		claim = NewOutcome(map[string][]byte{"claim": []byte(fmt.Sprintf("job %d is wrong", j.ID))})
	} else {
		out, err := ExecuteJob(ctx, c.cfg.Sandbox, j, c.blobs.get, nil) // data inputs are the assigned providers' alone: such jobs cannot be re-run here
		if err != nil {
			return false, fmt.Errorf("re-run: %w", err)
		}
		if out.Digest == j.Result.Digest {
			if err := c.saveVerdict(challengeRecord{Job: j.ID, Result: j.Result.Digest, Verdict: verdictAgreed}); err != nil {
				c.cfg.Logf("challenger: job %d: %v", j.ID, err)
			}
			c.count(func(s *ChallengerStats) { s.Agreed++ })
			c.cfg.Logf("challenger: job %d: result %s confirmed", j.ID, out.Digest.String()[:16])
			return false, nil
		}
		claim = out
		c.cfg.Logf("challenger: job %d: published %s, re-run gives %s", j.ID, j.Result.Digest.String()[:16], out.Digest.String()[:16])
	}
	submit := func(msg chain.Msg) error {
		_, err := c.cfg.Client.Submit(ctx, c.cfg.Key, msg, client.Options{})
		return err
	}
	if err := storeBlob(ctx, c.cfg.Client, c.cfg.Key, claim.Archive, submit); err != nil {
		return false, err
	}
	// The claim is on chain: from here a restart sends the challenge from
	// the record instead of running the job again.
	rec := challengeRecord{Job: j.ID, Result: j.Result.Digest, Verdict: verdictChallenge, Digest: claim.Digest, Output: claim.CID}
	if err := c.saveVerdict(rec); err != nil {
		return false, err
	}
	return true, c.sendChallenge(ctx, rec)
}

// sendChallenge sends the challenge rec decided on and records it sent.
func (c *Challenger) sendChallenge(ctx context.Context, rec challengeRecord) error {
	if c.beforeChallenge != nil {
		if err := c.beforeChallenge(rec.Job); err != nil {
			return err
		}
	}
	if _, err := c.cfg.Client.Submit(ctx, c.cfg.Key, &compute.MsgChallenge{Job: rec.Job, Digest: rec.Digest, Output: rec.Output}, client.Options{}); err != nil {
		return fmt.Errorf("challenge: %w", err)
	}
	rec.Sent = true
	if err := c.saveVerdict(rec); err != nil {
		c.cfg.Logf("challenger: job %d: %v", rec.Job, err)
	}
	c.count(func(s *ChallengerStats) { s.Challenged++ })
	c.cfg.Logf("challenger: job %d: challenged with %s", rec.Job, rec.Output)
	return nil
}
