package agent_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
)

// A provider agent stopped between its commitment and its reveal, and
// started again with the same state directory, reveals from the record it
// kept and is paid, not slashed. The second provider is played by the test
// itself, so it commits only once the first agent is down (reveals open
// when every assignee has committed).
func TestScenarioProviderRevealsAfterRestart(t *testing.T) {
	s := newScenario(t, 3)
	tenant, a, b := 0, 1, 2
	stateDir := t.TempDir()
	newAgent := func() *agent.Provider {
		p, err := agent.NewProvider(agent.Config{
			Client: s.client(), Key: s.net.Keys[a], Price: jobPrice, StateDir: stateDir,
			Capacity: agent.Capacity{CPUCores: 2, MemoryMB: 2048}, Poll: 50 * time.Millisecond, Logf: s.logf,
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := func(p *agent.Provider) (stop func()) {
		ctx, cancel := context.WithCancel(s.ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("provider: %v", err)
			}
		}
	}
	stop := start(newAgent())
	s.waitFor("provider registered", func() bool { _, err := s.provider(a); return err == nil })
	// Provider b registers by hand.
	var params compute.Params
	if err := s.net.Client.Query(s.ctx, "compute", "params", nil, &params); err != nil {
		t.Fatal(err)
	}
	reg := &compute.MsgRegister{CPUCores: 2, MemoryMB: 2048, Price: jobPrice, Stake: params.MinStake}
	if _, err := s.net.Client.Submit(s.ctx, s.net.Keys[b], reg, client.Options{}); err != nil {
		t.Fatal(err)
	}

	id, _ := s.postTrainerJob(tenant, 2, 400, 0)
	status := func(i int) string {
		for _, x := range assignmentOf(s.job(id), s.net.Addr(i)) {
			return x.Status
		}
		return ""
	}
	s.waitFor("provider a's commitment", func() bool { return status(a) == compute.AssignCommitted })
	stop() // killed between commit and reveal
	if st := status(a); st != compute.AssignCommitted {
		t.Fatalf("provider a is %s after stopping, want committed", st)
	}

	// b runs the job, stores the output and commits, which opens reveals.
	j := s.job(id)
	out, err := agent.Execute(s.ctx, nil, j.Spec, s.net.Client.BlobGet)
	if err != nil {
		t.Fatal(err)
	}
	// Its archive is a's, which a uploaded and registered before committing.
	var salt compute.Hash
	_, _ = rand.Read(salt[:])
	commit := &compute.MsgCommit{Job: id, Commit: compute.CommitHash(id, s.net.Addr(b), out.Digest, out.CID, salt)}
	if _, err := s.net.Client.Submit(s.ctx, s.net.Keys[b], commit, client.Options{}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("reveals to open", func() bool { return s.job(id).Revealing })

	before := s.balance(a)
	restarted := newAgent() // a new process: nothing in memory
	defer start(restarted)()
	s.waitFor("provider a's reveal after the restart", func() bool { return status(a) == compute.AssignRevealed })
	reveal := &compute.MsgReveal{Job: id, Digest: out.Digest, Output: out.CID, Salt: salt}
	if _, err := s.net.Client.Submit(s.ctx, s.net.Keys[b], reveal, client.Options{}); err != nil {
		t.Fatal(err)
	}
	j = s.waitJob(id, compute.StatusSettled)
	s.checkModel(j)
	if got := s.balance(a); got <= before {
		t.Errorf("provider a was not paid: balance %d, %d before the reveal", got, before)
	}
	if sl := s.slashes(a); len(sl) != 0 {
		t.Errorf("provider a was slashed: %+v", sl)
	}
	if st := restarted.Stats(); st.Revealed != 1 {
		t.Errorf("restarted agent stats %+v, want one reveal", st)
	}
}

// A challenger stopped after deciding to challenge a wrong result (its
// claim stored and recorded) but before the challenge was sent, and started
// again on the same state directory, sends the challenge from its record
// without running the job again, and the referees uphold it.
func TestScenarioChallengerChallengesAfterRestart(t *testing.T) {
	s := newScenario(t, 6)
	tenant, cheat, challenger := 0, 1, 5
	s.startProvider(cheat, agent.CheatWrong)
	id, _ := s.postTrainerJob(tenant, 1, 200, 400)
	s.waitJob(id, compute.StatusChallenge) // the cheat answered at once
	for p := 2; p <= 4; p++ {
		s.startProvider(p, agent.CheatNone) // the referees
	}
	stateDir := t.TempDir()
	newChallenger := func() *agent.Challenger {
		c, err := agent.NewChallenger(agent.ChallengerConfig{Client: s.client(), Key: s.net.Keys[challenger],
			Poll: 50 * time.Millisecond, StateDir: stateDir, Logf: s.logf})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	first := newChallenger()
	killed := make(chan uint64, 1)
	agent.SetBeforeChallenge(first, func(job uint64) error {
		killed <- job
		return errors.New("killed before sending the challenge")
	})
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	select {
	case job := <-killed:
		if job != id {
			t.Fatalf("challenger stopped before challenging job %d, want %d", job, id)
		}
	case <-s.ctx.Done():
		t.Fatal("the challenger never decided to challenge")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if j := s.job(id); j.Challenge != nil || j.Status != compute.StatusChallenge {
		t.Fatalf("job %d after the kill: status %s, challenge %+v; want unchallenged in its window", id, j.Status, j.Challenge)
	}

	restarted := newChallenger() // a new process: nothing in memory
	s.run("restarted challenger", restarted.Run)
	j := s.waitJob(id, compute.StatusSettled)
	s.checkModel(j)
	if j.Challenge == nil || j.Challenge.Outcome != "upheld" || j.Challenge.Challenger != s.net.Addr(challenger) {
		t.Fatalf("challenge %+v, want ours, upheld", j.Challenge)
	}
	if st := restarted.Stats(); st.Checked != 0 || st.Challenged != 1 {
		t.Errorf("restarted challenger %+v: want the challenge sent from its record, no re-run", st)
	}
}
