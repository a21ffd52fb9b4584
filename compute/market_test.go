package compute

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"github.com/tenun-chain/tenun/internal/scenario"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// The pure rules, without a node: every bad input is rejected with a clear
// error and leaves the state byte for byte unchanged, and the job state
// machine (matching, commit-reveal, majority, ties, timeouts, challenges,
// spot checks) pays, slashes and refunds exactly.

func addr(b byte) chain.Address { return scenario.ByteAddr(b) }

const (
	tenant = 1
	poor   = 9 // a tenant with almost nothing
	price  = 100
	fuel   = 5 * FuelPerUnit // 5 units: a result costs price x 5
	stake  = 10_000_000
)

type harness struct {
	t      *testing.T
	kv     *store.Memory
	app    *chain.App
	height int64
	module string // registered module CID
	input  string
}

func newHarness(t *testing.T, params *Params) *harness {
	t.Helper()
	h := &harness{t: t, kv: store.NewMemory(), app: chain.NewApp("t", Domain{}), height: 2}
	g := chain.Genesis{Params: chain.DefaultParams()}
	for i := byte(1); i <= 8; i++ {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addr(i), Balance: 100_000_000})
	}
	g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addr(poor), Balance: 1000})
	if params != nil {
		raw, _ := json.Marshal(params)
		g.Domains = map[string]json.RawMessage{"compute": raw}
	}
	if err := h.app.InitGenesis(chain.NewContext(h.kv, h.block(), chain.DefaultParams()), g); err != nil {
		t.Fatal(err)
	}
	h.module = h.blob(tenant, moduleBytes)
	h.input = h.blob(tenant, inputBytes)
	return h
}

func (h *harness) block() chain.Block {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(h.height))
	return chain.Block{Height: h.height, Seed: sha256.Sum256(b[:])}
}

// run executes msg as sender at the current height, as a transaction would:
// decoded and validated by the router, in a write buffer kept on success.
func (h *harness) run(sender byte, msg chain.Msg) error {
	return scenario.Apply(h.app, h.kv, h.block(), chain.DefaultParams(), addr(sender), msg)
}

func (h *harness) must(sender byte, msg chain.Msg) {
	h.t.Helper()
	if err := h.run(sender, msg); err != nil {
		h.t.Fatalf("%s from %d: %v", msg.Type(), sender, err)
	}
}

func (h *harness) mustFail(sender byte, msg chain.Msg, code *chain.Error, substr string) {
	h.t.Helper()
	scenario.MustReject(h.t, h.kv, msg.Type(), code, substr, func() error { return h.run(sender, msg) })
}

// endBlock runs the domain's end-block step at the current height and
// moves to the next.
func (h *harness) endBlock() {
	h.t.Helper()
	cache := store.NewCache(h.kv)
	ctx := chain.NewContext(cache, h.block(), chain.DefaultParams())
	if err := (Domain{}).EndBlock(ctx); err != nil {
		h.t.Fatal(err)
	}
	for _, e := range ctx.Events() {
		if e.Type == "compute_end_block_error" {
			h.t.Fatalf("end block: %+v", e)
		}
	}
	cache.Write()
	h.height++
	if err := chain.CheckInvariants(h.kv); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) blocks(n int) {
	for i := 0; i < n; i++ {
		h.endBlock()
	}
}

func (h *harness) blob(owner byte, content []byte) string {
	h.t.Helper()
	c := chain.BlobCID(content)
	h.must(owner, &chain.MsgRegisterBlob{CID: c, Size: uint64(len(content))})
	return c
}

func (h *harness) register(p byte) {
	h.t.Helper()
	h.must(p, &MsgRegister{CPUCores: 4, MemoryMB: 8192, Price: price, Stake: stake})
}

// The module and input every test job names (only their CIDs and sizes
// matter to the chain).
var moduleBytes, inputBytes = []byte("\x00asm module"), []byte("input data")

func (h *harness) jobMsg(r uint32) *MsgPostJob { return jobMsg(r) }

func jobMsg(r uint32) *MsgPostJob {
	m := &MsgPostJob{
		Spec: Spec{
			Module: chain.BlobCID(moduleBytes), Inputs: []Input{{Name: "data.bin", CID: chain.BlobCID(inputBytes)}}, Args: []string{"-quick"},
			MemoryBytes: 64 << 20, Fuel: fuel, WallSeconds: 60, MaxOutputBytes: 1 << 20,
		},
		MaxPrice: price, Redundancy: r, Timeout: 10, DeadlineBlocks: 100,
	}
	if r == 1 {
		m.ChallengeBlocks = 5
	}
	return m
}

func (h *harness) post(m *MsgPostJob) uint64 {
	h.t.Helper()
	h.must(tenant, m)
	return chain.GetUint64(h.kv, keyNextJob)
}

func (h *harness) job(id uint64) Job {
	h.t.Helper()
	j, err := GetJob(h.kv, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

func (h *harness) provider(p byte) Provider {
	pr, _ := GetProvider(h.kv, addr(p))
	return pr
}

// assigned lists the providers holding an assignment of status st on job id.
func (h *harness) assigned(id uint64, st string) []byte {
	var out []byte
	for _, a := range h.job(id).Assignments {
		if a.Status == st {
			out = append(out, a.Provider[0])
		}
	}
	return out
}

// output is a result: the archive bytes a provider would register.
type output struct {
	digest Hash
	cid    string
}

func (h *harness) output(owner byte, content string) output {
	b := []byte(content)
	return output{digest: sha256.Sum256(b), cid: h.blob(owner, b)}
}

func salt(p byte) Hash { return sha256.Sum256([]byte{p, 's', 'a', 'l', 't'}) }

func (h *harness) commit(p byte, job uint64, o output) {
	h.t.Helper()
	h.must(p, &MsgCommit{Job: job, Commit: CommitHash(job, addr(p), o.digest, o.cid, salt(p))})
}

func (h *harness) reveal(p byte, job uint64, o output) {
	h.t.Helper()
	h.must(p, &MsgReveal{Job: job, Digest: o.digest, Output: o.cid, Salt: salt(p)})
}

func (h *harness) balance(a byte) uint64 { return chain.Balance(h.kv, addr(a)) }

func (h *harness) bonded(a byte) uint64 {
	return chain.Bonded(&chain.Context{KV: h.kv}, addr(a), Pool)
}

func TestBadInputsChangeNothing(t *testing.T) {
	h := newHarness(t, nil)
	// A provider below the minimum stake is refused.
	h.mustFail(2, &MsgRegister{CPUCores: 1, MemoryMB: 1024, Price: 1}, chain.ErrInsufficientFunds, "needs 1000000utnn bonded")
	for p := byte(2); p <= 5; p++ {
		h.register(p)
	}

	// Module over the size limit.
	big := chain.BlobCID([]byte("a big module"))
	h.must(tenant, &chain.MsgRegisterBlob{CID: big, Size: MaxModuleBytes + 1})
	m := h.jobMsg(2)
	m.Spec.Module = big
	h.mustFail(tenant, m, chain.ErrInvalidRequest, "over the limit of 16777216")
	// Unknown module and input CIDs.
	m = h.jobMsg(2)
	m.Spec.Module = chain.BlobCID([]byte("never registered"))
	h.mustFail(tenant, m, chain.ErrNotFound, "module: not found: blob "+m.Spec.Module+" is not registered")
	m = h.jobMsg(2)
	m.Spec.Inputs[0].CID = chain.BlobCID([]byte("never registered"))
	h.mustFail(tenant, m, chain.ErrNotFound, `input "data.bin"`)
	// A tenant that cannot fund the budget.
	h.mustFail(poor, h.jobMsg(2), chain.ErrInsufficientFunds, "job budget is 2000utnn")
	// Shape errors, caught before any state is read.
	m = h.jobMsg(6)
	h.mustFail(tenant, m, chain.ErrInvalidRequest, "redundancy must be 1 to 5")
	m = h.jobMsg(1)
	m.ChallengeBlocks = 0
	h.mustFail(tenant, m, chain.ErrInvalidRequest, "challenge_blocks")
	m = h.jobMsg(2)
	m.Spec.Inputs = append(m.Spec.Inputs, Input{Name: "../etc/passwd", CID: h.input})
	h.mustFail(tenant, m, chain.ErrInvalidRequest, "not a clean relative path")

	// A job of r = 2: two of the four providers are drawn.
	job := h.post(h.jobMsg(2))
	as := h.assigned(job, AssignAssigned)
	if len(as) != 2 {
		t.Fatalf("assigned %v, want 2 providers", as)
	}
	p, q := as[0], as[1]
	var outsider byte
	for c := byte(2); c <= 5; c++ {
		if c != p && c != q {
			outsider = c
		}
	}
	good := h.output(p, "model v1")
	h.mustFail(outsider, &MsgCommit{Job: job, Commit: salt(1)}, chain.ErrUnauthorized, "not assigned")
	h.commit(p, job, good)
	h.mustFail(p, &MsgCommit{Job: job, Commit: salt(1)}, chain.ErrConflict, "already committed")
	// Reveals open only when every assignee has committed.
	h.mustFail(p, &MsgReveal{Job: job, Digest: good.digest, Output: good.cid, Salt: salt(p)}, chain.ErrTooEarly, "reveals open once all 2")
	h.commit(q, job, good)
	// A reveal that does not match its commitment: another salt, or another output.
	h.mustFail(p, &MsgReveal{Job: job, Digest: good.digest, Output: good.cid, Salt: salt(9)}, chain.ErrInvalidRequest, "does not match")
	other := h.output(p, "model v2")
	h.mustFail(p, &MsgReveal{Job: job, Digest: other.digest, Output: other.cid, Salt: salt(p)}, chain.ErrInvalidRequest, "does not match")
	// A digest that is not the output CID's.
	h.mustFail(p, &MsgReveal{Job: job, Digest: other.digest, Output: good.cid, Salt: salt(p)}, chain.ErrInvalidRequest, "names digest")
	h.reveal(p, job, good)
	// Double reveal, while the job runs and after it ended.
	h.mustFail(p, &MsgReveal{Job: job, Digest: good.digest, Output: good.cid, Salt: salt(p)}, chain.ErrConflict, "already revealed")
	h.reveal(q, job, good)
	if st := h.job(job).Status; st != StatusSettled {
		t.Fatalf("job status %s, want settled", st)
	}
	h.mustFail(q, &MsgReveal{Job: job, Digest: good.digest, Output: good.cid, Salt: salt(q)}, chain.ErrConflict, "already revealed")
	// A majority-verified job cannot be challenged.
	h.mustFail(6, &MsgChallenge{Job: job, Digest: other.digest, Output: other.cid}, chain.ErrInvalidRequest, "only optimistic")

	// An optimistic job: challenge too early, with the same result, and too late.
	opt := h.post(h.jobMsg(1))
	w := h.assigned(opt, AssignAssigned)[0]
	res := h.output(w, "optimistic result")
	wrong := h.output(6, "challenger's claim")
	h.commit(w, opt, res)
	h.mustFail(6, &MsgChallenge{Job: opt, Digest: wrong.digest, Output: wrong.cid}, chain.ErrTooEarly, "no result to challenge yet")
	h.reveal(w, opt, res)
	h.mustFail(6, &MsgChallenge{Job: opt, Digest: res.digest, Output: res.cid}, chain.ErrConflict, "claims the published result")
	h.mustFail(w, &MsgChallenge{Job: opt, Digest: wrong.digest, Output: wrong.cid}, chain.ErrUnauthorized, "its own result")
	h.mustFail(poor, &MsgChallenge{Job: opt, Digest: wrong.digest, Output: wrong.cid}, chain.ErrInsufficientFunds, "challenge bond")
	h.blocks(6) // the window of 5 blocks passes; its end is processed at the end of the block it ends at
	if st := h.job(opt).Status; st != StatusSettled {
		t.Fatalf("optimistic job status %s after its window, want settled", st)
	}
	h.mustFail(6, &MsgChallenge{Job: opt, Digest: wrong.digest, Output: wrong.cid}, chain.ErrTooLate, "challenge window closed")
	h.mustFail(6, &MsgChallenge{Job: 99, Digest: wrong.digest, Output: wrong.cid}, chain.ErrNotFound, "compute job 99")
	h.mustFail(6, &MsgHeartbeat{}, chain.ErrNotFound, "not a registered compute provider")
}

func TestMajorityPaysAndSlashes(t *testing.T) {
	h := newHarness(t, &Params{MinStake: 1_000_000, LivenessBlocks: 200, WrongResultSlashBps: 2000, AbandonSlashBps: 500, MinChallengeBond: 1000, ReputationFloorBps: 2000})
	for p := byte(2); p <= 4; p++ {
		h.register(p)
	}
	before := h.balance(tenant)
	job := h.post(h.jobMsg(3))
	j := h.job(job)
	if j.Budget != 5*price*5 || before-h.balance(tenant) != j.Budget {
		t.Fatalf("budget %d, tenant paid %d; want (3 + 2 tie-breakers) x %d", j.Budget, before-h.balance(tenant), price*5)
	}
	good, bad := h.output(2, "the right model"), h.output(4, "a guess")
	outs := map[byte]output{2: good, 3: good, 4: bad}
	for p := byte(2); p <= 4; p++ {
		h.commit(p, job, outs[p])
	}
	if !h.job(job).Revealing {
		t.Fatal("reveals did not open after every commitment")
	}
	bal := map[byte]uint64{2: h.balance(2), 3: h.balance(3), 4: h.balance(4)}
	for p := byte(2); p <= 4; p++ {
		h.reveal(p, job, outs[p])
	}
	j = h.job(job)
	if j.Status != StatusSettled || j.Result.Digest != good.digest || j.Result.By != "majority" {
		t.Fatalf("job %+v", j)
	}
	for p := byte(2); p <= 3; p++ {
		if got := h.balance(p) - bal[p]; got != price*5 {
			t.Errorf("honest provider %d earned %d, want %d", p, got, price*5)
		}
	}
	if h.balance(4) != bal[4] || h.bonded(4) != stake-stake/5 {
		t.Errorf("wrong provider: balance %d -> %d, bond %d; want unpaid and 20%% slashed", bal[4], h.balance(4), h.bonded(4))
	}
	if chain.Balance(h.kv, SpotPool) != stake/5 {
		t.Errorf("spot pool holds %d, want the slashed %d", chain.Balance(h.kv, SpotPool), stake/5)
	}
	if spent := before - h.balance(tenant); spent != 2*price*5 {
		t.Errorf("tenant spent %d, want exactly two results (%d)", spent, 2*price*5)
	}
	if pr := h.provider(4); pr.Slashed != 1 || pr.BusyCores != 0 || pr.ReputationBps() != 3333 {
		t.Errorf("wrong provider's record %+v", pr)
	}
	if pr := h.provider(2); pr.Done != 1 || pr.BusyCores != 0 {
		t.Errorf("honest provider's record %+v", pr)
	}
	var slashes []chain.SlashRecord = chain.Slashes(&chain.Context{KV: h.kv}, addr(4))
	if len(slashes) != 1 || slashes[0].Reason != "wrong result" {
		t.Errorf("slash records %+v", slashes)
	}
}

func TestTieBringsAnotherProvider(t *testing.T) {
	h := newHarness(t, nil)
	h.register(2)
	h.register(3)
	job := h.post(h.jobMsg(2))
	a, b := h.output(2, "answer A"), h.output(3, "answer B")
	h.commit(2, job, a)
	h.commit(3, job, b)
	h.reveal(2, job, a)
	h.reveal(3, job, b)
	j := h.job(job)
	if j.Status != StatusRunning || j.Want != 3 || j.openSlots() != 1 {
		t.Fatalf("after a tie: status %s want %d open %d", j.Status, j.Want, j.openSlots())
	}
	// Nobody is free: the slot waits, matching retried with backoff (the
	// tie at height 2, retries at 4, then 8) until a provider fits.
	h.blocks(3)
	h.register(4)
	if j := h.job(job); j.Idle != 2 || j.Due != 8 {
		t.Fatalf("idle %d due %d at height %d", j.Idle, j.Due, h.height)
	}
	h.blocks(4)
	if got := h.assigned(job, AssignAssigned); len(got) != 1 || got[0] != 4 {
		t.Fatalf("tie-breaker %v, want provider 4", got)
	}
	h.commit(4, job, h.output(4, "answer B"))
	h.reveal(4, job, h.output(4, "answer B"))
	j = h.job(job)
	if j.Status != StatusSettled || j.Result.Digest != b.digest {
		t.Fatalf("after the tie-breaker: %+v", j)
	}
	for _, a := range j.Assignments {
		if want := map[byte]string{2: VerdictSlashed, 3: VerdictPaid, 4: VerdictPaid}[a.Provider[0]]; a.Verdict != want {
			t.Errorf("provider %d verdict %s, want %s", a.Provider[0], a.Verdict, want)
		}
	}
}

func TestSilentProviderIsReplaced(t *testing.T) {
	h := newHarness(t, nil)
	h.register(2)
	job := h.post(h.jobMsg(1)) // only provider 2 is registered: it is drawn
	h.register(3)
	h.blocks(10) // heights 2 to 11: the 10 blocks it had to commit in
	if got := h.assigned(job, AssignAssigned); len(got) != 1 || got[0] != 2 {
		t.Fatalf("assigned %v", got)
	}
	h.endBlock() // height 12: the timeout is processed
	j := h.job(job)
	if j.Assignments[0].Status != AssignTimedOut || j.Assignments[0].Verdict != VerdictSlashed {
		t.Fatalf("silent assignment %+v", j.Assignments[0])
	}
	if h.bonded(2) != stake-stake/20 || h.provider(2).Failed != 1 {
		t.Fatalf("silent provider bond %d record %+v, want 5%% slashed", h.bonded(2), h.provider(2))
	}
	h.mustFail(2, &MsgCommit{Job: job, Commit: salt(2)}, chain.ErrUnauthorized, "not assigned")
	if got := h.assigned(job, AssignAssigned); len(got) != 1 || got[0] != 3 {
		t.Fatalf("reassigned to %v, want provider 3", got)
	}
	o := h.output(3, "result")
	h.commit(3, job, o)
	h.reveal(3, job, o)
	before := h.balance(3)
	h.blocks(6)
	if j := h.job(job); j.Status != StatusSettled || h.balance(3)-before != price*5 {
		t.Fatalf("job %s, provider 3 earned %d", j.Status, h.balance(3)-before)
	}
	if h.provider(3).BusyCores != 0 || h.provider(2).BusyCores != 0 {
		t.Fatal("capacity not released")
	}
}

func TestDeclineReassignsWithoutPenalty(t *testing.T) {
	h := newHarness(t, nil)
	h.register(2)
	job := h.post(h.jobMsg(1))
	h.register(3)
	h.must(2, &MsgDecline{Job: job})
	if h.bonded(2) != stake || h.provider(2).Declined != 1 {
		t.Fatal("declining cost stake")
	}
	if got := h.assigned(job, AssignAssigned); len(got) != 1 || got[0] != 3 {
		t.Fatalf("reassigned to %v, want 3", got)
	}
	h.mustFail(2, &MsgDecline{Job: job}, chain.ErrUnauthorized, "not assigned")
}

func TestExpiredJobIsRefunded(t *testing.T) {
	h := newHarness(t, nil)
	before := h.balance(tenant)
	job := h.post(h.jobMsg(2)) // no providers at all
	h.blocks(101)
	j := h.job(job)
	if j.Status != StatusExpired || h.balance(tenant) != before {
		t.Fatalf("job %s, tenant %d -> %d", j.Status, before, h.balance(tenant))
	}
	if chain.Balance(h.kv, chain.EscrowAddress(EscrowID(job))) != 0 {
		t.Fatal("escrow not empty")
	}
}

func TestChallenges(t *testing.T) {
	// An honest result, challenged: the challenge fails and the bond goes to
	// the provider. A wrong result, challenged: the provider is slashed to
	// the challenger, who gets its bond back.
	for _, honest := range []bool{true, false} {
		h := newHarness(t, nil)
		for p := byte(2); p <= 5; p++ {
			h.register(p)
		}
		job := h.post(h.jobMsg(1))
		w := h.assigned(job, AssignAssigned)[0]
		right := h.output(w, "right")
		wrong := h.output(w, "wrong")
		claimed, challengerClaim := right, wrong
		if !honest {
			claimed, challengerClaim = wrong, right
		}
		h.commit(w, job, claimed)
		h.reveal(w, job, claimed)
		const challenger = 6
		cBefore, wBefore := h.balance(challenger), h.balance(w)
		h.must(challenger, &MsgChallenge{Job: job, Digest: challengerClaim.digest, Output: challengerClaim.cid})
		j := h.job(job)
		bond := j.Challenge.Bond
		if bond != DefaultParams().MinChallengeBond || h.balance(challenger) != cBefore-bond {
			t.Fatalf("bond %d", bond)
		}
		refs := h.assigned(job, AssignAssigned)
		if len(refs) != RefereeCount || bytes.Contains(refs, []byte{w}) {
			t.Fatalf("referees %v (worker %d)", refs, w)
		}
		for _, r := range refs {
			h.commit(r, job, right)
		}
		for _, r := range refs {
			h.reveal(r, job, right)
		}
		j = h.job(job)
		if j.Status != StatusSettled || j.Result.Digest != right.digest {
			t.Fatalf("honest=%v: job %+v", honest, j)
		}
		if honest {
			if j.Challenge.Outcome != "rejected" || h.balance(challenger) != cBefore-bond || h.balance(w) != wBefore+bond+price*5 {
				t.Fatalf("false challenge: outcome %s, challenger %d -> %d, worker %d -> %d", j.Challenge.Outcome, cBefore, h.balance(challenger), wBefore, h.balance(w))
			}
		} else {
			if j.Challenge.Outcome != "upheld" || h.balance(challenger) != cBefore+stake/5 || h.balance(w) != wBefore {
				t.Fatalf("upheld challenge: challenger %d -> %d, worker %d -> %d", cBefore, h.balance(challenger), wBefore, h.balance(w))
			}
			if h.bonded(w) != stake-stake/5 {
				t.Fatalf("worker bond %d", h.bonded(w))
			}
		}
		for _, r := range refs {
			if h.provider(r).Done != 1 {
				t.Errorf("referee %d not paid", r)
			}
		}
	}
}

func TestSpotCheckCatchesAGuess(t *testing.T) {
	p := DefaultParams()
	p.SpotCheckPerMille = 1000 // every settled job plants one
	h := newHarness(t, &p)
	h.must(8, &chain.MsgSend{To: SpotPool, Amount: 1_000_000}) // fund the pool
	h.register(2)
	h.register(3)
	job := h.post(h.jobMsg(2))
	right := h.output(2, "right")
	for _, q := range []byte{2, 3} {
		h.commit(q, job, right)
	}
	h.register(4) // registered after the match: only 4 is free of the source job
	for _, q := range []byte{2, 3} {
		h.reveal(q, job, right)
	}
	spot := chain.GetUint64(h.kv, keyNextJob)
	s := h.job(spot)
	if spot != job+1 || s.Spot == nil || s.Spot.Source != job || s.Tenant != SpotPool {
		t.Fatalf("no spot check planted: %+v", s)
	}
	if got := h.assigned(spot, AssignAssigned); len(got) != 1 || got[0] != 4 {
		t.Fatalf("spot check assigned to %v, want 4 (2 and 3 know the answer)", got)
	}
	guess := h.output(4, "a guess")
	h.commit(4, spot, guess)
	h.reveal(4, spot, guess)
	s = h.job(spot)
	if s.Status != StatusSettled || s.Assignments[0].Verdict != VerdictSlashed || h.provider(4).Slashed != 1 {
		t.Fatalf("spot check: %+v", s)
	}
	if got := chain.GetUint64(h.kv, keySpotOpen); got != 0 {
		t.Fatalf("%d spot checks open", got)
	}
}

func TestMatchingIsDeterministicAndSpread(t *testing.T) {
	picks := map[byte]int{}
	for trial := int64(0); trial < 40; trial++ {
		run := func() byte {
			h := newHarness(t, nil)
			for p := byte(2); p <= 5; p++ {
				h.register(p)
			}
			h.height += trial
			return h.assigned(h.post(h.jobMsg(1)), AssignAssigned)[0]
		}
		a, b := run(), run()
		if a != b {
			t.Fatalf("same block, different match: %d and %d", a, b)
		}
		picks[a]++
	}
	if len(picks) != 4 {
		t.Fatalf("matches over 40 blocks: %v, want all 4 providers drawn", picks)
	}
}

func TestIneligibleProvidersAreNotMatched(t *testing.T) {
	h := newHarness(t, nil)
	h.must(2, &MsgRegister{CPUCores: 4, MemoryMB: 8192, Price: price + 1, Stake: stake}) // too dear
	h.must(3, &MsgRegister{CPUCores: 4, MemoryMB: 32, Price: price, Stake: stake})       // too little memory
	h.register(4)
	h.height += DefaultParams().LivenessBlocks + 1 // 4 goes quiet
	h.register(5)
	job := h.post(h.jobMsg(1))
	if got := h.assigned(job, AssignAssigned); len(got) != 1 || got[0] != 5 {
		t.Fatalf("matched %v, want only 5", got)
	}
	// Capacity: 5 has 4 cores; a 4-core job fills it.
	m := h.jobMsg(1)
	m.Spec.CPUCores = 4
	job2 := h.post(m)
	if got := h.assigned(job2, AssignAssigned); len(got) != 0 {
		t.Fatalf("matched %v to a busy provider", got)
	}
}

func TestQueries(t *testing.T) {
	h := newHarness(t, nil)
	h.register(2)
	job := h.post(h.jobMsg(1))
	d := Domain{}
	got, err := d.Query(h.kv, "jobs", map[string]string{"provider": addr(2).String()})
	if err != nil || len(got.([]Job)) != 1 || got.([]Job)[0].ID != job {
		t.Fatalf("jobs for provider: %v %v", got, err)
	}
	got, err = d.Query(h.kv, "jobs", map[string]string{"status": "settled"})
	if err != nil || len(got.([]Job)) != 0 {
		t.Fatalf("settled jobs: %v %v", got, err)
	}
	ps, err := d.Query(h.kv, "providers", nil)
	if err != nil || len(ps.([]ProviderInfo)) != 1 || ps.([]ProviderInfo)[0].Stake != stake {
		t.Fatalf("providers: %v %v", ps, err)
	}
	if _, err := d.Query(h.kv, "job/7", nil); chain.CodeOf(err) != chain.ErrNotFound.Code {
		t.Fatalf("missing job: %v", err)
	}
}

func TestCommitHashBindsEverything(t *testing.T) {
	d, s := Hash{1}, Hash{2}
	base := CommitHash(1, addr(2), d, "cid", s)
	for name, other := range map[string]Hash{
		"job":      CommitHash(2, addr(2), d, "cid", s),
		"provider": CommitHash(1, addr(3), d, "cid", s),
		"digest":   CommitHash(1, addr(2), Hash{3}, "cid", s),
		"cid":      CommitHash(1, addr(2), d, "cie", s),
		"salt":     CommitHash(1, addr(2), d, "cid", Hash{4}),
	} {
		if other == base {
			t.Errorf("changing the %s does not change the commitment", name)
		}
	}
}

func FuzzMsgPostJobValidate(f *testing.F) {
	f.Add(chain.Marshal(&MsgPostJob{Spec: Spec{Module: chain.BlobCID([]byte("m")), MemoryBytes: 1, Fuel: 1, WallSeconds: 1, MaxOutputBytes: 1}, MaxPrice: 1, Redundancy: 2, Timeout: 3, DeadlineBlocks: 6}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m MsgPostJob
		if chain.Unmarshal(b, &m) != nil {
			return
		}
		if m.ValidateBasic() == nil {
			if _, err := Budget(&m); err != nil && chain.CodeOf(err) != chain.ErrOverflow.Code {
				t.Fatal(err)
			}
		}
	})
}

// FuzzHandlers sends arbitrary messages of every compute type, from any of
// the accounts, to a market with providers and jobs in several states: no
// panic, a rejection changes nothing, and the supply invariant holds, also
// across the end-block steps that follow.
//
//	go test ./compute -run '^$' -fuzz '^FuzzHandlers$' -fuzztime 60s
func FuzzHandlers(f *testing.F) {
	types := []chain.Msg{&MsgRegister{}, &MsgHeartbeat{}, &MsgPostJob{}, &MsgDecline{}, &MsgCommit{}, &MsgReveal{}, &MsgChallenge{}}
	f.Add(uint8(0), uint8(2), chain.Marshal(&MsgRegister{CPUCores: 1, MemoryMB: 1, Price: 1, Stake: 1_000_000}))
	f.Add(uint8(2), uint8(1), chain.Marshal(jobMsg(1)))
	f.Add(uint8(3), uint8(2), chain.Marshal(&MsgDecline{Job: 1}))
	f.Add(uint8(4), uint8(3), chain.Marshal(&MsgCommit{Job: 2, Commit: salt(3)}))
	o := output{digest: sha256.Sum256([]byte("x")), cid: chain.BlobCID([]byte("x"))}
	f.Add(uint8(5), uint8(2), chain.Marshal(&MsgReveal{Job: 2, Digest: o.digest, Output: o.cid, Salt: salt(2)}))
	f.Add(uint8(6), uint8(6), chain.Marshal(&MsgChallenge{Job: 3, Digest: o.digest, Output: o.cid}))
	f.Fuzz(func(t *testing.T, which, sender uint8, value []byte) {
		h := newHarness(t, nil)
		for p := byte(2); p <= 5; p++ {
			h.register(p)
		}
		// Job 1 waits for commitments, job 2 for reveals, job 3 is an
		// optimistic result in its challenge window.
		h.post(h.jobMsg(2))
		j2 := h.post(h.jobMsg(2))
		for _, p := range h.assigned(j2, AssignAssigned) {
			h.commit(p, j2, h.output(p, "x"))
		}
		j3 := h.post(h.jobMsg(1))
		w := h.assigned(j3, AssignAssigned)[0]
		h.commit(w, j3, h.output(w, "y"))
		h.reveal(w, j3, h.output(w, "y"))

		typ := types[int(which)%len(types)].Type()
		msg, err := h.app.Router().DecodeMsg(chain.Any{Type: typ, Value: value})
		if err != nil {
			if chain.CodeOf(err) == chain.ErrInternal.Code {
				t.Fatalf("%s: decode error without a code: %v", typ, err)
			}
			return
		}
		before := scenario.Dump(h.kv)
		if err := h.run(sender%10, msg); err != nil {
			if chain.CodeOf(err) == chain.ErrInternal.Code {
				t.Fatalf("%s: rejection without a code: %v", typ, err)
			}
			if scenario.Dump(h.kv) != before {
				t.Fatalf("%s: rejected (%v) but the state changed", typ, err)
			}
		}
		if err := chain.CheckInvariants(h.kv); err != nil {
			t.Fatal(err)
		}
		h.blocks(12) // timeouts, reveals, the challenge window
	})
}
