package label_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/label/agent"
)

// TestAdversarialMarketOnNode runs the scenario on a real node (CometBFT
// in-process, 50 ms blocks): the requester uploads the digits as a CSV blob,
// 20 simulated workers (6 of them spammers) work concurrently through the
// HTTP API, and the requester closes with the gold and uploads the results.
func TestAdversarialMarketOnNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	sc := newScenario(t, 600, 41)
	net := testnode.Start(t, 1+len(sc.crowd.Workers))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := net.Client
	req, keys := net.Keys[0], net.Keys[1:]

	// Items as a blob: one CSV row of 64 gray levels per digit, no classes.
	job := sc.job(200)
	if sc.grid {
		var csv bytes.Buffer
		for _, it := range sc.items {
			csv.WriteString(it + "\n")
		}
		cid, err := c.RegisterBlob(ctx, req, csv.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		job.Items, job.ItemsCID, job.ItemCount, job.ItemFormat = nil, cid, uint32(len(sc.items)), label.FormatCSV
	}
	res, err := c.Submit(ctx, req, job, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := jobID(t, res.Events)

	// Every worker bonds the job's stake, all at once.
	start := make([]uint64, len(keys))
	var wg sync.WaitGroup
	errs := make([]error, len(keys))
	for i, k := range keys {
		info, err := c.Account(ctx, addrOf(k))
		if err != nil {
			t.Fatal(err)
		}
		start[i] = wealth(info)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Submit(ctx, k, &chain.MsgBond{Pool: label.Pool, Amount: job.Stake}, client.Options{})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	st, err := agent.Simulate(ctx, agent.ClientLedger{C: c, TxTimeout: 5 * time.Second}, agent.SimConfig{
		Job: id, Truth: sc.classes, Crowd: sc.crowd, Keys: keys, Seed: 42,
		Concurrent: true, Poll: 100 * time.Millisecond, IdleLimit: 15,
	})
	if err != nil {
		t.Fatal(err)
	}
	var j label.Job
	if err := c.Query(ctx, "label", "job/"+chain.U64(id), nil, &j); err != nil {
		t.Fatal(err)
	}
	status, _ := c.Status(ctx)
	t.Logf("workers done in %v at block %d (commits end at %d): %d answers, %d extra slots from dynamic overlap",
		time.Since(began).Round(time.Millisecond), status.Height, j.CommitEnd, j.Revealed, j.Overlap)
	if status.Height >= j.CommitEnd {
		// A loaded machine makes blocks slow: the workers stopped taking
		// items at the deadline; what they did is still judged below.
		t.Logf("the workers ran past the commit phase (block %d)", j.CommitEnd)
	}
	if j.Revealed != j.Committed || j.Overlap == 0 {
		t.Fatalf("revealed %d of %d commits, %d overlap slots", j.Revealed, j.Committed, j.Overlap)
	}

	// A close before the deadline is refused and costs nothing.
	before, _ := c.Balance(ctx, addrOf(req))
	_, err = c.Submit(ctx, req, sc.close(id), client.Options{})
	var txErr *client.TxError
	if !errors.As(err, &txErr) || txErr.Res.Code != chain.ErrTooEarly.Code {
		t.Fatalf("early close: %v", err)
	}
	if after, _ := c.Balance(ctx, addrOf(req)); after != before {
		t.Fatalf("a rejected close changed the balance: %d -> %d", before, after)
	}
	if err := c.WaitForHeight(ctx, j.CommitEnd+1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, req, sc.close(id), client.Options{}); err != nil {
		t.Fatal(err)
	}
	// The requester stores the results blob; its CID is the one the chain
	// computed in consensus.
	cid, err := agent.UploadResults(ctx, c, req, id)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := c.BlobGet(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	results, err := agent.FetchResults(ctx, agent.ClientLedger{C: c}, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blob, label.EncodeResults(&results.Results)) {
		t.Fatal("the stored results blob differs from the chain's results")
	}
	var csvOut strings.Builder
	if err := agent.ExportCSV(&csvOut, &results.Results); err != nil || strings.Count(csvOut.String(), "\n") != len(sc.items)+1 {
		t.Fatalf("CSV export: %v, %d lines", err, strings.Count(csvOut.String(), "\n"))
	}

	netGain := make([]int64, len(keys))
	for i, k := range keys {
		info, err := c.Account(ctx, addrOf(k))
		if err != nil {
			t.Fatal(err)
		}
		netGain[i] = int64(wealth(info)) - int64(start[i])
	}
	if err := c.Query(ctx, "label", "job/"+chain.U64(id), nil, &j); err != nil {
		t.Fatal(err)
	}
	out := checkOutcome(t, results, st, sc.crowd.Kinds(), sc.classes, sc.goldIdx, netGain)
	t.Logf("accuracy on non-gold items: chain %.4f, majority vote without spammers %.4f, with them %.4f",
		out.chainAcc, out.mvAcc, out.mvAllAcc)
	t.Logf("net: worst honest worker %+d utnn, best spammer %+d utnn; job paid %d, slashed %d, refunded %d of %d; results %s",
		out.honestMin, out.spamMax, j.Paid, j.Slashed, j.Refunded, j.Budget, cid)
}

func jobID(t *testing.T, events []chain.Event) uint64 {
	t.Helper()
	for _, e := range events {
		if e.Type != "label_create" {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == "job" {
				var id uint64
				for _, ch := range a.Value {
					id = id*10 + uint64(ch-'0')
				}
				return id
			}
		}
	}
	t.Fatalf("no label_create event in %+v", events)
	return 0
}
