package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/workload"
	"github.com/tenun-chain/tenun/internal/testnode"
)

// Scenario tests: a real single-validator node (internal/testnode, 50 ms
// blocks), real provider agents and challengers as goroutines, each with its
// own client and key, and the real workload: the digits trainer compiled to
// WASI, in its quick mode.

const digitsPath = "../../datasets/digits/digits.csv.gz"

const (
	jobPrice = 100 // utnn per unit, every provider's price and the jobs' max
	minFee   = 10  // chain.DefaultParams().MinFee
)

// trainer is the workload, built and run once per test binary: the module,
// the data set, and the outputs a local sandbox run produces, which every
// settled job must match.
var trainer struct {
	once    sync.Once
	module  []byte
	data    []byte
	outputs map[string][]byte
	digest  compute.Hash
	err     error
}

func loadTrainer(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(digitsPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("digits data set not found at %s (it ships in datasets/digits)", digitsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	trainer.once.Do(func() {
		trainer.data = data
		path, err := workload.BuildTrainer("")
		if err != nil {
			trainer.err = err
			return
		}
		if trainer.module, err = os.ReadFile(path); err != nil {
			trainer.err = err
			return
		}
		// The reference run goes through workload.TrainerJob, not the
		// agent's own spec-to-job mapping, so the two are checked against
		// each other.
		res, err := sandbox.Run(context.Background(), workload.TrainerJob(trainer.module, data, workload.TrainerOptions{Quick: true}, sandbox.Limits{}))
		if err != nil {
			trainer.err = err
			return
		}
		trainer.outputs, trainer.digest = res.Outputs, compute.Hash(res.Digest())
	})
	if trainer.err != nil {
		t.Fatalf("trainer workload: %v", trainer.err)
	}
}

type scenario struct {
	t   *testing.T
	ctx context.Context
	net *testnode.Net
}

func newScenario(t *testing.T, accounts int) *scenario {
	loadTrainer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return &scenario{t: t, ctx: ctx, net: testnode.Start(t, accounts)}
}

// client is a fresh client per agent, as separate processes would have.
func (s *scenario) client() *client.Client { return client.New(s.net.Node.APIAddr()) }

func (s *scenario) logf(format string, args ...any) { s.t.Logf(format, args...) }

// startProvider runs a provider agent for dev key i until the test ends.
func (s *scenario) startProvider(i int, cheat string) *agent.Provider {
	s.t.Helper()
	p, err := agent.NewProvider(agent.Config{
		Client: s.client(), Key: s.net.Keys[i], Price: jobPrice, Cheat: cheat,
		Capacity: agent.Capacity{CPUCores: 2, MemoryMB: 2048}, Poll: 50 * time.Millisecond, Logf: s.logf,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.run("provider "+strconv.Itoa(i), p.Run)
	s.waitFor("provider "+strconv.Itoa(i)+" registered", func() bool {
		_, err := s.provider(i)
		return err == nil
	})
	return p
}

func (s *scenario) startChallenger(i int, mode string) *agent.Challenger {
	s.t.Helper()
	c, err := agent.NewChallenger(agent.ChallengerConfig{Client: s.client(), Key: s.net.Keys[i], Mode: mode, Poll: 50 * time.Millisecond, Logf: s.logf})
	if err != nil {
		s.t.Fatal(err)
	}
	s.run("challenger", c.Run)
	return c
}

// run starts an agent goroutine, stopped and waited for at the test's end.
func (s *scenario) run(name string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil {
			s.t.Errorf("%s: %v", name, err)
		}
	}()
	s.t.Cleanup(func() { cancel(); <-done })
}

func (s *scenario) waitFor(what string, cond func() bool) {
	s.t.Helper()
	for !cond() {
		select {
		case <-s.ctx.Done():
			s.t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *scenario) provider(i int) (compute.ProviderInfo, error) {
	var p compute.ProviderInfo
	err := s.net.Client.Query(s.ctx, "compute", "provider/"+s.net.Addr(i).String(), nil, &p)
	return p, err
}

func (s *scenario) job(id uint64) compute.Job {
	s.t.Helper()
	var j compute.Job
	if err := s.net.Client.Query(s.ctx, "compute", "job/"+strconv.FormatUint(id, 10), nil, &j); err != nil {
		s.t.Fatal(err)
	}
	return j
}

func (s *scenario) waitJob(id uint64, status string) compute.Job {
	s.t.Helper()
	var j compute.Job
	s.waitFor("job "+strconv.FormatUint(id, 10)+" "+status, func() bool {
		j = s.job(id)
		return j.Status == status || j.Status != compute.StatusRunning && j.Status != compute.StatusChallenge
	})
	if j.Status != status {
		s.t.Fatalf("job %d ended %s (%s), want %s: %+v", id, j.Status, j.Note, status, j)
	}
	return j
}

func (s *scenario) balance(i int) uint64 {
	s.t.Helper()
	b, err := s.net.Client.Balance(s.ctx, s.net.Addr(i))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *scenario) bonded(i int) uint64 {
	s.t.Helper()
	p, err := s.provider(i)
	if err != nil {
		s.t.Fatal(err)
	}
	return p.Stake
}

// postTrainerJob uploads the trainer and the data set as tenant and posts
// the quick training job; it returns the job id and the tenant's balance
// just before posting.
func (s *scenario) postTrainerJob(tenant int, redundancy uint32, timeout, challenge int64) (uint64, uint64) {
	s.t.Helper()
	c, key := s.net.Client, s.net.Keys[tenant]
	modCID, err := c.RegisterBlob(s.ctx, key, trainer.module)
	if err != nil {
		s.t.Fatal(err)
	}
	dataCID, err := c.RegisterBlob(s.ctx, key, trainer.data)
	if err != nil {
		s.t.Fatal(err)
	}
	before := s.balance(tenant)
	msg := &compute.MsgPostJob{
		Spec: compute.Spec{
			Module: modCID,
			Inputs: []compute.Input{{Name: workload.TrainerDataName, CID: dataCID}},
			Args:   workload.TrainerOptions{Quick: true}.Args(sandbox.InputDir+"/"+workload.TrainerDataName, sandbox.OutputDir),
			// The defaults of workload.TrainerJob's reference run, so the
			// digests must agree.
			MemoryBytes: sandbox.DefaultMemoryBytes, Fuel: 200 * compute.FuelPerUnit, WallSeconds: 120, MaxOutputBytes: 16 << 20,
		},
		MaxPrice: jobPrice, Redundancy: redundancy, Timeout: timeout, DeadlineBlocks: 4000, ChallengeBlocks: challenge,
	}
	res, err := c.Submit(s.ctx, key, msg, client.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, e := range res.Events {
		if e.Type != "compute_job" {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == "id" {
				id, _ := strconv.ParseUint(a.Value, 10, 64)
				return id, before
			}
		}
	}
	s.t.Fatalf("post job: no compute_job event in %+v", res.Events)
	return 0, 0
}

// checkModel downloads the job's output archive and checks it is the
// trained model the reference run produced.
func (s *scenario) checkModel(j compute.Job) {
	s.t.Helper()
	if j.Result == nil || j.Result.Digest != trainer.digest {
		s.t.Fatalf("job %d result %+v, want digest %s", j.ID, j.Result, trainer.digest)
	}
	archive, err := s.net.Client.BlobGet(s.ctx, j.Result.Output)
	if err != nil {
		s.t.Fatal(err)
	}
	outputs, err := sandbox.UnpackArchive(archive)
	if err != nil {
		s.t.Fatal(err)
	}
	if !bytes.Equal(outputs[workload.ModelFile], trainer.outputs[workload.ModelFile]) || len(outputs[workload.ModelFile]) == 0 {
		s.t.Fatalf("the tenant's model.json (%d bytes) is not the reference model", len(outputs[workload.ModelFile]))
	}
	var metrics struct {
		TestAccuracy float64 `json:"test_accuracy"`
	}
	if err := json.Unmarshal(outputs[workload.MetricsFile], &metrics); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("job %d: the tenant's model (%d bytes) has test accuracy %.3f", j.ID, len(outputs[workload.ModelFile]), metrics.TestAccuracy)
	if metrics.TestAccuracy < 0.5 {
		s.t.Errorf("test accuracy %.3f: the model did not train", metrics.TestAccuracy)
	}
}

func (s *scenario) slashes(i int) []chain.SlashRecord {
	s.t.Helper()
	info, err := s.net.Client.Account(s.ctx, s.net.Addr(i))
	if err != nil {
		s.t.Fatal(err)
	}
	return info.Slashes
}

func assignmentOf(j compute.Job, a chain.Address) []compute.Assignment {
	var out []compute.Assignment
	for _, x := range j.Assignments {
		if x.Provider == a {
			out = append(out, x)
		}
	}
	return out
}

// Three providers run a job with redundancy 3; one returns a made-up
// output. It is outvoted and slashed, the honest two are paid their price,
// the tenant pays exactly that and gets the right model.
func TestScenarioWrongResultIsOutvoted(t *testing.T) {
	s := newScenario(t, 4)
	tenant, honest1, honest2, cheat := 0, 1, 2, 3
	s.startProvider(honest1, agent.CheatNone)
	s.startProvider(honest2, agent.CheatNone)
	s.startProvider(cheat, agent.CheatWrong)
	stakeBefore := s.bonded(cheat)
	start := time.Now()
	id, before := s.postTrainerJob(tenant, 3, 200, 0)
	j := s.waitJob(id, compute.StatusSettled)
	t.Logf("job %d settled by %s in %v", id, j.Result.By, time.Since(start).Round(time.Millisecond))
	s.checkModel(j)

	var paid uint64
	for i, who := range []int{honest1, honest2, cheat} {
		as := assignmentOf(j, s.net.Addr(who))
		if len(as) != 1 {
			t.Fatalf("provider %d has %d assignments", who, len(as))
		}
		a := as[0]
		if i < 2 {
			if a.Verdict != compute.VerdictPaid || a.Paid != jobPrice*j.Units {
				t.Errorf("honest provider %d: %+v", who, a)
			}
			paid += a.Paid
		} else if a.Verdict != compute.VerdictSlashed || a.SlashedBy != stakeBefore/5 {
			t.Errorf("cheat: %+v, want 20%% of %d slashed", a, stakeBefore)
		}
	}
	if spent := before - s.balance(tenant); spent != paid+minFee+compute.PostJobFee {
		t.Errorf("tenant spent %d, want the two honest results (%d) and the fee", spent, paid)
	}
	if sl := s.slashes(cheat); len(sl) != 1 || sl[0].Reason != "wrong result" {
		t.Errorf("cheat's slash records %+v", sl)
	}
	if got := s.bonded(cheat); got != stakeBefore-stakeBefore/5 {
		t.Errorf("cheat's bond %d, want %d", got, stakeBefore-stakeBefore/5)
	}
	if p, _ := s.provider(cheat); p.Slashed != 1 || p.ReputationBps >= 10_000 {
		t.Errorf("cheat's record %+v", p)
	}
}

// The only live provider takes the job and goes silent; after the timeout
// it loses part of its stake, the job is reassigned to a provider that
// joined meanwhile, and it finishes with the right model.
func TestScenarioSilentProviderIsReplaced(t *testing.T) {
	s := newScenario(t, 3)
	tenant, silent, honest := 0, 1, 2
	s.startProvider(silent, agent.CheatSilent)
	stakeBefore := s.bonded(silent)
	start := time.Now()
	id, _ := s.postTrainerJob(tenant, 1, 60, 10)
	if as := assignmentOf(s.job(id), s.net.Addr(silent)); len(as) != 1 {
		t.Fatalf("the silent provider (the only one) was not assigned: %+v", s.job(id))
	}
	s.startProvider(honest, agent.CheatNone)
	j := s.waitJob(id, compute.StatusSettled)
	t.Logf("job %d settled in %v after one reassignment", id, time.Since(start).Round(time.Millisecond))
	s.checkModel(j)

	gone := assignmentOf(j, s.net.Addr(silent))[0]
	if gone.Status != compute.AssignTimedOut || gone.SlashedBy != stakeBefore/20 {
		t.Errorf("silent assignment %+v, want timed out and 5%% slashed", gone)
	}
	if sl := s.slashes(silent); len(sl) != 1 || sl[0].Reason != "abandoned job" {
		t.Errorf("silent provider's slash records %+v", sl)
	}
	done := assignmentOf(j, s.net.Addr(honest))
	if len(done) != 1 || done[0].Verdict != compute.VerdictPaid || done[0].Paid != jobPrice*j.Units {
		t.Errorf("replacement's assignment %+v", done)
	}
	if p, _ := s.provider(silent); p.Failed != 1 {
		t.Errorf("silent provider's record %+v", p)
	}
}

// An optimistic (r = 1) result is honest; a challenger disputes it anyway.
// Three referees re-run the job and agree with the provider: the challenge
// is rejected and its bond goes to the provider it accused.
func TestScenarioFalseChallengeCostsTheBond(t *testing.T) {
	s := newScenario(t, 6)
	tenant, challenger := 0, 5
	for p := 1; p <= 4; p++ {
		s.startProvider(p, agent.CheatNone)
	}
	c := s.startChallenger(challenger, agent.ChallengeAlways)
	cBefore := s.balance(challenger)
	id, _ := s.postTrainerJob(tenant, 1, 200, 200)
	j := s.waitJob(id, compute.StatusSettled)
	s.checkModel(j)
	if j.Challenge == nil || j.Challenge.Outcome != "rejected" || j.Challenge.Challenger != s.net.Addr(challenger) {
		t.Fatalf("challenge %+v", j.Challenge)
	}
	bond := j.Challenge.Bond
	// The challenger paid the bond and two fees (its claim's blob, the challenge).
	if lost := cBefore - s.balance(challenger); lost != bond+2*minFee+s.storageFee(j.Challenge.Output, challenger) {
		t.Errorf("challenger lost %d, want the bond %d and two fees", lost, bond)
	}
	var worker compute.Assignment
	referees := 0
	for _, a := range j.Assignments {
		switch a.Stage {
		case compute.StageWork:
			worker = a
		case compute.StageDispute:
			referees++
			if a.Verdict != compute.VerdictPaid || a.Digest != trainer.digest {
				t.Errorf("referee %+v", a)
			}
		}
	}
	if referees != compute.RefereeCount || worker.Verdict != compute.VerdictPaid {
		t.Errorf("%d referees, worker %+v", referees, worker)
	}
	if st := c.Stats(); st.Challenged != 1 {
		t.Errorf("challenger stats %+v", st)
	}
	// The bond went to the provider: its bond escrow is empty.
	var esc struct {
		Balance uint64 `json:"balance"`
	}
	if err := s.net.Client.Query(s.ctx, "core", "escrow/"+compute.BondEscrowID(id), nil, &esc); err != nil || esc.Balance != 0 {
		t.Errorf("bond escrow %+v %v", esc, err)
	}
	var slashes []chain.SlashRecord
	if err := s.net.Client.Query(s.ctx, "core", "slashes", url.Values{}, &slashes); err != nil || len(slashes) != 0 {
		t.Errorf("nobody should be slashed: %+v %v", slashes, err)
	}
}

// A provider publishes a made-up optimistic result; an honest challenger
// re-runs the job, disagrees and challenges; the referees side with it: the
// provider is slashed to the challenger and the tenant gets the right model.
func TestScenarioChallengerCatchesWrongResult(t *testing.T) {
	s := newScenario(t, 6)
	tenant, cheat, challenger := 0, 1, 5
	s.startProvider(cheat, agent.CheatWrong)
	stakeBefore := s.bonded(cheat)
	id, _ := s.postTrainerJob(tenant, 1, 200, 400)
	s.waitJob(id, compute.StatusChallenge) // the cheat answered at once
	for p := 2; p <= 4; p++ {
		s.startProvider(p, agent.CheatNone)
	}
	cBefore := s.balance(challenger)
	s.startChallenger(challenger, agent.ChallengeHonest)
	j := s.waitJob(id, compute.StatusSettled)
	s.checkModel(j)
	if j.Challenge == nil || j.Challenge.Outcome != "upheld" {
		t.Fatalf("challenge %+v", j.Challenge)
	}
	w := assignmentOf(j, s.net.Addr(cheat))[0]
	if w.Verdict != compute.VerdictSlashed || w.Paid != 0 || w.SlashedBy != stakeBefore/5 {
		t.Errorf("cheat's assignment %+v", w)
	}
	if gain := s.balance(challenger) - cBefore; gain != stakeBefore/5-2*minFee-s.storageFee(j.Challenge.Output, challenger) {
		t.Errorf("challenger gained %d, want the slashed %d less two fees", gain, stakeBefore/5)
	}
	if sl := s.slashes(cheat); len(sl) != 1 || sl[0].Beneficiary != s.net.Addr(challenger) {
		t.Errorf("cheat's slash records %+v", sl)
	}
}

// storageFee is what account i paid to register blob cid (nothing when
// someone else registered it first).
func (s *scenario) storageFee(cid string, i int) uint64 {
	var rec chain.BlobRecord
	if err := s.net.Client.Query(s.ctx, "core", "blob/"+cid, nil, &rec); err != nil {
		s.t.Fatalf("blob %s: %v", cid, err)
	}
	if rec.Owner != s.net.Addr(i) {
		return 0
	}
	return rec.Size * chain.DefaultParams().StorageFeePerByte
}
