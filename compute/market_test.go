package compute

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/scenario"
)

// The pure rules, without a node, where a story would not read well: spot
// checks, matching over many blocks, eligibility, queries, the commitment
// hash, and fuzzing. The job's life (happy path, majority, ties, timeouts,
// challenges) and the refusals are stories in testdata/*.txt
// (scenarios_test.go).

func addr(b byte) chain.Address { return scenario.ByteAddr(b) }

const (
	tenant = 1
	poor   = 9 // a tenant with almost nothing
	price  = 100
	fuel   = 5 * FuelPerUnit // 5 units: a result costs price x 5
	stake  = 10_000_000
)

type harness struct {
	*scenario.Pure
	module string // registered module CID
	input  string
}

// newHarness starts the market at height 2 with accounts 1 to 8 funded
// and poor (9) almost broke; params, if set, are the market's genesis rules;
// other domains the test needs follow compute.
func newHarness(t *testing.T, params *Params, others ...chain.Domain) *harness {
	t.Helper()
	g := chain.Genesis{Accounts: append(scenario.Funded(8, 100_000_000), chain.GenesisAccount{Address: addr(poor), Balance: 1000})}
	if params != nil {
		raw, _ := json.Marshal(params)
		g.Domains = map[string]json.RawMessage{"compute": raw}
	}
	h := &harness{Pure: scenario.NewPure(t, g, append([]chain.Domain{Domain{}}, others...)...)}
	h.Height = 2
	h.module = h.blob(tenant, moduleBytes)
	h.input = h.blob(tenant, inputBytes)
	return h
}

// run executes msg as sender at the current height, as a transaction would:
// decoded and validated by the router, in a write buffer kept on success.
func (h *harness) run(sender byte, msg chain.Msg) error { return h.Run(addr(sender), msg) }

func (h *harness) must(sender byte, msg chain.Msg) {
	h.T.Helper()
	h.Must(addr(sender), msg)
}

func (h *harness) mustFail(sender byte, msg chain.Msg, code *chain.Error, substr string) {
	h.T.Helper()
	h.MustFail(addr(sender), msg, code, substr)
}

func (h *harness) blocks(n int) {
	h.T.Helper()
	for i := 0; i < n; i++ {
		h.EndBlock()
	}
}

func (h *harness) blob(owner byte, content []byte) string {
	h.T.Helper()
	c := chain.BlobCID(content)
	h.must(owner, &chain.MsgRegisterBlob{CID: c, Size: uint64(len(content))})
	return c
}

func (h *harness) register(p byte) {
	h.T.Helper()
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
	h.T.Helper()
	h.must(tenant, m)
	return chain.GetUint64(h.KV, keyNextJob)
}

func (h *harness) job(id uint64) Job {
	h.T.Helper()
	j, err := GetJob(h.KV, id)
	if err != nil {
		h.T.Fatal(err)
	}
	return j
}

func (h *harness) provider(p byte) Provider {
	pr, _ := GetProvider(h.KV, addr(p))
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
	h.T.Helper()
	h.must(p, &MsgCommit{Job: job, Commit: CommitHash(job, addr(p), o.digest, o.cid, salt(p))})
}

func (h *harness) reveal(p byte, job uint64, o output) {
	h.T.Helper()
	h.must(p, &MsgReveal{Job: job, Digest: o.digest, Output: o.cid, Salt: salt(p)})
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
	spot := chain.GetUint64(h.KV, keyNextJob)
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
	if got := chain.GetUint64(h.KV, keySpotOpen); got != 0 {
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
			h.Height += trial
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
	h.Height += DefaultParams().LivenessBlocks + 1 // 4 goes quiet
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
	got, err := d.Query(h.KV, "jobs", map[string]string{"provider": addr(2).String()})
	if err != nil || len(got.([]Job)) != 1 || got.([]Job)[0].ID != job {
		t.Fatalf("jobs for provider: %v %v", got, err)
	}
	got, err = d.Query(h.KV, "jobs", map[string]string{"status": "settled"})
	if err != nil || len(got.([]Job)) != 0 {
		t.Fatalf("settled jobs: %v %v", got, err)
	}
	ps, err := d.Query(h.KV, "providers", nil)
	if err != nil || len(ps.([]ProviderInfo)) != 1 || ps.([]ProviderInfo)[0].Stake != stake {
		t.Fatalf("providers: %v %v", ps, err)
	}
	if _, err := d.Query(h.KV, "job/7", nil); chain.CodeOf(err) != chain.ErrNotFound.Code {
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
		msg, err := h.App.Router().DecodeMsg(chain.Any{Type: typ, Value: value})
		if err != nil {
			if chain.CodeOf(err) == chain.ErrInternal.Code {
				t.Fatalf("%s: decode error without a code: %v", typ, err)
			}
			return
		}
		before := scenario.Dump(h.KV)
		if err := h.run(sender%10, msg); err != nil {
			if chain.CodeOf(err) == chain.ErrInternal.Code {
				t.Fatalf("%s: rejection without a code: %v", typ, err)
			}
			if scenario.Dump(h.KV) != before {
				t.Fatalf("%s: rejected (%v) but the state changed", typ, err)
			}
		}
		if err := chain.CheckInvariants(h.KV); err != nil {
			t.Fatal(err)
		}
		h.blocks(12) // timeouts, reveals, the challenge window
	})
}
