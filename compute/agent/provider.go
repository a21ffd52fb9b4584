package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/sandbox"
	dataagent "github.com/tenun-chain/tenun/data/agent"
	"github.com/tenun-chain/tenun/internal/durable"
)

// Cheat modes of the provider agent. They exist so tests and demos can show
// the market catching cheats; an honest provider uses CheatNone.
const (
	CheatNone   = ""
	CheatWrong  = "wrong"  // reveals a made-up output without running the job
	CheatSilent = "silent" // takes jobs and never answers them
)

// Config configures a provider agent.
type Config struct {
	Client *client.Client
	Key    ed25519.PrivKey
	Price  uint64 // utnn per unit of work (compute.FuelPerUnit loop iterations)
	// Stake is the total bond to hold in the compute pool; registration
	// tops it up. 0 means the market's minimum.
	Stake    uint64
	Capacity Capacity // zero: DetectCapacity
	Cheat    string
	Poll     time.Duration    // how often to look for assignments (default 200ms)
	Sandbox  *sandbox.Sandbox // nil: sandbox.Default()
	// StateDir, when set, keeps each commitment's salt and reveal on disk
	// (fsynced before the commitment is sent), so a provider restarted
	// between commit and reveal still reveals, and is paid instead of
	// slashed for a timeout. Without it a restart loses them.
	StateDir string
	// Logf, when set, receives one line per notable event.
	Logf func(format string, args ...any)
}

// ProviderStats counts what a provider agent did.
type ProviderStats struct {
	Assigned  int `json:"assigned"`
	Committed int `json:"committed"`
	Revealed  int `json:"revealed"`
	Declined  int `json:"declined"`
	Errors    int `json:"errors"`
}

// Provider is a running provider agent.
type Provider struct {
	cfg    Config
	addr   chain.Address
	state  durable.Dir
	swept  bool // records of jobs that no longer list us removed (once, at the first poll)
	blobs  *blobCache
	slots  chan struct{} // sandbox runs at once
	params compute.Params
	height atomic.Int64 // the chain's height at the last poll
	lastTx atomic.Int64 // height at which our last transaction was sent: the chain's last sign of life
	wg     sync.WaitGroup

	txMu sync.Mutex // one broadcast at a time, so sequences reach the mempool in order

	mu    sync.Mutex
	tasks map[uint64]*task // jobs we hold an assignment on
	stats ProviderStats
}

// task is one assignment in progress. The poll loop hands it the job's
// latest state, or nil once the job no longer lists us (revealed, replaced,
// ended).
type task struct {
	updates chan *compute.Job // buffer 1: only the newest state matters
}

func (t *task) send(j *compute.Job) {
	if t.updates == nil {
		return
	}
	select {
	case <-t.updates: // drop a state the task has not read yet
	default:
	}
	t.updates <- j // the poll loop is the only sender, so this never blocks
}

// NewProvider checks cfg and fills its defaults.
func NewProvider(cfg Config) (*Provider, error) {
	if cfg.Client == nil || cfg.Key == nil {
		return nil, errors.New("provider agent: a client and a key are required")
	}
	switch cfg.Cheat {
	case CheatNone, CheatWrong, CheatSilent:
	default:
		return nil, fmt.Errorf("provider agent: unknown cheat %q (want %q or %q)", cfg.Cheat, CheatWrong, CheatSilent)
	}
	if cfg.Price == 0 {
		return nil, errors.New("provider agent: price must be positive")
	}
	if cfg.Capacity.CPUCores == 0 {
		cfg.Capacity = DetectCapacity(context.Background())
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	state, err := durable.Open(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("provider agent: %w", err)
	}
	runs := min(int(cfg.Capacity.CPUCores), runtime.NumCPU())
	return &Provider{
		state: state,
		cfg:   cfg,
		addr:  chain.AddressFromPubKey(cfg.Key.PubKey().Bytes()),
		blobs: newBlobCache(cfg.Client, 512<<20),
		slots: make(chan struct{}, max(runs, 1)),
		tasks: map[uint64]*task{},
	}, nil
}

// Address is the provider's account.
func (p *Provider) Address() chain.Address { return p.addr }

// Stats returns what the agent has done so far.
func (p *Provider) Stats() ProviderStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *Provider) count(f func(s *ProviderStats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

func (p *Provider) logf(format string, args ...any) {
	p.cfg.Logf("provider %s: "+format, append([]any{shortAddr(p.addr)}, args...)...)
}

// submit sends one transaction; with wait it returns once the transaction
// is in a block. Without wait it returns once the mempool has it, so one
// provider can have many transactions in a block; the task that sent it
// watches the job for the effect and resends if it never comes. Transient
// failures (the node unreachable) are retried; rejections are not.
func (p *Provider) submit(ctx context.Context, msg chain.Msg, wait bool) error {
	p.txMu.Lock()
	defer p.txMu.Unlock()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var res api.TxResponse
		res, err = p.cfg.Client.Submit(ctx, p.cfg.Key, msg, client.Options{NoWait: !wait})
		if err == nil {
			p.lastTx.Store(max(res.Height, p.height.Load()))
			return nil
		}
		var txErr *client.TxError
		if errors.As(err, &txErr) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: %w", msg.Type(), err)
}

// Register registers the provider (or updates its offer) and tops its
// bond up to the configured stake.
func (p *Provider) Register(ctx context.Context) error {
	if err := p.cfg.Client.Query(ctx, "compute", "params", nil, &p.params); err != nil {
		return fmt.Errorf("read compute params: %w", err)
	}
	want := max(p.cfg.Stake, p.params.MinStake)
	info, err := p.cfg.Client.Account(ctx, p.addr)
	if err != nil {
		return fmt.Errorf("read account %s: %w", p.addr, err)
	}
	var bonded uint64
	for _, s := range info.Stakes {
		if s.Pool == compute.Pool {
			bonded = s.Amount
		}
	}
	c := p.cfg.Capacity
	msg := &compute.MsgRegister{CPUCores: c.CPUCores, MemoryMB: c.MemoryMB, GPUs: c.GPUs, GPUModel: c.GPUModel, Price: p.cfg.Price}
	if bonded < want {
		msg.Stake = want - bonded
	}
	if err := p.submit(ctx, msg, true); err != nil {
		return fmt.Errorf("register provider: %w", err)
	}
	p.logf("registered: %d cores, %d MiB, %d GPUs, price %d/unit, bond %d", c.CPUCores, c.MemoryMB, c.GPUs, p.cfg.Price, bonded+msg.Stake)
	return nil
}

// Run registers and then serves assignments until ctx ends. It returns nil
// on cancellation, once its jobs in flight have stopped.
func (p *Provider) Run(ctx context.Context) error {
	if err := p.Register(ctx); err != nil {
		return err
	}
	defer p.wg.Wait()
	tick := time.NewTicker(p.cfg.Poll)
	defer tick.Stop()
	for {
		if err := p.step(ctx); err != nil && ctx.Err() == nil {
			p.logf("poll: %v", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// step heartbeats when due, hands each task its job's latest state, and
// starts a task for each new assignment.
func (p *Provider) step(ctx context.Context) error {
	st, err := p.cfg.Client.Status(ctx)
	if err != nil {
		return err
	}
	p.height.Store(st.Height)
	// Any transaction of ours keeps us live; heartbeat well before the
	// liveness window runs out.
	if st.Height-p.lastTx.Load() >= max(p.params.LivenessBlocks/4, 1) {
		if err := p.submit(ctx, &compute.MsgHeartbeat{}, true); err != nil {
			p.logf("heartbeat: %v", err)
		}
	}
	var jobs []compute.Job
	if err := p.cfg.Client.Query(ctx, "compute", "jobs", url.Values{"provider": {p.addr.String()}, "limit": {"1000"}}, &jobs); err != nil {
		return err
	}
	listed := make(map[uint64]bool, len(jobs))
	for _, j := range jobs {
		listed[j.ID] = true
	}
	if !p.swept {
		p.swept = true
		p.sweepRecords(listed)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Jobs that no longer list us are over for us: the chain never assigns
	// a provider the same job twice, so they cannot come back.
	for id, t := range p.tasks {
		if !listed[id] {
			t.send(nil)
			delete(p.tasks, id)
		}
	}
	for i := range jobs {
		j := &jobs[i]
		a := myAssignment(j, p.addr)
		if a == nil {
			continue
		}
		if t, ok := p.tasks[j.ID]; ok {
			t.send(j)
			continue
		}
		p.stats.Assigned++
		t := &task{}
		p.tasks[j.ID] = t
		switch {
		case p.cfg.Cheat == CheatSilent:
			p.logf("job %d: taking it and staying silent (cheat)", j.ID)
		case a.Status != compute.AssignAssigned:
			// Committed before a restart: reveal from the record kept on
			// disk; without one the salt is gone and the chain will
			// replace us.
			rec, ok := p.loadCommit(j.ID, j.Stage)
			if !ok {
				p.logf("job %d: committed by an earlier run with no record of its salt; cannot reveal", j.ID)
				break
			}
			p.logf("job %d (%s): committed before a restart; revealing from the saved record", j.ID, j.Stage)
			t.updates = make(chan *compute.Job, 1)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.commitReveal(ctx, *j, t, rec, true)
			}()
			t.send(j)
		default:
			t.updates = make(chan *compute.Job, 1)
			p.wg.Add(1)
			go p.work(ctx, *j, t)
		}
	}
	return nil
}

// myAssignment is provider's active assignment in j's current stage.
func myAssignment(j *compute.Job, provider chain.Address) *compute.Assignment {
	for i := range j.Assignments {
		a := &j.Assignments[i]
		if a.Provider == provider && a.Stage == j.Stage && (a.Status == compute.AssignAssigned || a.Status == compute.AssignCommitted) {
			return a
		}
	}
	return nil
}

// resendBlocks is how long a task waits for a transaction's effect before
// sending it again (it may have been dropped from the mempool).
const resendBlocks = 20

// work runs one assignment through: execute, store the output, commit,
// wait for reveals to open, reveal. Commit and reveal go out without
// waiting for their blocks; the job's state, from the poll loop, says when
// they took effect.
func (p *Provider) work(ctx context.Context, j compute.Job, t *task) {
	defer p.wg.Done()
	fail := func(format string, args ...any) {
		if ctx.Err() == nil {
			p.logf("job %d: "+format, append([]any{j.ID}, args...)...)
			p.count(func(s *ProviderStats) { s.Errors++ })
		}
	}
	stage := j.Stage
	out, err := p.execute(ctx, j)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		// We cannot stand behind a result: give the job back rather than
		// time out, which would cost stake.
		p.logf("job %d: %v; declining", j.ID, err)
		if err := p.submit(ctx, &compute.MsgDecline{Job: j.ID}, true); err != nil {
			fail("decline: %v", err)
			return
		}
		p.count(func(s *ProviderStats) { s.Declined++ })
		return
	}
	if err := p.storeOutput(ctx, out); err != nil {
		fail("%v", err)
		return
	}
	// The same salt as an earlier run's commitment if there was one (the
	// output is the same, so the commitment is too); a new one otherwise,
	// on disk before the commitment goes out.
	rec, ok := p.loadCommit(j.ID, stage)
	if !ok || rec.Digest != out.Digest || rec.Output != out.CID {
		rec = commitRecord{Job: j.ID, Stage: stage, Digest: out.Digest, Output: out.CID}
		if _, err := rand.Read(rec.Salt[:]); err != nil {
			fail("salt: %v", err)
			return
		}
		if err := p.state.Save(commitKey(j.ID), rec); err != nil {
			fail("keep the salt before committing: %v", err)
			return
		}
	}
	p.commitReveal(ctx, j, t, rec, false)
}

// commitRecord is what a provider must not forget between its commitment
// and its reveal.
type commitRecord struct {
	Job    uint64       `json:"job"`
	Stage  string       `json:"stage"`
	Digest compute.Hash `json:"digest"`
	Output string       `json:"output"`
	Salt   compute.Hash `json:"salt"`
}

func commitKey(job uint64) string { return "provider-job-" + strconv.FormatUint(job, 10) }

// loadCommit returns the saved record of job's commitment in stage.
func (p *Provider) loadCommit(job uint64, stage string) (commitRecord, bool) {
	var rec commitRecord
	ok, err := p.state.Load(commitKey(job), &rec)
	if err != nil {
		p.logf("job %d: %v", job, err)
		return rec, false
	}
	return rec, ok && rec.Job == job && rec.Stage == stage
}

// sweepRecords removes the records of jobs that ended while the agent was
// down.
func (p *Provider) sweepRecords(listed map[uint64]bool) {
	keys, err := p.state.Keys("provider-job-")
	if err != nil {
		p.logf("state: %v", err)
		return
	}
	for _, k := range keys {
		id, err := strconv.ParseUint(strings.TrimPrefix(k, "provider-job-"), 10, 64)
		if err == nil && !listed[id] {
			_ = p.state.Remove(k)
		}
	}
}

// commitReveal commits rec (unless committed says an earlier run did) and
// reveals it once reveals open, resending either if its effect does not
// show; it returns when the job stops listing us.
func (p *Provider) commitReveal(ctx context.Context, j compute.Job, t *task, rec commitRecord, committed bool) {
	fail := func(format string, args ...any) {
		if ctx.Err() == nil {
			p.logf("job %d: "+format, append([]any{j.ID}, args...)...)
			p.count(func(s *ProviderStats) { s.Errors++ })
		}
	}
	stage := rec.Stage
	commitMsg := &compute.MsgCommit{Job: j.ID, Commit: compute.CommitHash(j.ID, p.addr, rec.Digest, rec.Output, rec.Salt)}
	revealMsg := &compute.MsgReveal{Job: j.ID, Digest: rec.Digest, Output: rec.Output, Salt: rec.Salt}
	var sent chain.Msg // the last message sent, and when
	var sentAt int64
	send := func(m chain.Msg) bool {
		if err := p.submit(ctx, m, false); err != nil {
			fail("%v", err)
			return false
		}
		sent, sentAt = m, p.height.Load()
		return true
	}
	if committed {
		sent, sentAt = commitMsg, p.height.Load()
	} else {
		if !send(commitMsg) {
			return
		}
		p.count(func(s *ProviderStats) { s.Committed++ })
		p.logf("job %d (%s): committed digest %s", j.ID, stage, rec.Digest.String()[:16])
	}
	for {
		var cur *compute.Job
		select {
		case <-ctx.Done():
			return
		case cur = <-t.updates:
		}
		if cur == nil {
			if sent == revealMsg {
				p.count(func(s *ProviderStats) { s.Revealed++ })
				p.logf("job %d (%s): revealed %s", j.ID, stage, rec.Output)
			} else {
				p.logf("job %d: the assignment ended before our reveal", j.ID)
			}
			if err := p.state.Remove(commitKey(j.ID)); err != nil {
				p.logf("job %d: %v", j.ID, err)
			}
			return
		}
		a := myAssignment(cur, p.addr)
		if a == nil || cur.Stage != stage {
			continue // the poll loop sends nil once the job stops listing us
		}
		stale := p.height.Load()-sentAt >= resendBlocks
		switch {
		case a.Status == compute.AssignAssigned && stale:
			p.logf("job %d: commitment not seen after %d blocks; sending it again", j.ID, resendBlocks)
			send(commitMsg)
		case a.Status == compute.AssignCommitted && cur.Revealing && (sent != revealMsg || stale):
			send(revealMsg)
		}
	}
}

// execute runs the job in the sandbox, at most one run per slot; the wrong
// cheat skips the work and makes an answer up.
func (p *Provider) execute(ctx context.Context, j compute.Job) (Outcome, error) {
	if p.cfg.Cheat == CheatWrong {
		return NewOutcome(map[string][]byte{"result": []byte(fmt.Sprintf("a guess for job %d", j.ID))}), nil
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
	defer func() { <-p.slots }()
	out, err := ExecuteJob(ctx, p.cfg.Sandbox, j, p.blobs.get, p.fetchData)
	if err == nil && out.Failure != "" {
		p.logf("job %d failed reproducibly (%s); revealing the failure", j.ID, out.Failure)
	}
	return out, err
}

// fetchData downloads a dataset input of job from the node's gateway under
// the job's scoped grant, which the chain gives this provider while it
// holds an assignment (compute-to-data: the data never goes to the tenant).
func (p *Provider) fetchData(ctx context.Context, job uint64, in compute.DataInput) ([]byte, error) {
	return dataagent.DownloadScoped(ctx, p.cfg.Client, p.cfg.Key, in.Dataset, in.Version, "csv", compute.Scope(job), in.Columns)
}

// storeOutput uploads the output archive to the node and registers it on
// chain unless another provider already did (honest providers produce the
// same bytes).
func (p *Provider) storeOutput(ctx context.Context, out Outcome) error {
	// Without waiting: our reveal comes later in sequence order, so the
	// registration is in place by the time the reveal is checked.
	return storeBlob(ctx, p.cfg.Client, p.cfg.Key, out.Archive, func(msg chain.Msg) error {
		return p.submit(ctx, msg, false)
	})
}

// storeBlob uploads content and registers it with submit unless the chain
// already knows it.
func storeBlob(ctx context.Context, c *client.Client, key ed25519.PrivKey, content []byte, submit func(chain.Msg) error) error {
	cid, err := c.BlobPutRaw(ctx, key, content) // the reveal's digest is the archive's own hash
	if err != nil {
		return fmt.Errorf("upload output: %w", err)
	}
	var rec chain.BlobRecord
	err = c.Query(ctx, "core", "blob/"+cid, nil, &rec)
	var apiErr *client.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.Code == chain.ErrNotFound.Code:
	default:
		return fmt.Errorf("look up output blob %s: %w", cid, err)
	}
	if err := submit(&chain.MsgRegisterBlob{CID: cid, Size: uint64(len(content))}); err != nil {
		return fmt.Errorf("register output blob %s: %w", cid, err)
	}
	return nil
}

func shortAddr(a chain.Address) string {
	s := a.String()
	return s[:10] + "…" + s[len(s)-4:]
}
