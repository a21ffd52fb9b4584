package chain_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// BenchmarkApplyBlock10k applies blocks of 10,000 signed bank transfers
// (signatures verified, as on the chain) to a durable IAVL tree in a temp
// dir and commits each block, the way the node does. Signing happens with the
// timer stopped. It reports transfers per second; `tenun bench tx` prints the
// same figure beside a signature-only baseline.
//
//	go test ./chain -run '^$' -bench ApplyBlock10k -benchtime 5x
func BenchmarkApplyBlock10k(b *testing.B) {
	const (
		perBlock = 10_000
		accounts = 1_000
		chainID  = "tenun-bench"
	)
	tree, err := store.OpenTree(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer tree.Close()
	app := chain.NewApp(chainID)
	keys := make([]ed25519.PrivKey, accounts)
	addrs := make([]chain.Address, accounts)
	g := chain.Genesis{Params: chain.DefaultParams()}
	for i := range keys {
		keys[i] = ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("tenun-bench/%d", i)))
		addrs[i] = chain.AddressFromPubKey(keys[i].PubKey().Bytes())
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addrs[i], Balance: 1 << 50})
	}
	if err := app.InitGenesis(chain.NewContext(tree, chain.Block{Height: 1, ChainID: chainID}, g.Params), g); err != nil {
		b.Fatal(err)
	}
	if _, _, err := tree.Commit(); err != nil {
		b.Fatal(err)
	}
	seq := make([]uint64, accounts)
	height := int64(1)
	sign := func() [][]byte {
		txs := make([][]byte, perBlock)
		for i := range txs {
			k := i % accounts
			tx, err := chain.SignTx(keys[k], chainID, seq[k], chain.DefaultParams().MinFee,
				&chain.MsgSend{To: addrs[(k+1)%accounts], Amount: 1}, "")
			if err != nil {
				b.Fatal(err)
			}
			txs[i] = tx
			seq[k]++
		}
		return txs
	}
	apply := func(txs [][]byte) {
		height++
		res := app.ApplyBlock(tree, chain.Block{Height: height, Time: height, ChainID: chainID}, txs, nil)
		for i, r := range res.Txs {
			if r.Code != 0 {
				b.Fatalf("block %d tx %d: code %d: %s", height, i, r.Code, r.Log)
			}
		}
		if _, _, err := tree.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	apply(sign()) // warm-up: first writes of every sequence key
	b.ReportAllocs()
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		txs := sign()
		b.StartTimer()
		apply(txs)
	}
	b.ReportMetric(float64(perBlock*b.N)/b.Elapsed().Seconds(), "tx/s")
}

// Address.String encodes bech32 by hand for speed; it must match the
// reference encoder and parse back.
func TestAddressStringMatchesBech32(t *testing.T) {
	for i := 0; i < 2000; i++ {
		var a chain.Address
		switch i {
		case 0: // zero address
		case 1:
			for j := range a {
				a[j] = 0xff
			}
		default:
			a = chain.AddressFromPubKey([]byte(fmt.Sprint("addr", i)))
		}
		conv, err := bech32.ConvertBits(a[:], 8, 5, true)
		if err != nil {
			t.Fatal(err)
		}
		want, err := bech32.Encode(chain.AddressPrefix, conv)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.String(); got != want {
			t.Fatalf("%x: String() = %s, bech32.Encode = %s", a[:], got, want)
		}
		back, err := chain.ParseAddress(want)
		if err != nil || back != a {
			t.Fatalf("%s parses to %x, %v", want, back[:], err)
		}
	}
}

func BenchmarkAddressString(b *testing.B) {
	a := chain.AddressFromPubKey([]byte("bench"))
	b.ReportAllocs()
	for b.Loop() {
		_ = a.String()
	}
}

// ApplyBlock and CheckTx given VerifiedTxs must give exactly what they give
// without: the node skips decoding and re-verifying what it checked before,
// and no result or state may change because of it. A VerifiedTx is used
// only for its own bytes: handed in for other bytes (here, a transaction
// with a forged signature) it is ignored, and those bytes are judged afresh.
func TestVerifiedTxsChangeNoResult(t *testing.T) {
	const chainID = "tenun-bench"
	keys := make([]ed25519.PrivKey, 20)
	g := chain.Genesis{Params: chain.DefaultParams()}
	for i := range keys {
		keys[i] = ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("verified/%d", i)))
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: chain.AddressFromPubKey(keys[i].PubKey().Bytes()), Balance: 300})
	}
	var txs [][]byte
	for i := 0; i < 60; i++ {
		k := i % len(keys)
		to := chain.AddressFromPubKey(keys[(k+3)%len(keys)].PubKey().Bytes())
		tx, err := chain.SignTx(keys[k], chainID, uint64(i/len(keys)), 10, &chain.MsgSend{To: to, Amount: uint64(1 + i)}, "")
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	overdraw, err := chain.SignTx(keys[0], chainID, 3, 10, &chain.MsgSend{To: chain.AddressFromPubKey(keys[1].PubKey().Bytes()), Amount: 1_000_000}, "")
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Clone(txs[7])
	forged[len(forged)-1] ^= 1
	txs = append(txs, overdraw, txs[5], forged) // failures must match too: too much, a replay, a bad signature
	open := func() (*chain.App, *store.Tree) {
		tree, err := store.OpenTree("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tree.Close() })
		app := chain.NewApp(chainID)
		if err := app.InitGenesis(chain.NewContext(tree, chain.Block{Height: 1, ChainID: chainID}, g.Params), g); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tree.Commit(); err != nil {
			t.Fatal(err)
		}
		return app, tree
	}
	run := func(verified []*chain.VerifiedTx) ([]byte, []chain.TxResult) {
		app, tree := open()
		res := app.ApplyBlock(tree, chain.Block{Height: 2, ChainID: chainID}, txs, verified)
		return tree.WorkingHash(), res.Txs
	}
	wantHash, want := run(nil)
	all, errs := chain.VerifyTxs(txs)
	for i := range txs[:60] {
		if errs[i] != nil {
			t.Fatalf("tx %d: %v", i, errs[i])
		}
	}
	if errs[len(txs)-1] == nil {
		t.Fatal("VerifyTxs passed a forged signature")
	}
	even := make([]*chain.VerifiedTx, len(txs))
	for i := range even {
		if i%2 == 0 {
			even[i] = all[i]
		}
	}
	misplaced := append([]*chain.VerifiedTx{}, all...)
	misplaced[len(txs)-1] = all[7] // the valid original, offered for the forged bytes
	for name, v := range map[string][]*chain.VerifiedTx{"all": all, "even": even, "misplaced": misplaced} {
		hash, got := run(v)
		if !bytes.Equal(hash, wantHash) {
			t.Errorf("%s: app hash %x, ApplyBlock alone gives %x", name, hash, wantHash)
		}
		for i := range want {
			if got[i].Code != want[i].Code || got[i].Log != want[i].Log || len(got[i].Events) != len(want[i].Events) {
				t.Errorf("%s: tx %d: %d %q, ApplyBlock alone gives %d %q", name, i, got[i].Code, got[i].Log, want[i].Code, want[i].Log)
			}
		}
	}
	if want[len(txs)-1].Code != chain.ErrSignature.Code {
		t.Fatalf("forged tx: %+v", want[len(txs)-1])
	}
	// CheckTx the same way.
	app, tree := open()
	next := chain.Block{Height: 2, ChainID: chainID}
	if r := app.CheckTx(store.NewCache(tree), next, g.Params, forged, all[7]); r.Code != chain.ErrSignature.Code {
		t.Fatalf("CheckTx took another transaction's VerifiedTx for forged bytes: %+v", r)
	}
	if r := app.CheckTx(store.NewCache(tree), next, g.Params, txs[0], all[0]); r.Code != 0 {
		t.Fatalf("CheckTx with its VerifiedTx: %+v", r)
	}
	failures := 0
	for _, r := range want {
		if r.Code != 0 {
			failures++
		}
	}
	if failures == 0 || failures == len(want) {
		t.Fatalf("%d of %d transactions failed: the block should mix both", failures, len(want))
	}
}
