package chain_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestZZCPU(t *testing.T) {
	const perBlock, accounts, chainID = 10000, 1000, "tenun-bench"
	tree, _ := store.OpenTree(t.TempDir())
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
	app.InitGenesis(chain.NewContext(tree, chain.Block{Height: 1, ChainID: chainID}, g.Params), g)
	tree.Commit()
	seq := make([]uint64, accounts)
	var cpu, wall time.Duration
	for it := 0; it < 7; it++ {
		txs := make([][]byte, perBlock)
		for i := range txs {
			k := i % accounts
			txs[i], _ = chain.SignTx(keys[k], chainID, seq[k], 10, &chain.MsgSend{To: addrs[(k+1)%accounts], Amount: 1}, "")
			seq[k]++
		}
		c0, w0 := cpuNow(), time.Now()
		res := app.ApplyBlock(tree, chain.Block{Height: int64(it + 2), ChainID: chainID}, txs)
		tree.Commit()
		if it > 0 {
			cpu += cpuNow() - c0
			wall += time.Since(w0)
		}
		for _, r := range res.Txs {
			if r.Code != 0 {
				t.Fatal(r.Log)
			}
		}
	}
	t.Logf("cpu %.1f us/tx  wall %.1f us/tx  hash %x", float64(cpu.Microseconds())/60000, float64(wall.Microseconds())/60000, tree.Hash()[:6])
}
