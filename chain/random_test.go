package chain_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// TestRandomBlocks applies many seeded random blocks of transfers, bonds,
// unbonds and invalid transactions, with slashes between blocks, and checks
// after every block:
//   - the supply invariant, and that each stake pool holds exactly its
//     bonded plus unbonding stake;
//   - that the rejected transactions changed nothing: a second chain that
//     is given only the accepted ones reaches the same app hash;
//   - determinism: the same seed run again gives the same hash every block.
func TestRandomBlocks(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			first := runRandomChain(t, seed, 40)
			second := runRandomChain(t, seed, 40)
			for i := range first {
				if !bytes.Equal(first[i], second[i]) {
					t.Fatalf("block %d: run 1 hash %x, run 2 hash %x", i+1, first[i], second[i])
				}
			}
		})
	}
}

var randomPools = []string{"validator", "label", "subnet/1"}

func runRandomChain(t *testing.T, seed int64, blocks int) [][]byte {
	r := rand.New(rand.NewSource(seed))
	names := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"}
	var accounts []account
	for _, n := range names {
		accounts = append(accounts, account{n, uint64(r.Intn(100_000))})
	}
	p := stakeParams(int64(1 + r.Intn(5)))
	main := newEnv(t, p, accounts...)
	mirror := newEnv(t, p, accounts...)
	var hashes [][]byte
	stats := map[string]int{}
	for b := 0; b < blocks; b++ {
		n := r.Intn(12)
		txs := make([][]byte, 0, n)
		pending := map[string]uint64{} // transactions already in this block per sender
		for i := 0; i < n; i++ {
			from := names[r.Intn(len(names))]
			seq := main.seq(from) + pending[from]
			pending[from]++
			bal := main.balance(from)
			fee := p.MinFee
			pool := randomPools[r.Intn(len(randomPools))]
			bonded := chain.Bonded(main.ctx(main.tree), addrOf(from), pool)
			var msg chain.Msg
			switch k := r.Intn(10); {
			case k < 4:
				msg = send(names[r.Intn(len(names))], uint64(r.Int63n(int64(bal*5/4+2))))
			case k < 6:
				if r.Intn(10) == 0 {
					pool = "Bad Pool"
				}
				msg = &chain.MsgBond{Pool: pool, Amount: uint64(r.Int63n(int64(bal/2 + 2)))}
			case k < 8:
				msg = &chain.MsgUnbond{Pool: pool, Amount: uint64(r.Int63n(int64(bonded*5/4 + 2)))}
			default:
				msg = &chain.MsgRegisterBlob{CID: chain.BlobCID([]byte{byte(r.Intn(4))}), Size: uint64(1 + r.Intn(3))}
			}
			switch r.Intn(20) {
			case 0:
				seq += 2 // skipped
			case 1:
				fee = p.MinFee - 1
			case 2:
				fee = bal + 1
			}
			tx := signTx(t, from, testChainID, seq, fee, msg, "")
			switch r.Intn(25) {
			case 0:
				tx[len(tx)-1] ^= 1 // signature
			case 1:
				tx = tx[:r.Intn(len(tx))]
			case 2:
				tx = signTx(t, from, "other-chain", seq, fee, msg, "")
			}
			txs = append(txs, tx)
		}
		res := main.apply(txs...)
		var accepted [][]byte
		for i, tr := range res.Txs {
			stats[fmt.Sprint(tr.Code)]++
			if tr.Code == 0 {
				accepted = append(accepted, txs[i])
			}
		}
		mres := mirror.apply(accepted...)
		for i, tr := range mres.Txs {
			if tr.Code != 0 {
				t.Fatalf("block %d: accepted tx %d fails without the rejected ones: %s", main.height, i, tr.Log)
			}
		}
		// A slash between blocks, on both chains alike.
		if r.Intn(3) == 0 {
			who, pool := names[r.Intn(len(names))], randomPools[r.Intn(len(randomPools))]
			amount := uint64(r.Intn(2000))
			var to chain.Address
			if r.Intn(2) == 0 {
				to = addrOf(names[r.Intn(len(names))])
			}
			for _, e := range []*testEnv{main, mirror} {
				c := store.NewCache(e.tree)
				if _, err := chain.Slash(e.ctx(c), addrOf(who), pool, "random", amount, to); err != nil {
					t.Fatal(err)
				}
				c.Write()
				e.mustInvariants()
			}
		}
		if h, m := main.tree.WorkingHash(), mirror.tree.WorkingHash(); !bytes.Equal(h, m) {
			t.Fatalf("block %d: hash %x, with only the accepted transactions %x", main.height, h, m)
		}
		checkPools(t, main, names)
		hashes = append(hashes, main.tree.WorkingHash())
	}
	t.Logf("seed %d: result codes %v", seed, stats)
	// The run must exercise both paths a lot, or it proves little.
	if stats["0"] < 50 || len(stats) < 4 {
		t.Fatalf("result codes %v: too few accepted or too few kinds of rejection", stats)
	}
	return hashes
}

// checkPools verifies that every stake pool's account holds exactly the
// bonded and unbonding stake recorded for it.
func checkPools(t *testing.T, e *testEnv, names []string) {
	t.Helper()
	ctx := e.ctx(e.tree)
	for _, pool := range randomPools {
		var want uint64
		for _, s := range chain.PoolStakes(ctx, pool) {
			want += s.Amount
		}
		for _, n := range names {
			for _, u := range chain.Unbondings(ctx, addrOf(n)) {
				if u.Pool == pool {
					want += u.Amount
				}
			}
		}
		if got := chain.Balance(e.tree, chain.StakePoolAddress(pool)); got != want {
			t.Fatalf("height %d: pool %s holds %d, stakes and unbondings total %d", e.height, pool, got, want)
		}
	}
}
