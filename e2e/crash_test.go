package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/node"
)

// crashRound is one way to bring the node down in the middle of the load.
type crashRound struct {
	name string
	// SIGKILL after this many blocks of load, as soon as node.log shows a
	// line containing on ("": at a random moment within the next block).
	blocks int64
	on     string
	// Or, when failStep > 0: restart the node with CometBFT's crash
	// injection (FAIL_TEST_INDEX) so that it exits at this one of the
	// failPoints fail points of a height, failHeights heights after it
	// starts, and let the load run into it.
	failStep int
	want     func(app, store, state int64) bool // the handshake this step should lead to
}

// CometBFT v0.38 passes failPoints fail.Fail() calls per height on a
// single validator: its prevote and precommit, then finalizeCommit: 2
// before saving the block, 3 after it, 4 around ApplyBlock (5: after
// FinalizeBlock, before the results are saved and the app commits; 7:
// after the app's Commit, before CometBFT saves its state), and 2 after.
const (
	failPoints  = 11
	failHeights = 25
)

// A devnet brought down in the middle of a load of transfers, five times
// at different moments (three SIGKILLs, two exits at chosen points of the
// commit sequence), restarts with everything it reported committed still
// committed at the same height, balances that are exactly the effect of
// the committed transfers, the same blocks it had, and an app hash that a
// replay of its own blocks from genesis reproduces.
func TestCrashMidLoad(t *testing.T) {
	needBinary(t)
	began := time.Now()
	dir := workDir(t)
	home := filepath.Join(dir, "devnet")
	base := freeBase(t, 1)
	n := newNode(t, dir, "devnet", home, base,
		"devnet", "--home", home, "--base-port", strconv.Itoa(base), "--block-time", "100ms")
	n.p.start()
	waitHeight(t, 60*time.Second, 1, n)
	genesis := filepath.Join(home, "config", "genesis.json")
	nodeLog := filepath.Join(home, "node.log")

	rounds := []crashRound{
		{name: "SIGKILL at a random moment", blocks: 2},
		{name: "SIGKILL after FinalizeBlock", blocks: 5, on: "executed block"},
		{name: "SIGKILL after the app's Commit", blocks: 8, on: "committed state"},
		{name: "exit after FinalizeBlock", failStep: 5,
			want: func(app, store, state int64) bool { return store == app+1 && state == app }},
		{name: "exit after the app's Commit", failStep: 7,
			want: func(app, store, state int64) bool { return store == app && state == app-1 }},
	}
	led := &ledger{sent: map[string]transfer{}, committed: map[string]int64{}}
	v := &verifier{seen: map[int64]string{}}
	for round, r := range rounds {
		if r.failStep > 0 {
			if err := n.p.stop(20 * time.Second); err != nil {
				t.Fatalf("round %d: SIGINT: %v", round, err)
			}
			n.p.start(fmt.Sprintf("FAIL_TEST_INDEX=%d", failPoints*failHeights+r.failStep))
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if _, err := n.height(); err == nil {
					break
				}
				if done, _ := n.p.exited(); done || time.Now().After(deadline) {
					break // reached its fail point already (checked below), or hung
				}
			}
		}
		start, _ := n.height()
		committedBefore := led.stats().committed
		loadStart := time.Now()
		stop := led.run(t, n, uint64(round))
		if r.failStep > 0 {
			select {
			case <-n.p.doneCh():
			case <-time.After(60 * time.Second):
				t.Fatalf("round %d (%s): the node did not reach its fail point", round, r.name)
			}
			if out := tail(n.p.logPath, 5); !strings.Contains(out, "*** fail-test") {
				t.Fatalf("round %d (%s): the node exited, but not at the injected fail point:\n%s", round, r.name, out)
			}
		} else {
			// Some of this round's transfers are committed, more are in flight.
			waitHeight(t, 30*time.Second, start+r.blocks, n)
			waitFor(t, 30*time.Second, "a transfer of this round reported committed", []*tnode{n}, func() error {
				if led.stats().committed == committedBefore {
					return errors.New("none yet")
				}
				return nil
			})
			if r.on == "" {
				time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
			} else if err := waitLogLine(nodeLog, r.on, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			n.p.kill()
		}
		inFlight := led.inFlight()
		stop()
		st := led.stats()
		t.Logf("round %d (%s): down after %s of load with %d transfers not yet seen committed; so far %d accepted, %d reported committed (%d by wait=commit, %d found by hash)",
			round, r.name, time.Since(loadStart).Round(time.Millisecond), inFlight, st.sent, st.committed, st.waited, st.found)
		if st.committed == committedBefore && r.failStep == 0 {
			t.Fatalf("round %d: nothing reported committed before the crash", round)
		}

		restarted := time.Now()
		logFrom := fileSize(nodeLog)
		n.p.start()
		waitFor(t, 60*time.Second, "the API after the restart", []*tnode{n}, func() error {
			_, err := n.height()
			return err
		})
		app, store, state, ok := handshake(nodeLog, logFrom)
		phase := fmt.Sprintf("handshake: app %d, block store %d, CometBFT state %d", app, store, state)
		if !ok {
			phase = "handshake not found in node.log"
		}
		if r.want != nil && (!ok || !r.want(app, store, state)) {
			// Still a crash under load, just not at the step intended (an
			// extra consensus round shifts the count): say so, and go on.
			t.Logf("round %d: note: the fail point did not land at the intended step (%s)", round, phase)
		}
		h, _ := n.height()
		waitHeight(t, 60*time.Second, h+2, n)
		t.Logf("round %d: restarted and 2 blocks further in %s; %s", round, time.Since(restarted).Round(time.Millisecond), phase)
		v.check(t, n, genesis, led)
	}

	// A clean shutdown after all that works too.
	if err := n.p.stop(20 * time.Second); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	t.Logf("total %s", time.Since(began).Round(time.Millisecond))
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// waitLogLine returns as soon as a line containing s is appended to path.
func waitLogLine(path, s string, timeout time.Duration) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	var window []byte
	buf := make([]byte, 64<<10)
	for time.Now().Before(deadline) {
		k, _ := f.Read(buf)
		if k == 0 {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		window = append(window, buf[:k]...)
		if bytes.Contains(window, []byte(s)) {
			return nil
		}
		if len(window) > len(s) {
			window = window[len(window)-len(s):]
		}
	}
	return fmt.Errorf("no %q in %s within %s", s, path, timeout)
}

var handshakeRE = regexp.MustCompile(`ABCI Replay Blocks.*appHeight=(\d+) storeHeight=(\d+) stateHeight=(\d+)`)

// handshake reads the heights CometBFT found at its ABCI handshake from the
// node log written since offset.
func handshake(path string, offset int64) (app, store, state int64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return 0, 0, 0, false
	}
	m := handshakeRE.FindSubmatch(b[offset:])
	if m == nil {
		return 0, 0, 0, false
	}
	app, _ = strconv.ParseInt(string(m[1]), 10, 64)
	store, _ = strconv.ParseInt(string(m[2]), 10, 64)
	state, _ = strconv.ParseInt(string(m[3]), 10, 64)
	return app, store, state, true
}

// ledger records the load's transfers and what the node said about them
// before it was killed.
type ledger struct {
	mu        sync.Mutex
	sent      map[string]transfer // accepted into the mempool (hash → transfer)
	committed map[string]int64    // reported committed before a kill (hash → height)
	pending   []string            // sent, not yet seen committed
	waited    int                 // reported by wait=commit
	found     int                 // found by /tx/{hash}
}

// inFlight is how many accepted transfers were not yet seen committed.
func (l *ledger) inFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

type ledgerStats struct{ sent, committed, waited, found int }

func (l *ledger) stats() ledgerStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ledgerStats{len(l.sent), len(l.committed), l.waited, l.found}
}

// run starts the load on n: four keys submit transfers without waiting
// (as fast as the node takes them, lightly paced), a fifth submits with
// wait=commit, and a tracker looks the submitted hashes up. The returned
// function stops the load and waits for it.
func (l *ledger) run(t *testing.T, n *tnode, seed uint64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	c := client.New(n.api) // fresh: sequences come from the node, not from before a crash
	var wg sync.WaitGroup
	for k := 0; k < devAccounts-1; k++ {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(k)))
			for ctx.Err() == nil {
				tr := transfer{from: k, to: (k + 1 + rng.IntN(devAccounts-1)) % devAccounts, amount: 1 + rng.Uint64N(1000)}
				res, err := c.Submit(ctx, devKey(k), &chain.MsgSend{To: devAddr(tr.to), Amount: tr.amount}, client.Options{Fee: fee, NoWait: true})
				if err != nil {
					sleep(ctx, 20*time.Millisecond) // the node is gone, or its mempool pushes back
					continue
				}
				l.mu.Lock()
				l.sent[res.Hash] = tr
				l.pending = append(l.pending, res.Hash)
				l.mu.Unlock()
				sleep(ctx, 3*time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		k := devAccounts - 1
		rng := rand.New(rand.NewPCG(seed, uint64(k)))
		for ctx.Err() == nil {
			tr := transfer{from: k, to: rng.IntN(devAccounts - 1), amount: 1 + rng.Uint64N(1000)}
			res, err := c.Submit(ctx, devKey(k), &chain.MsgSend{To: devAddr(tr.to), Amount: tr.amount}, client.Options{Fee: fee})
			var txErr *client.TxError
			switch {
			case errors.As(err, &txErr) && txErr.Res.Height > 0:
				t.Errorf("transfer %+v committed with code %d: %s", tr, txErr.Res.Code, txErr.Res.Log)
			case err != nil:
				sleep(ctx, 20*time.Millisecond)
			default:
				l.mu.Lock()
				l.sent[res.Hash] = tr
				l.committed[res.Hash] = res.Height
				l.waited++
				l.mu.Unlock()
			}
		}
	})
	wg.Go(func() {
		for ctx.Err() == nil {
			l.mu.Lock()
			batch := append([]string(nil), l.pending[:min(len(l.pending), 25)]...)
			l.mu.Unlock()
			var later []string
			for _, h := range batch {
				info, err := c.Tx(ctx, h)
				if err != nil {
					later = append(later, h)
					continue
				}
				if info.Code != 0 {
					t.Errorf("transfer %s committed with code %d: %s", h, info.Code, info.Log)
				}
				l.mu.Lock()
				l.committed[h] = info.Height
				l.found++
				l.mu.Unlock()
			}
			l.mu.Lock()
			l.pending = append(l.pending[len(batch):], later...)
			l.mu.Unlock()
			sleep(ctx, 50*time.Millisecond)
		}
	})
	return func() {
		cancel()
		wg.Wait()
		l.mu.Lock()
		l.pending = nil // never committed now: the mempool died with the node
		l.mu.Unlock()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// verifier checks a restarted node against the ledger and its own blocks.
type verifier struct {
	seen    map[int64]string // block hash by height, from earlier checks
	checked int64            // heights whose transactions were looked up by hash
}

func (v *verifier) check(t *testing.T, n *tnode, genesis string, led *ledger) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Everything reported committed before any of the kills is still
	// committed, at the height reported.
	led.mu.Lock()
	committed := make(map[string]int64, len(led.committed))
	for h, height := range led.committed {
		committed[h] = height
	}
	sent := make(map[string]transfer, len(led.sent))
	for h, tr := range led.sent {
		sent[h] = tr
	}
	led.mu.Unlock()
	for hash, height := range committed {
		info, err := n.c.Tx(ctx, hash)
		if err != nil {
			t.Fatalf("transfer %s reported committed at height %d before a crash: %v", hash, height, err)
		}
		if info.Height != height || info.Code != 0 {
			t.Fatalf("transfer %s reported committed at height %d before a crash, now: height %d code %d", hash, height, info.Height, info.Code)
		}
	}

	// Balances as served, then the node's own height and hash: every read
	// is at or below that height.
	type read struct {
		bal    uint64
		height int64
	}
	reads := map[chain.Address]read{}
	for i := 0; i < devAccounts; i++ {
		b, h, err := n.balanceAt(devAddr(i))
		if err != nil {
			t.Fatal(err)
		}
		reads[devAddr(i)] = read{b, h}
	}
	top, own, err := n.appInfo()
	if err != nil {
		t.Fatal(err)
	}

	// Replaying the node's own blocks from genesis gives its app hash.
	blocks, err := node.FetchBlocks(ctx, n.rpc, 1, top)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		id := b.Hash().String()
		if old, ok := v.seen[b.Height]; ok && old != id {
			t.Fatalf("block %d was %s before the crash, is %s after", b.Height, old, id)
		}
		v.seen[b.Height] = id
	}
	began := time.Now()
	hashes, err := node.Replay(genesis, blocks)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.CheckAppHashes(blocks, hashes); err != nil {
		t.Fatal(err)
	}
	if got := hashes[top-1]; !strings.EqualFold(hex.EncodeToString(got), hex.EncodeToString(own)) {
		t.Fatalf("replay of blocks 1..%d gives app hash %X, the restarted node has %X", top, got, own)
	}
	replayTook := time.Since(began)

	// Balances are genesis plus exactly the transfers that succeeded in
	// the blocks; every transaction in them is one of the load's transfers.
	rpc, err := node.RPCClient(n.rpc)
	if err != nil {
		t.Fatal(err)
	}
	router := node.NewApp("tenun-devnet").Router()
	bal := genesisBalances()
	inBlocks := map[string]int64{}
	var ok, failed, unknown int
	checkReads := func(h int64) {
		for a, r := range reads {
			if r.height == h && bal[a] != r.bal {
				t.Fatalf("balance of %s at height %d is %d; the committed transfers make it %d", a, h, r.bal, bal[a])
			}
		}
	}
	for _, b := range blocks {
		if len(b.Txs) > 0 {
			res, err := rpc.BlockResults(ctx, &b.Height)
			if err != nil {
				t.Fatalf("block results %d: %v", b.Height, err)
			}
			if len(res.TxsResults) != len(b.Txs) {
				t.Fatalf("block %d: %d txs, %d results", b.Height, len(b.Txs), len(res.TxsResults))
			}
			for i, raw := range b.Txs {
				hash := strings.ToUpper(hex.EncodeToString(raw.Hash()))
				inBlocks[hash] = b.Height
				if res.TxsResults[i].Code != 0 {
					failed++
					continue
				}
				tr, err := decodeTransfer(router, raw)
				if err != nil {
					t.Fatalf("block %d tx %d: %v", b.Height, i, err)
				}
				if s, known := sent[hash]; !known {
					unknown++ // accepted just before a kill, answer lost
				} else if s != tr {
					t.Fatalf("tx %s: sent %+v, block has %+v", hash, s, tr)
				}
				tr.apply(bal)
				ok++
			}
		}
		checkReads(b.Height)
	}
	for hash, height := range committed {
		if inBlocks[hash] != height {
			t.Fatalf("transfer %s reported committed at height %d is in block %d", hash, height, inBlocks[hash])
		}
	}

	// The transaction index survived the crash: every transaction in a
	// block since the last check is found by hash.
	missing := 0
	for hash, height := range inBlocks {
		if height <= v.checked {
			continue
		}
		if _, err := n.c.Tx(ctx, hash); err != nil {
			missing++
			if missing <= 3 {
				t.Errorf("tx %s in block %d is not found by hash after the restart: %v", hash, height, err)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d committed transactions missing from the index after the restart", missing)
	}
	v.checked = top
	t.Logf("verified height %d: %d transfers ok, %d failed in block, %d accepted without an answer; replay %s",
		top, ok, failed, unknown, replayTook.Round(time.Millisecond))
}

// decodeTransfer reads a bank send of the dev keys back from its bytes.
func decodeTransfer(router *chain.Router, raw types.Tx) (transfer, error) {
	tx, err := chain.DecodeTx(raw, len(raw))
	if err != nil {
		return transfer{}, err
	}
	m, err := router.DecodeMsg(tx.Body.Msg)
	if err != nil {
		return transfer{}, err
	}
	send, ok := m.(*chain.MsgSend)
	if !ok || tx.Body.Fee != fee {
		return transfer{}, fmt.Errorf("unexpected transaction %s with fee %d", tx.Body.Msg.Type, tx.Body.Fee)
	}
	tr := transfer{from: -1, to: -1, amount: send.Amount}
	for i := 0; i < devAccounts; i++ {
		if devAddr(i) == tx.Sender() {
			tr.from = i
		}
		if devAddr(i) == send.To {
			tr.to = i
		}
	}
	if tr.from < 0 || tr.to < 0 {
		return transfer{}, fmt.Errorf("transfer between unexpected accounts %s -> %s", tx.Sender(), send.To)
	}
	return tr, nil
}
