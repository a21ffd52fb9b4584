package compute

import (
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Provider is a registered provider's offer and record.
type Provider struct {
	Address    chain.Address `json:"address" cbor:"1,keyasint"`
	CPUCores   uint32        `json:"cpu_cores" cbor:"2,keyasint"`
	MemoryMB   uint64        `json:"memory_mb" cbor:"3,keyasint"`
	GPUs       uint32        `json:"gpus" cbor:"4,keyasint"`
	GPUModel   string        `json:"gpu_model,omitempty" cbor:"5,keyasint,omitempty"`
	Price      uint64        `json:"price" cbor:"6,keyasint"`
	Registered int64         `json:"registered" cbor:"7,keyasint"`
	LastSeen   int64         `json:"last_seen" cbor:"8,keyasint"`  // height of the last heartbeat, commit or reveal
	BusyCores  uint64        `json:"busy_cores" cbor:"9,keyasint"` // cores of the assignments it holds now
	Done       uint64        `json:"done" cbor:"10,keyasint"`      // results paid
	Failed     uint64        `json:"failed" cbor:"11,keyasint"`    // assignments abandoned
	Slashed    uint64        `json:"slashed" cbor:"12,keyasint"`   // wrong results
	Declined   uint64        `json:"declined" cbor:"13,keyasint"`
}

// ReputationBps is the provider's track record in basis points: a new
// provider starts at 10000; each abandoned job counts against it once and
// each wrong result twice.
func (p Provider) ReputationBps() uint64 {
	good := p.Done + 1
	return good * 10_000 / (good + p.Failed + 2*p.Slashed)
}

// Job statuses.
const (
	StatusRunning   = "running"   // being assigned, computed, committed, revealed (or disputed)
	StatusChallenge = "challenge" // optimistic result published, challenge window open
	StatusSettled   = "settled"   // result final, providers paid
	StatusExpired   = "expired"   // deadline passed without a result; refunded
	StatusFailed    = "failed"    // no agreement could be reached; refunded
)

// Stages of a running job.
const (
	StageWork    = "work"    // the job's own providers
	StageDispute = "dispute" // referees re-running a challenged result
)

// Assignment statuses.
const (
	AssignAssigned  = "assigned"
	AssignCommitted = "committed"
	AssignRevealed  = "revealed"
	AssignDeclined  = "declined"
	AssignTimedOut  = "timed_out"
	AssignCancelled = "cancelled" // the job ended first
)

// Verdicts on a revealed (or abandoned) assignment once its job ends.
const (
	VerdictPaid    = "paid"
	VerdictSlashed = "slashed"
	VerdictUnpaid  = "unpaid"
)

// Assignment is one provider's part in a job.
type Assignment struct {
	Provider  chain.Address `json:"provider" cbor:"1,keyasint"`
	Stage     string        `json:"stage" cbor:"2,keyasint"`
	Status    string        `json:"status" cbor:"3,keyasint"`
	Price     uint64        `json:"price" cbor:"4,keyasint"`    // per unit, the provider's price when assigned
	Assigned  int64         `json:"assigned" cbor:"5,keyasint"` // height
	Deadline  int64         `json:"deadline" cbor:"6,keyasint"` // commit by this height (exclusive)
	Commit    Hash          `json:"commit" cbor:"7,keyasint"`
	Digest    Hash          `json:"digest" cbor:"8,keyasint"`
	Output    string        `json:"output,omitempty" cbor:"9,keyasint,omitempty"`
	Revealed  int64         `json:"revealed,omitempty" cbor:"10,keyasint,omitempty"`
	Verdict   string        `json:"verdict,omitempty" cbor:"11,keyasint,omitempty"`
	Paid      uint64        `json:"paid,omitempty" cbor:"12,keyasint,omitempty"`
	SlashedBy uint64        `json:"slashed_amount,omitempty" cbor:"13,keyasint,omitempty"`
}

func (a *Assignment) active() bool {
	return a.Status == AssignAssigned || a.Status == AssignCommitted
}

// Result is a job's accepted output.
type Result struct {
	Digest Hash   `json:"digest" cbor:"1,keyasint"`
	Output string `json:"output" cbor:"2,keyasint"` // CID of the output archive blob
	Height int64  `json:"height" cbor:"3,keyasint"`
	// How it was accepted: "majority", "unchallenged", "referees", "spot_check".
	By string `json:"by" cbor:"4,keyasint"`
}

// Challenge is a dispute of an optimistic result.
type Challenge struct {
	Challenger chain.Address `json:"challenger" cbor:"1,keyasint"`
	Bond       uint64        `json:"bond" cbor:"2,keyasint"`
	Digest     Hash          `json:"digest" cbor:"3,keyasint"`
	Output     string        `json:"output" cbor:"4,keyasint"`
	Height     int64         `json:"height" cbor:"5,keyasint"`
	// Outcome once settled: "upheld" (the result was wrong, the challenger
	// right), "rejected" (the result was right), "both_wrong", "unresolved".
	Outcome string `json:"outcome,omitempty" cbor:"6,keyasint,omitempty"`
}

// SpotCheck marks a job the chain planted: a re-run of a verified job
// whose answer it already knows.
type SpotCheck struct {
	Source uint64 `json:"source" cbor:"1,keyasint"`
	Expect Hash   `json:"expect" cbor:"2,keyasint"`
}

// Job is a job's on-chain record.
type Job struct {
	ID              uint64          `json:"id" cbor:"1,keyasint"`
	Tenant          chain.Address   `json:"tenant" cbor:"2,keyasint"`
	Spec            Spec            `json:"spec" cbor:"3,keyasint"`
	MaxPrice        uint64          `json:"max_price" cbor:"4,keyasint"`
	Redundancy      uint32          `json:"redundancy" cbor:"5,keyasint"`
	Timeout         int64           `json:"timeout" cbor:"6,keyasint"`
	DeadlineBlocks  int64           `json:"deadline_blocks" cbor:"7,keyasint"`
	ChallengeBlocks int64           `json:"challenge_blocks,omitempty" cbor:"8,keyasint,omitempty"`
	Units           uint64          `json:"units" cbor:"9,keyasint"`
	Budget          uint64          `json:"budget" cbor:"10,keyasint"`
	Posted          int64           `json:"posted" cbor:"11,keyasint"`
	Deadline        int64           `json:"deadline" cbor:"12,keyasint"` // of the current stage
	Status          string          `json:"status" cbor:"13,keyasint"`
	Stage           string          `json:"stage" cbor:"14,keyasint"`
	Want            uint32          `json:"want" cbor:"15,keyasint"` // results the current stage needs
	Revealing       bool            `json:"revealing" cbor:"16,keyasint"`
	RevealEnd       int64           `json:"reveal_end,omitempty" cbor:"17,keyasint,omitempty"`
	Assignments     []Assignment    `json:"assignments" cbor:"18,keyasint"`
	Result          *Result         `json:"result,omitempty" cbor:"19,keyasint,omitempty"`
	ChallengeEnd    int64           `json:"challenge_end,omitempty" cbor:"20,keyasint,omitempty"`
	Challenge       *Challenge      `json:"challenge,omitempty" cbor:"21,keyasint,omitempty"`
	Spot            *SpotCheck      `json:"spot_check,omitempty" cbor:"22,keyasint,omitempty"`
	Exclude         []chain.Address `json:"exclude,omitempty" cbor:"23,keyasint,omitempty"` // never assigned to these
	Due             int64           `json:"due,omitempty" cbor:"24,keyasint,omitempty"`     // next height the end-block step looks at it
	Ended           int64           `json:"ended,omitempty" cbor:"25,keyasint,omitempty"`
	Note            string          `json:"note,omitempty" cbor:"26,keyasint,omitempty"`
	// Idle counts consecutive matching passes that found no provider for
	// an open slot; retries back off with it (see nextDue).
	Idle uint32 `json:"idle,omitempty" cbor:"27,keyasint,omitempty"`
	// Data are the dataset versions the job reads (see DataInput).
	Data []DataInput `json:"data,omitempty" cbor:"28,keyasint,omitempty"`
}

func (j *Job) final() bool {
	return j.Status == StatusSettled || j.Status == StatusExpired || j.Status == StatusFailed
}

// MaxCost is the most one result may cost: MaxPrice x Units.
func (j *Job) MaxCost() uint64 { return j.MaxPrice * j.Units } // checked for overflow at posting

// State layout, all under "compute/":
//
//	prov/<addr>            Provider
//	job/<id>               Job
//	nextjob                last job id
//	due/<height><id>       jobs the end-block step must look at, by height
//	assign/<addr><id>      active assignments, for providers' polling
//	open/<id>              jobs not yet ended
//	verified/<slot>        ring of recently verified job ids, for spot checks
//	verifiedseq, spotopen  counters
var (
	prefixProvider = []byte("compute/prov/")
	prefixJob      = []byte("compute/job/")
	prefixDue      = []byte("compute/due/")
	prefixAssign   = []byte("compute/assign/")
	prefixOpen     = []byte("compute/open/")
	prefixVerified = []byte("compute/verified/")
	keyNextJob     = []byte("compute/nextjob")
	keyVerifiedSeq = []byte("compute/verifiedseq")
	keySpotOpen    = []byte("compute/spotopen")
)

func providerKey(a chain.Address) []byte { return chain.Key(prefixProvider, a[:]) }
func jobKey(id uint64) []byte            { return chain.Key(prefixJob, chain.Uint64Bytes(id)) }
func dueKey(h int64, id uint64) []byte {
	return chain.Key(prefixDue, chain.Uint64Bytes(uint64(h)), chain.Uint64Bytes(id))
}
func assignKey(a chain.Address, id uint64) []byte {
	return chain.Key(prefixAssign, a[:], chain.Uint64Bytes(id))
}
func openKey(id uint64) []byte { return chain.Key(prefixOpen, chain.Uint64Bytes(id)) }

// EscrowID names the escrow holding a job's budget.
func EscrowID(job uint64) string { return "compute/job/" + chain.U64(job) }

// BondEscrowID names the escrow holding a challenger's bond.
func BondEscrowID(job uint64) string { return "compute/challenge/" + chain.U64(job) }

var present = []byte{1}

// GetProvider reads a provider's record.
func GetProvider(kv store.KV, a chain.Address) (Provider, bool) {
	var p Provider
	ok := chain.Get(kv, providerKey(a), &p)
	return p, ok
}

func putProvider(kv store.KV, p Provider) { chain.Put(kv, providerKey(p.Address), p) }

// updateProvider applies fn to a registered provider's record.
func updateProvider(kv store.KV, a chain.Address, fn func(p *Provider)) {
	p, ok := GetProvider(kv, a)
	if !ok {
		return // cannot happen: providers are never deleted
	}
	fn(&p)
	putProvider(kv, p)
}

// GetJob reads a job.
func GetJob(kv store.KV, id uint64) (Job, error) {
	var j Job
	if !chain.Get(kv, jobKey(id), &j) {
		return j, chain.Wrap(chain.ErrNotFound, "compute job %d", id)
	}
	return j, nil
}

// saveJob writes j and keeps the due, open and assignment indexes in step
// with it. Every change to a job goes through here.
func saveJob(ctx *chain.Context, j *Job) {
	due := j.nextDue(ctx.Block.Height)
	if due != j.Due {
		if j.Due != 0 {
			ctx.KV.Delete(dueKey(j.Due, j.ID))
		}
		if due != 0 {
			ctx.KV.Set(dueKey(due, j.ID), present)
		}
		j.Due = due
	}
	if j.final() {
		ctx.KV.Delete(openKey(j.ID))
	} else {
		ctx.KV.Set(openKey(j.ID), present)
	}
	chain.Put(ctx.KV, jobKey(j.ID), j)
}

// nextDue is the next height at which time alone changes j: an assignment
// deadline, the end of reveals, of the challenge window or of the stage,
// or the next matching attempt for a job with open slots.
func (j *Job) nextDue(h int64) int64 {
	if j.final() {
		return 0
	}
	next := j.Deadline
	if j.Status == StatusChallenge {
		next = j.ChallengeEnd
	} else {
		for i := range j.Assignments {
			if a := &j.Assignments[i]; a.Status == AssignAssigned {
				next = min(next, a.Deadline)
			}
		}
		if j.Revealing {
			next = min(next, j.RevealEnd)
		}
		if j.openSlots() > 0 {
			// Retry matching next block, backing off (2, 4, then every
			// 8 blocks) while no provider fits, so jobs nobody can take
			// cost the chain little.
			next = min(next, h+int64(1)<<min(j.Idle, maxMatchBackoffShift))
		}
	}
	return max(next, h+1)
}

// stageCounts counts the current stage's assignments by status.
func (j *Job) stageCounts() (assigned, committed, revealed int) {
	for i := range j.Assignments {
		a := &j.Assignments[i]
		if a.Stage != j.Stage {
			continue
		}
		switch a.Status {
		case AssignAssigned:
			assigned++
		case AssignCommitted:
			committed++
		case AssignRevealed:
			revealed++
		}
	}
	return
}

// openSlots is how many more providers the current stage needs.
func (j *Job) openSlots() int {
	if j.Status != StatusRunning {
		return 0
	}
	a, c, r := j.stageCounts()
	return max(int(j.Want)-a-c-r, 0)
}

// awaitingCommit returns the index of provider's assignment in this stage
// that still awaits its commitment; one that already committed gets a
// conflict error (ending in hint), anyone else an unauthorized one.
func (j *Job) awaitingCommit(provider chain.Address, hint string) (int, error) {
	if i := j.assignmentOf(provider, AssignAssigned); i >= 0 {
		return i, nil
	}
	if j.assignmentOf(provider, AssignCommitted, AssignRevealed) >= 0 {
		return -1, chain.Wrap(chain.ErrConflict, "job %d: %s has already committed%s", j.ID, provider, hint)
	}
	return -1, chain.Wrap(chain.ErrUnauthorized, "job %d is not assigned to %s", j.ID, provider)
}

// assignmentOf returns the index of provider's assignment in the current
// stage whose status is one of statuses, or -1.
func (j *Job) assignmentOf(provider chain.Address, statuses ...string) int {
	for i := range j.Assignments {
		a := &j.Assignments[i]
		if a.Provider != provider || a.Stage != j.Stage {
			continue
		}
		for _, s := range statuses {
			if a.Status == s {
				return i
			}
		}
	}
	return -1
}

// worker returns the revealed work-stage assignment of an optimistic job.
func (j *Job) worker() *Assignment {
	for i := range j.Assignments {
		if a := &j.Assignments[i]; a.Stage == StageWork && a.Status == AssignRevealed {
			return a
		}
	}
	return nil
}

// excluded reports whether a may not be assigned to j: it already had a
// part in it, challenged it, or is excluded by a spot check.
func (j *Job) excluded(a chain.Address) bool {
	for i := range j.Assignments {
		if j.Assignments[i].Provider == a {
			return true
		}
	}
	if j.Challenge != nil && j.Challenge.Challenger == a {
		return true
	}
	for _, x := range j.Exclude {
		if x == a {
			return true
		}
	}
	return false
}
