package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/workforce"
)

// SimConfig is a simulated workforce working one job: worker w of Crowd
// signs with Keys[w] and answers item i, whose true label is Truth[i], as
// its workforce behaviour says. Copiers answer at random: commit-reveal with
// sealed items leaves them nothing to copy.
type SimConfig struct {
	Job   uint64
	Truth []int
	Crowd *workforce.Crowd
	Keys  []ed25519.PrivKey
	Seed  uint64
	// Concurrent runs every worker in its own goroutine, each polling every
	// Poll (for real nodes); otherwise workers take turns (for MemLedger).
	Concurrent bool
	Poll       time.Duration
	// IdleLimit is how many polls in a row without progress make a worker
	// stop (default 20; sequential runs stop after two idle rounds).
	IdleLimit int
}

// SimWorkerStats is what one simulated worker did.
type SimWorkerStats struct {
	Address   chain.Address  `json:"address"`
	Kind      workforce.Kind `json:"kind"`
	Txs       int            `json:"txs"`
	Assigned  int            `json:"assigned"`
	Committed int            `json:"committed"`
	Revealed  int            `json:"revealed"`
}

// SimStats is the outcome of a simulation. Answers holds every revealed
// answer with workers indexed as in the crowd, for comparisons such as
// majority vote without spammers.
type SimStats struct {
	Workers []SimWorkerStats
	Answers *truth.Answers
}

type simWorker struct {
	cfg    *SimConfig
	l      Ledger
	idx    int
	key    ed25519.PrivKey
	addr   chain.Address
	rng    *rand.Rand
	labels map[uint32]uint32 // committed label per item
	salts  map[uint32]chain.Hash
	stats  SimWorkerStats
	out    []truth.Answer
}

// Simulate runs the crowd on the job until no worker can make progress (or
// ctx ends) and returns what each did. It neither waits for deadlines nor
// closes the job: the caller does.
func Simulate(ctx context.Context, l Ledger, cfg SimConfig) (SimStats, error) {
	if len(cfg.Keys) != len(cfg.Crowd.Workers) {
		return SimStats{}, fmt.Errorf("simulate: %d keys for %d workers", len(cfg.Keys), len(cfg.Crowd.Workers))
	}
	if cfg.IdleLimit == 0 {
		cfg.IdleLimit = 20
	}
	ws := make([]*simWorker, len(cfg.Keys))
	for i, k := range cfg.Keys {
		a := chain.AddressFromPubKey(k.PubKey().Bytes())
		ws[i] = &simWorker{cfg: &cfg, l: l, idx: i, key: k, addr: a,
			rng:    rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)),
			labels: map[uint32]uint32{}, salts: map[uint32]chain.Hash{},
			stats: SimWorkerStats{Address: a, Kind: cfg.Crowd.Workers[i].Kind}}
	}
	var err error
	if cfg.Concurrent {
		err = runConcurrent(ctx, ws)
	} else {
		err = runTurns(ctx, ws)
	}
	st := SimStats{Answers: &truth.Answers{Items: len(cfg.Truth), Workers: len(ws), Classes: cfg.Crowd.Classes}}
	for _, w := range ws {
		st.Workers = append(st.Workers, w.stats)
		st.Answers.List = append(st.Answers.List, w.out...)
	}
	return st, err
}

func runTurns(ctx context.Context, ws []*simWorker) error {
	for idle := 0; idle < 2; {
		progress := false
		for _, w := range ws {
			p, _, err := w.step(ctx)
			if err != nil {
				return err
			}
			progress = progress || p
		}
		if progress {
			idle = 0
		} else {
			idle++
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func runConcurrent(ctx context.Context, ws []*simWorker) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < w.cfg.IdleLimit; {
				p, done, err := w.step(ctx)
				if err != nil {
					errs[i] = fmt.Errorf("worker %d (%s): %w", i, w.addr, err)
					return
				}
				if done {
					return
				}
				if p {
					idle = 0
					continue
				}
				idle++
				select {
				case <-ctx.Done():
					errs[i] = ctx.Err()
					return
				case <-time.After(w.cfg.Poll):
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// answer is the worker's label for an item, by its behaviour.
func (w *simWorker) answer(item uint32) uint32 {
	c := w.cfg.Crowd
	b := &c.Workers[w.idx]
	switch b.Kind {
	case workforce.Honest:
		x := w.rng.Float64()
		row := b.Confusion[w.cfg.Truth[item]]
		for l, p := range row {
			if x < p {
				return uint32(l)
			}
			x -= p
		}
		return uint32(len(row) - 1)
	case workforce.Constant:
		return uint32(b.Label)
	}
	return uint32(w.rng.IntN(c.Classes))
}

func (w *simWorker) submit(ctx context.Context, msg chain.Msg) (uint32, error) {
	_, err := w.l.Submit(ctx, w.key, msg)
	code := Code(err)
	if errors.Is(err, ErrUnconfirmed) {
		return chain.ErrInternal.Code, nil // outcome unknown: the next step reads the state
	}
	if err != nil && code == 0 {
		return 0, err // not a rejection: the node is unreachable or similar
	}
	if code == 0 {
		w.stats.Txs++
	}
	return code, nil
}

// step does what the worker can do now: join, commit its assigned items,
// reveal its sealed commits, ask for more. progress reports a transaction
// that went through; done that the job has nothing more for the worker.
func (w *simWorker) step(ctx context.Context) (progress, done bool, err error) {
	var tv label.TasksView
	if err := w.l.Query(ctx, fmt.Sprintf("tasks/%d", w.cfg.Job), url.Values{"worker": {w.addr.String()}}, &tv); err != nil {
		return false, false, err
	}
	h, err := w.l.Height(ctx)
	if err != nil {
		return false, false, err
	}
	j := tv.Job
	// Transactions land in block h+1 at the earliest.
	canCommit, canReveal := h < j.CommitEnd, h < j.RevealEnd
	if j.Status != label.StatusOpen || !canReveal {
		return false, true, nil
	}
	if tv.Worker == nil {
		if !canCommit {
			return false, true, nil
		}
		code, err := w.submit(ctx, &label.MsgJoin{Job: j.ID})
		if err != nil || code != 0 {
			return false, false, err // no items for now: try later
		}
		progress = true
		if err := w.l.Query(ctx, fmt.Sprintf("tasks/%d", j.ID), url.Values{"worker": {w.addr.String()}}, &tv); err != nil {
			return progress, false, err
		}
	}
	var commits []label.CommitEntry
	var rev []label.RevealEntry
	unrevealed := 0
	for _, t := range tv.Tasks {
		switch t.State {
		case label.TaskAssigned:
			if canCommit {
				l, salt := w.answer(t.Item), chain.Hash{}
				for i := range salt {
					salt[i] = byte(w.rng.Uint32())
				}
				w.labels[t.Item], w.salts[t.Item] = l, salt
				commits = append(commits, label.CommitEntry{Item: t.Item, Hash: label.CommitHash(j.ID, t.Item, l, salt, w.addr)})
			}
		case label.TaskCommitted:
			unrevealed++
			if s, ok := w.salts[t.Item]; ok && (t.Sealed || !canCommit) && len(rev) < label.MaxBatch {
				rev = append(rev, label.RevealEntry{Item: t.Item, Label: w.labels[t.Item], Salt: s})
			}
		}
	}
	if len(commits) > 0 {
		code, err := w.submit(ctx, &label.MsgCommit{Job: j.ID, Entries: commits})
		if err != nil {
			return progress, false, err
		}
		if code == 0 {
			progress = true
			w.stats.Committed += len(commits)
			unrevealed += len(commits)
		}
	}
	if len(rev) > 0 {
		code, err := w.submit(ctx, &label.MsgReveal{Job: j.ID, Entries: rev})
		if err != nil {
			return progress, false, err
		}
		if code == 0 { // ErrTooEarly: someone was just given one of the items; later
			progress = true
			unrevealed -= len(rev)
			w.stats.Revealed += len(rev)
			for _, e := range rev {
				w.out = append(w.out, truth.Answer{Item: int(e.Item), Worker: w.idx, Class: int(e.Label)})
			}
		}
	}
	if tv.Worker != nil {
		w.stats.Assigned = int(tv.Worker.Assigned)
	}
	// A rejected "more" (items still pending, none left) costs nothing.
	if canCommit && (tv.Worker == nil || tv.Worker.Assigned < j.MaxPerWorker) {
		code, err := w.submit(ctx, &label.MsgMore{Job: j.ID})
		if err != nil {
			return progress, false, err
		}
		progress = progress || code == 0
	}
	return progress, !canCommit && unrevealed == 0, nil
}
