package chain_test

import (
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

func BenchmarkZZBlock10k(b *testing.B) {
	const n = 10000
	const accts = 1000
	app := chain.NewApp("bench")
	tree, _ := store.OpenTree(b.TempDir())
	keys := make([]ed25519.PrivKey, accts)
	g := chain.Genesis{Params: chain.DefaultParams()}
	for i := range keys {
		keys[i] = ed25519.GenPrivKey()
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: chain.AddressFromPubKey(keys[i].PubKey().Bytes()), Balance: 1 << 50})
	}
	ctx := chain.NewContext(tree, chain.Block{Height: 1}, g.Params)
	if err := app.InitGenesis(ctx, g); err != nil {
		b.Fatal(err)
	}
	tree.Commit()
	seq := make([]uint64, accts)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		txs := make([][]byte, n)
		for i := range txs {
			k := i % accts
			to := chain.AddressFromPubKey(keys[(k+1)%accts].PubKey().Bytes())
			txs[i], _ = chain.SignTx(keys[k], "bench", seq[k], 10, &chain.MsgSend{To: to, Amount: 1}, "")
			seq[k]++
		}
		b.StartTimer()
		res := app.ApplyBlock(tree, chain.Block{Height: int64(it + 2)}, txs)
		for _, r := range res.Txs {
			if r.Code != 0 {
				b.Fatal(r.Log)
			}
		}
		tree.Commit()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tx/s")
}
