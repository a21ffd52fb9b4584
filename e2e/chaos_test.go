package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
)

// chaosKills is how many times a validator is SIGKILLed and restarted.
const chaosKills = 20

// Four validators in four processes under a bounded load of transfers
// while, twenty times, one of them at random is SIGKILLed and restarted
// (one at a time: it rejoins before the next kill). Every transfer a client
// saw committed is committed exactly once on every node (none lost, none
// doubled: balances are exactly the effect of the committed transfers),
// every node ends at the same app hash, and the supply is unchanged.
func TestValidatorsSurviveRandomKills(t *testing.T) {
	needBinary(t)
	began := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := workDir(t)
	base := freeBase(t, 4)
	runTenun(t, "testnet", "--validators", "4", "--dir", filepath.Join(dir, "net"),
		"--base-port", strconv.Itoa(base), "--block-time", "200ms")
	nodes := make([]*tnode, 4)
	for i := range nodes {
		home := filepath.Join(dir, "net", fmt.Sprintf("node%d", i))
		nodes[i] = newNode(t, dir, fmt.Sprintf("node%d", i), home, base+10*i, "start", "--home", home)
		nodes[i].p.start()
	}
	waitHeight(t, 60*time.Second, 2, nodes...)
	ctx, cancel := quick()
	chainID, err := nodes[0].c.ChainID(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	supplyBefore := supplyOn(t, nodes[0])

	// down is the node being killed (-1: none); senders avoid it.
	var down atomic.Int32
	down.Store(-1)
	live := func(r *rand.Rand) *tnode {
		for {
			i := r.IntN(len(nodes))
			if int32(i) != down.Load() {
				return nodes[i]
			}
		}
	}
	type committed struct {
		tr     transfer
		height int64
	}
	var (
		mu   sync.Mutex
		done = map[string]committed{} // hash -> transfer, committed
	)
	loadCtx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	const senders = 4
	for k := 0; k < senders; k++ {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(k+1)))
			for seq := uint64(0); loadCtx.Err() == nil; seq++ {
				tr := transfer{from: k, to: (k + 1 + r.IntN(devAccounts-1)) % devAccounts, amount: 1 + r.Uint64N(1000)}
				raw, err := chain.SignTx(devKey(k), chainID, seq, fee, &chain.MsgSend{To: devAddr(tr.to), Amount: tr.amount}, "")
				if err != nil {
					t.Error(err)
					return
				}
				hash := fmt.Sprintf("%X", chain.TxHash(raw))
				// The same signed bytes until they commit: resending after
				// a kill can only be a duplicate, never a second transfer.
				// A transfer started is seen through even when the load
				// stops, so the ledger knows every committed one.
				resolve, cancel := context.WithTimeout(context.Background(), 90*time.Second)
				h, ok := commitOnce(resolve, t, raw, hash, func() *tnode { return live(r) })
				cancel()
				if !ok {
					t.Errorf("transfer %s of %+v: outcome unknown after 90s", hash, tr)
					return
				}
				mu.Lock()
				done[hash] = committed{tr, h}
				mu.Unlock()
			}
		})
	}

	// The kills: one node at a time, SIGKILLed at a random moment, restarted
	// after a random pause, and caught up before the next.
	var heights []int64
	for kill := 0; kill < chaosKills; kill++ {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		i := rng.IntN(len(nodes))
		n := nodes[i]
		down.Store(int32(i))
		h, _ := n.height()
		n.p.kill()
		heights = append(heights, h)
		time.Sleep(time.Duration(100+rng.IntN(900)) * time.Millisecond)
		n.p.start()
		var other *tnode
		for _, o := range nodes {
			if o != n {
				other = o
				break
			}
		}
		target, err := other.height()
		if err != nil {
			t.Fatal(err)
		}
		// The restarted node catches up, and the network with it moves on
		// past where it was killed.
		waitHeight(t, 60*time.Second, max(target, h+2), nodes...)
		down.Store(-1)
	}
	stopLoad()
	wg.Wait()

	// Settle: every node at the same height, then compare everything.
	top := int64(0)
	for _, n := range nodes {
		h, err := n.height()
		if err != nil {
			t.Fatal(err)
		}
		top = max(top, h)
	}
	waitHeight(t, 60*time.Second, top+1, nodes...)
	want := genesisBalances()
	maxH := int64(0)
	for _, c := range done {
		c.tr.apply(want)
		maxH = max(maxH, c.height)
	}
	for _, n := range nodes {
		waitFor(t, 10*time.Second, "balances on "+n.name, nodes, func() error { return n.checkBalances(want) })
		for hash, c := range done {
			ctx, cancel := quick()
			info, err := n.c.Tx(ctx, hash)
			cancel()
			if err != nil || info.Code != 0 || info.Height != c.height {
				t.Fatalf("%s: committed transfer %s (height %d): %+v %v", n.name, hash, c.height, info, err)
			}
		}
		if s := supplyOn(t, n); s != supplyBefore {
			t.Fatalf("%s: supply %d, was %d", n.name, s, supplyBefore)
		}
	}
	checkSameState(t, nodes[0], nodes...)
	final, _ := nodes[0].height()
	t.Logf("chaos: %d SIGKILLs (heights at kill %v), %d transfers committed once each up to height %d, final height %d, supply %d unchanged, same app hash on 4 nodes; %s",
		chaosKills, heights, len(done), maxH, final, supplyBefore, time.Since(began).Round(time.Second))
}

// commitOnce submits raw through nodes from pick until it is committed and
// returns its height; false if ctx ends first. A transfer that a killed
// node took is looked up, and resent (same bytes) if no live node has it.
func commitOnce(ctx context.Context, t *testing.T, raw []byte, hash string, pick func() *tnode) (int64, bool) {
	for ctx.Err() == nil {
		n := pick()
		sub, cancel := context.WithTimeout(ctx, 8*time.Second)
		res, err := n.c.BroadcastRaw(sub, raw, true)
		cancel()
		if err == nil && res.Code == 0 && res.Height > 0 {
			return res.Height, true
		}
		if err == nil && res.Code != 0 && res.Code != chain.ErrConflict.Code && res.Code != chain.ErrSequence.Code {
			t.Errorf("transfer %s refused by %s: code %d: %s", hash, n.name, res.Code, res.Log)
			return 0, false
		}
		// Unknown outcome (the node died, a duplicate, a used sequence):
		// ask a live node whether it committed.
		for try := 0; try < 10 && ctx.Err() == nil; try++ {
			q, cancel := quick()
			info, err := pick().c.Tx(q, hash)
			cancel()
			if err == nil {
				if info.Code != 0 {
					t.Errorf("transfer %s committed with code %d: %s", hash, info.Code, info.Log)
				}
				return info.Height, true
			}
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) {
				break // that node is going down: try another
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return 0, false
}

func supplyOn(t *testing.T, n *tnode) uint64 {
	t.Helper()
	ctx, cancel := quick()
	defer cancel()
	var s struct {
		Supply uint64 `json:"supply"`
	}
	if err := n.c.Query(ctx, "core", "supply", nil, &s); err != nil {
		t.Fatalf("%s: supply: %v", n.name, err)
	}
	return s.Supply
}
