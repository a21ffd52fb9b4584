// Package bench holds the whole-system benchmarks behind `tenun bench`: each
// measures a figure beside a baseline taken in the same run.
package bench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/node"
)

// ComputeMarketReport is what ComputeMarket measured.
type ComputeMarketReport struct {
	Jobs        int     `json:"jobs"`
	Providers   int     `json:"providers"`
	Redundancy  int     `json:"redundancy"`
	BlockTimeMS int64   `json:"block_time_ms"`
	JobsSettled int     `json:"jobs_settled"`
	Seconds     float64 `json:"seconds"` // first post to last job ended
	JobsPerSec  float64 `json:"jobs_per_sec"`
	Blocks      int64   `json:"blocks"`
	// MedianLatencyBlocks is posting to settlement, per job.
	MedianLatencyBlocks int64 `json:"median_latency_blocks"`
	// SandboxJobsPerSec is the baseline: the same module run back to back
	// in this process with no chain, so the market's own cost shows.
	SandboxJobsPerSec float64 `json:"sandbox_jobs_per_sec"`
}

// ComputeMarketConfig configures ComputeMarketWith; zero fields take the
// defaults ComputeMarket uses.
type ComputeMarketConfig struct {
	Jobs       int
	Providers  int
	Redundancy int           // default 2 (1 with a single provider)
	BlockTime  time.Duration // default 100ms
	// Logf, when set, gets the agents' log lines.
	Logf func(format string, args ...any)
}

// ComputeMarket measures the compute market's throughput: it starts a fresh
// single-validator node in a temporary directory, runs providers real
// provider agents (in this process, each with its own client and key), has
// a tenant post jobs jobs of agent.TinyModule with redundancy 2, and reports jobs
// settled per second from the first post until every job has ended.
func ComputeMarket(ctx context.Context, jobs, providers int) (ComputeMarketReport, error) {
	return ComputeMarketWith(ctx, ComputeMarketConfig{Jobs: jobs, Providers: providers})
}

// ComputeMarketWith is ComputeMarket with every knob.
func ComputeMarketWith(ctx context.Context, cfg ComputeMarketConfig) (ComputeMarketReport, error) {
	if cfg.Jobs <= 0 || cfg.Providers <= 0 {
		return ComputeMarketReport{}, errors.New("bench market: jobs and providers must be positive")
	}
	if cfg.Redundancy == 0 {
		cfg.Redundancy = min(2, cfg.Providers)
	}
	if cfg.Redundancy > cfg.Providers || cfg.Redundancy > compute.MaxRedundancy {
		return ComputeMarketReport{}, fmt.Errorf("bench market: redundancy %d needs at least as many providers (have %d), at most %d", cfg.Redundancy, cfg.Providers, compute.MaxRedundancy)
	}
	if cfg.BlockTime <= 0 {
		cfg.BlockTime = 100 * time.Millisecond
	}
	rep := ComputeMarketReport{Jobs: cfg.Jobs, Providers: cfg.Providers, Redundancy: cfg.Redundancy, BlockTimeMS: cfg.BlockTime.Milliseconds()}

	spec := compute.Spec{MemoryBytes: 16 << 20, Fuel: compute.FuelPerUnit, WallSeconds: 30, MaxOutputBytes: 1 << 20}
	var err error
	if rep.SandboxJobsPerSec, err = sandboxBaseline(ctx, spec); err != nil {
		return rep, err
	}

	dir, err := os.MkdirTemp("", "tenun-bench-compute-")
	if err != nil {
		return rep, fmt.Errorf("bench market: %w", err)
	}
	defer os.RemoveAll(dir)
	port, err := node.FreeBasePort()
	if err != nil {
		return rep, err
	}
	n, err := node.StartFresh(filepath.Join(dir, "node"), node.InitOptions{
		ChainID: "bench-compute", DevAccounts: cfg.Providers + 1, BasePort: port, BlockTime: cfg.BlockTime,
	})
	if err != nil {
		return rep, fmt.Errorf("bench market: start node: %w", err)
	}
	defer n.Stop()

	c := client.New(n.APIAddr())
	tenant := keys.DevPrivKey(0)
	tenantAddr := addrOf(tenant)
	if spec.Module, err = c.RegisterBlob(ctx, tenant, agent.TinyModule); err != nil {
		return rep, fmt.Errorf("bench market: register module: %w", err)
	}

	// The providers, as goroutines; each with its own client, as separate
	// processes would have.
	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Providers)
	defer func() { stop(); wg.Wait() }()
	for i := 1; i <= cfg.Providers; i++ {
		p, err := agent.NewProvider(agent.Config{
			Client: client.New(n.APIAddr()), Key: keys.DevPrivKey(i), Price: 1,
			Capacity: agent.Capacity{CPUCores: 64, MemoryMB: 1024}, Poll: 50 * time.Millisecond, Logf: cfg.Logf,
		})
		if err != nil {
			return rep, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Run(pctx); err != nil {
				errs <- err
			}
		}()
	}
	for {
		var ps []compute.ProviderInfo
		if err := c.Query(ctx, "compute", "providers", nil, &ps); err != nil {
			return rep, err
		}
		if len(ps) == cfg.Providers {
			break
		}
		select {
		case err := <-errs:
			return rep, fmt.Errorf("bench market: provider: %w", err)
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}

	st, err := c.Status(ctx)
	if err != nil {
		return rep, err
	}
	startHeight, start := st.Height, time.Now()
	// Pipelined: every job goes to the mempool without waiting for its
	// block, except the last, whose commit means all of them are in.
	for i := 0; i < cfg.Jobs; i++ {
		s := spec
		s.Args = []string{strconv.Itoa(i)}
		// A 60-block turn: now and then (about one run in three here, more
		// under load) one assignee misses its turn on one job, which then
		// waits the whole turn before it is settled without it; at 600
		// blocks that wait was a minute and could pass the test's deadline
		// on a loaded machine. The miss itself is an open bug (see
		// TestComputeMarket's log: Blocks near the turn).
		msg := &compute.MsgPostJob{Spec: s, MaxPrice: 1, Redundancy: uint32(cfg.Redundancy), Timeout: 60, DeadlineBlocks: 6000}
		if _, err := c.Submit(ctx, tenant, msg, client.Options{NoWait: i < cfg.Jobs-1}); err != nil {
			return rep, fmt.Errorf("bench market: post job %d: %w", i, err)
		}
	}
	for {
		var open []compute.Job
		if err := c.Query(ctx, "compute", "jobs", url.Values{"status": {"open"}, "limit": {"1"}}, &open); err != nil {
			return rep, err
		}
		if len(open) == 0 {
			break
		}
		select {
		case err := <-errs:
			return rep, fmt.Errorf("bench market: provider: %w", err)
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	if st, err = c.Status(ctx); err != nil {
		return rep, err
	}
	rep.Blocks = st.Height - startHeight

	var latencies []int64
	var after uint64
	for {
		var page []compute.Job
		q := url.Values{"tenant": {tenantAddr}, "status": {compute.StatusSettled}, "after": {strconv.FormatUint(after, 10)}, "limit": {"1000"}}
		if err := c.Query(ctx, "compute", "jobs", q, &page); err != nil {
			return rep, err
		}
		for _, j := range page {
			latencies = append(latencies, j.Ended-j.Posted)
			after = j.ID
		}
		if len(page) < 1000 {
			break
		}
	}
	rep.JobsSettled = len(latencies)
	rep.JobsPerSec = float64(rep.JobsSettled) / rep.Seconds
	if len(latencies) > 0 {
		slices.Sort(latencies)
		rep.MedianLatencyBlocks = latencies[len(latencies)/2]
	}
	return rep, nil
}

// sandboxBaseline runs the bench job back to back in-process for about a
// second and returns runs per second.
func sandboxBaseline(ctx context.Context, spec compute.Spec) (float64, error) {
	sb, err := sandbox.Default()
	if err != nil {
		return 0, err
	}
	job := agent.SandboxJob(spec, agent.TinyModule, nil)
	if _, err := sb.Run(ctx, job); err != nil { // compile outside the timing
		return 0, fmt.Errorf("bench market: tiny module: %w", err)
	}
	runs, start := 0, time.Now()
	for time.Since(start) < time.Second {
		if _, err := sb.Run(ctx, job); err != nil {
			return 0, err
		}
		agent.NewOutcome(nil) // and archive the (empty) outputs, as a provider does
		runs++
	}
	return float64(runs) / time.Since(start).Seconds(), nil
}

func addrOf(k ed25519.PrivKey) string { return chain.AddressFromPubKey(k.PubKey().Bytes()).String() }
