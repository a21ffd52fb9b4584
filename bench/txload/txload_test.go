package txload

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestRunNodesSmall is a tiny end-to-end run against both apps, so the
// harness cannot break silently: every transaction must commit with code 0
// in both, and the figures must be positive.
func TestRunNodesSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two CometBFT nodes")
	}
	var progress bytes.Buffer
	res, err := RunNodes(context.Background(), Options{
		Txs: 600, Accounts: 50, Workers: 2, BlockTime: 5 * time.Millisecond,
		Dir: t.TempDir(), Timeout: 60 * time.Second, Progress: &progress,
	})
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	t.Logf("%s", b)
	for _, r := range []AppResult{res.Tenun, res.KVStore, res.SignedKVStore} {
		if r.Committed != 600 || r.CommittedFailed != 0 || r.CheckTxRejected != 0 {
			t.Errorf("%s: committed %d ok, %d failed, %d rejected by CheckTx; want 600, 0, 0", r.App, r.Committed, r.CommittedFailed, r.CheckTxRejected)
		}
		if r.TxPerSec <= 0 || r.Window.Blocks < 1 || r.Window.Seconds <= 0 {
			t.Errorf("%s: no measurement: %+v", r.App, r)
		}
	}
	if res.Ratio <= 0 || res.RatioSigned <= 0 || res.TxBytes < 100 {
		t.Errorf("ratios %v %v, tx bytes %v", res.Ratio, res.RatioSigned, res.TxBytes)
	}
}

func TestKVStoreTxsMatchSizes(t *testing.T) {
	keys := Keys(7)
	txs, err := Transfers(keys, Addresses(keys), 40, 0, BenchChainID)
	if err != nil {
		t.Fatal(err)
	}
	kv := KVStoreTxs(txs)
	seen := map[string]bool{}
	for i := range txs {
		if len(kv[i]) != len(txs[i]) {
			t.Fatalf("kvstore tx %d is %d bytes, tenun tx %d", i, len(kv[i]), len(txs[i]))
		}
		if bytes.Count(kv[i], []byte("=")) != 1 || bytes.Contains(kv[i], []byte(":")) {
			t.Fatalf("kvstore tx %q is not key=value", kv[i])
		}
		key := string(kv[i][:bytes.IndexByte(kv[i], '=')])
		if seen[key] {
			t.Fatalf("duplicate key %q", key)
		}
		seen[key] = true
	}
	// Each account's transactions stay in sequence order within one stream.
	streams := Streams(txs, 7, 3)
	n := 0
	for _, s := range streams {
		n += len(s)
	}
	if n != len(txs) {
		t.Fatalf("streams hold %d of %d transactions", n, len(txs))
	}
}

func TestStateMachineSmall(t *testing.T) {
	res, err := RunStateMachine(SMOptions{Blocks: 2, TxsPerBlock: 500, Accounts: 100, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.TxPerSec <= 0 || res.SigVerifyTxPerSec <= 0 || res.Ratio <= 0 {
		t.Fatalf("no measurement: %+v", res)
	}
}

func TestWindow(t *testing.T) {
	at := func(s float64) time.Time { return time.Unix(1000, 0).Add(time.Duration(s * float64(time.Second))) }
	blk := func(h int64, n int, s float64) blockRec { return blockRec{height: h, txs: n, ok: n, at: at(s)} }
	// Empty block, warm-up block, three full blocks, a small remainder.
	w, err := window([]blockRec{blk(1, 0, 0), blk(2, 500, 1), blk(3, 1000, 2), blk(4, 1000, 3), blk(5, 1000, 4.5), blk(6, 100, 5)})
	if err != nil {
		t.Fatal(err)
	}
	want := Window{FromHeight: 2, ToHeight: 5, Blocks: 3, Txs: 3000, Seconds: 3.5, WarmupExcluded: true, DrainExcluded: true}
	if w != want {
		t.Fatalf("window %+v, want %+v", w, want)
	}
	// A last block that is not small counts.
	if w, _ := window([]blockRec{blk(2, 500, 1), blk(3, 1000, 2), blk(4, 900, 3)}); w.ToHeight != 4 || w.Txs != 1900 || w.DrainExcluded {
		t.Fatalf("window %+v", w)
	}
	// One block carried everything: measured from the commit before it.
	if w, _ := window([]blockRec{blk(1, 0, 0), blk(2, 600, 0.5)}); w.FromHeight != 1 || w.Txs != 600 || w.WarmupExcluded {
		t.Fatalf("window %+v", w)
	}
	if _, err := window([]blockRec{blk(1, 0, 0)}); err == nil {
		t.Fatal("no transactions: want an error")
	}
}

// The signed kvstore's transactions are valid kvstore transactions of the
// Tenun transactions' sizes, and its check refuses any tampering.
func TestSignedKVStoreTxs(t *testing.T) {
	keys := Keys(5)
	txs, err := Transfers(keys, Addresses(keys), 20, 0, BenchChainID)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := SignedKVStoreTxs(txs, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, tx := range signed {
		if len(tx) != len(txs[i]) {
			t.Fatalf("tx %d: %d bytes, the Tenun transaction has %d", i, len(tx), len(txs[i]))
		}
		if bytes.Count(tx, []byte("=")) != 1 || bytes.Contains(tx, []byte(":")) {
			t.Fatalf("tx %q is not key=value", tx)
		}
		if !verifySignedKV(tx) {
			t.Fatalf("tx %d: valid signature refused", i)
		}
		for _, pos := range []int{0, 9, 20, 60, 100} { // key, pubkey, signature
			bad := append([]byte{}, tx...)
			bad[pos] ^= 1
			if verifySignedKV(bad) {
				t.Fatalf("tx %d with byte %d flipped accepted", i, pos)
			}
		}
	}
	if verifySignedKV([]byte("k=short")) || verifySignedKV([]byte("=")) {
		t.Fatal("malformed transaction accepted")
	}
}

// Bounded blocks hold exactly BlockTxs transactions, on a network of
// validators in this process, for every app; the window counts only those.
func TestBoundedBlocksOnTwoValidators(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	r, err := RunNodes(context.Background(), Options{Accounts: 20, Workers: 4, BlockTime: 20 * time.Millisecond,
		Validators: 2, BlockTxs: 40, Blocks: 3, Rounds: 1, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Txs != 40*5 || r.Config.Validators != 2 || r.BlockTxs != 40 {
		t.Fatalf("run %+v", r)
	}
	for _, a := range []AppResult{r.Tenun, r.KVStore, r.SignedKVStore} {
		if a.Committed != r.Txs || a.MaxBlockTxs != 40 || a.Window.Blocks < 3 || a.Window.Txs != 40*a.Window.Blocks {
			t.Errorf("%s: committed %d, largest block %d, window %+v", a.App, a.Committed, a.MaxBlockTxs, a.Window)
		}
	}
}
