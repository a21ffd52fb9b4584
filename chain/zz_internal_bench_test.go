package chain

import (
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain/store"
)

func TestZZPhases(t *testing.T) {
	const n = 10000
	const accts = 1000
	app := NewApp("bench")
	tree, _ := store.OpenTree(t.TempDir())
	keys := make([]ed25519.PrivKey, accts)
	g := Genesis{Params: DefaultParams()}
	for i := range keys {
		keys[i] = ed25519.GenPrivKey()
		g.Accounts = append(g.Accounts, GenesisAccount{Address: AddressFromPubKey(keys[i].PubKey().Bytes()), Balance: 1 << 50})
	}
	ctx := NewContext(tree, Block{Height: 1}, g.Params)
	app.InitGenesis(ctx, g)
	tree.Commit()
	seq := make([]uint64, accts)
	for it := 0; it < 3; it++ {
		txs := make([][]byte, n)
		for i := range txs {
			k := i % accts
			to := AddressFromPubKey(keys[(k+1)%accts].PubKey().Bytes())
			txs[i], _ = SignTx(keys[k], "bench", seq[k], 10, &MsgSend{To: to, Amount: 1}, "")
			seq[k]++
		}
		t0 := time.Now()
		dec := make([]*Tx, n)
		for i, b := range txs {
			dec[i], _ = DecodeTx(b, 1<<20)
		}
		t1 := time.Now()
		verifySignatures(dec)
		t2 := time.Now()
		app.ApplyBlock(tree, Block{Height: int64(it + 2)}, txs)
		t3 := time.Now()
		tree.Commit()
		t4 := time.Now()
		t.Logf("decode %v verify %v apply(total incl verify) %v commit %v", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3))
	}
}
