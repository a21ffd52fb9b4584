package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

const (
	abciTestChain = "tenun-abci-test"
	abciTestMaxTx = 300 // a transfer with a 200-byte memo exceeds it
)

// newTestABCI returns an ABCI over an in-memory tree with keys funded and
// the genesis committed as block 1.
func newTestABCI(t *testing.T, keys []ed25519.PrivKey) *ABCI {
	t.Helper()
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tree.Close() })
	g := chain.Genesis{Params: chain.DefaultParams()}
	g.Params.MaxTxBytes = abciTestMaxTx
	for _, k := range keys {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: chain.AddressFromPubKey(k.PubKey().Bytes()), Balance: 1_000_000})
	}
	state, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	a := NewABCI(chain.NewApp(abciTestChain), tree)
	ctx := context.Background()
	if _, err := a.InitChain(ctx, &abci.RequestInitChain{ChainId: abciTestChain, InitialHeight: 1, Time: time.Unix(1_700_000_000, 0), AppStateBytes: state}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 1, Time: time.Unix(1_700_000_000, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	return a
}

// The node decodes and verifies a transaction once, before the ABCI lock or
// in CheckTx, and its CheckTx and FinalizeBlock reuse that. Whichever way a
// transaction arrives (preverified, checked under the lock only, or never
// seen before its block, as from another proposer), every verdict and the
// app hash must be those of a node that decoded everything afresh, bad
// signatures and oversized transactions included; and nothing refused stays
// remembered.
func TestPrecheckedMatchesFreshDecoding(t *testing.T) {
	keys := make([]ed25519.PrivKey, 6)
	for i := range keys {
		keys[i] = ed25519.GenPrivKeyFromSecret(fmt.Appendf(nil, "abci-test/%d", i))
	}
	fee := chain.DefaultParams().MinFee
	var txs [][]byte
	for i := range 24 {
		k := i % len(keys)
		tx, err := chain.SignTx(keys[k], abciTestChain, uint64(i/len(keys)), fee, &chain.MsgSend{To: chain.AddressFromPubKey(keys[(k+1)%len(keys)].PubKey().Bytes()), Amount: 7}, "")
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	tampered := bytes.Clone(txs[3])
	tampered[len(tampered)-1] ^= 1 // the signature's last byte
	oversized, err := chain.SignTx(keys[0], abciTestChain, 4, fee, &chain.MsgSend{To: chain.AddressFromPubKey(keys[1].PubKey().Bytes()), Amount: 1}, string(bytes.Repeat([]byte("m"), 200)))
	if err != nil {
		t.Fatal(err)
	}
	if len(oversized) <= abciTestMaxTx || len(txs[0]) > abciTestMaxTx {
		t.Fatalf("sizes %d and %d do not straddle the limit %d", len(oversized), len(txs[0]), abciTestMaxTx)
	}
	block := append(append([][]byte{}, txs...), tampered, oversized)

	ctx := context.Background()
	run := func(admit func(a *ABCI, i int, tx []byte)) ([]byte, []*abci.ExecTxResult, *ABCI) {
		a := newTestABCI(t, keys)
		for i, tx := range block {
			admit(a, i, tx)
		}
		res, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 2, Time: time.Unix(1_700_000_010, 0), Txs: block})
		if err != nil {
			t.Fatal(err)
		}
		return res.AppHash, res.TxResults, a
	}
	wantHash, want, _ := run(func(*ABCI, int, []byte) {})
	okCount := 0
	for i, r := range want {
		if r.Code == 0 {
			okCount++
		} else if i < len(txs) {
			t.Fatalf("valid tx %d failed: %s", i, r.Log)
		}
	}
	if okCount != len(txs) {
		t.Fatalf("%d of %d succeeded", okCount, len(block))
	}
	checkTx := func(a *ABCI, tx []byte) *abci.ResponseCheckTx {
		r, err := a.CheckTx(ctx, &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for name, admit := range map[string]func(a *ABCI, i int, tx []byte){
		"preverified": func(a *ABCI, _ int, tx []byte) { a.PreverifyTx(tx); checkTx(a, tx) },
		"checked":     func(a *ABCI, _ int, tx []byte) { checkTx(a, tx) },
		// The block arrives between the check before the lock and CheckTx:
		// what was remembered must still meet the block's limits.
		"preverified only": func(a *ABCI, _ int, tx []byte) { a.PreverifyTx(tx) },
		"half": func(a *ABCI, i int, tx []byte) {
			if i%2 == 0 {
				a.PreverifyTx(tx)
			}
		},
	} {
		hash, got, a := run(admit)
		if !bytes.Equal(hash, wantHash) {
			t.Errorf("%s: app hash %x, fresh decoding gives %x", name, hash, wantHash)
		}
		for i := range want {
			if got[i].Code != want[i].Code || got[i].Log != want[i].Log {
				t.Errorf("%s: tx %d: %d %q, fresh decoding gives %d %q", name, i, got[i].Code, got[i].Log, want[i].Code, want[i].Log)
			}
		}
		if n := len(a.prechecked); n != 0 {
			t.Errorf("%s: %d transactions still remembered after their block", name, n)
		}
		if name == "preverified only" && got[len(got)-1].Code == 0 {
			t.Errorf("%s: the oversized transaction succeeded", name)
		}
	}

	// CheckTx refuses the bad ones with the state machine's reasons and
	// remembers nothing for them.
	a := newTestABCI(t, keys)
	for _, tx := range [][]byte{tampered, oversized} {
		a.PreverifyTx(tx)
		if r := checkTx(a, tx); r.Code == 0 {
			t.Fatalf("CheckTx admitted a bad transaction")
		}
	}
	if r := checkTx(a, txs[1]); r.Code != 0 {
		t.Fatalf("CheckTx refused a valid transaction: %s", r.Log)
	}
	if r := checkTx(a, txs[1]); r.Code == 0 { // a replay: the sequence moved on
		t.Fatal("CheckTx admitted a replay")
	}
	if n := len(a.prechecked); n != 0 {
		t.Errorf("%d entries remembered; want 0 (the valid one was refused on its replay)", n)
	}
}
