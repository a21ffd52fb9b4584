package chain_test

import (
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
		res := app.ApplyBlock(tree, chain.Block{Height: height, Time: height, ChainID: chainID}, txs)
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
