// Package txload measures Tenun's transaction throughput against a baseline
// measured in the same run.
//
// RunNodes starts a single-validator Tenun node and then CometBFT's own
// kvstore example app, each in-process in a temp dir with the same CometBFT
// configuration, drives the same number of pre-signed transactions of the same
// sizes into each through CometBFT's mempool (the in-process RPC client's
// broadcast_tx_sync), and measures committed transactions per second between
// two block commits, warm-up and drain excluded. A third run, kvstore with an
// ed25519 signature check on admission (signedkv.go), shows how much of the
// gap is the one check every chain of signed transactions makes.
//
// RunStateMachine measures the state machine alone: blocks of signed
// transfers applied with App.ApplyBlock and committed to a durable tree,
// beside the cost of only verifying the same blocks' signatures.
package txload

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
)

// BenchChainID is the chain id of the benchmark chains.
const BenchChainID = "tenun-bench"

// accountBalance funds each generated sender: far more than any run spends.
const accountBalance = 1 << 50

// Keys derives n sender keys deterministically, so every run signs the same
// transactions.
func Keys(n int) []ed25519.PrivKey {
	keys := make([]ed25519.PrivKey, n)
	parallel(n, func(i int) {
		keys[i] = ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("tenun-bench/account/%d", i)))
	})
	return keys
}

// Addresses returns the account addresses of keys.
func Addresses(keys []ed25519.PrivKey) []chain.Address {
	out := make([]chain.Address, len(keys))
	for i, k := range keys {
		out[i] = chain.AddressFromPubKey(k.PubKey().Bytes())
	}
	return out
}

// GenesisAccounts funds every key.
func GenesisAccounts(keys []ed25519.PrivKey) []chain.GenesisAccount {
	out := make([]chain.GenesisAccount, len(keys))
	for i, a := range Addresses(keys) {
		out[i] = chain.GenesisAccount{Address: a, Balance: accountBalance}
	}
	return out
}

// Transfers signs n transfers of 1 utnn round-robin over keys: transaction
// i is sent by account i%len(keys) with sequence i/len(keys)+firstSeq, to the
// next account. Each account's transactions appear in sequence order, so a
// prefix of the list is always valid. Signing runs on every core.
func Transfers(keys []ed25519.PrivKey, addrs []chain.Address, n int, firstSeq uint64, chainID string) ([][]byte, error) {
	txs := make([][]byte, n)
	fee := chain.DefaultParams().MinFee
	var mu sync.Mutex
	var firstErr error
	parallel(n, func(i int) {
		k := i % len(keys)
		tx, err := chain.SignTx(keys[k], chainID, firstSeq+uint64(i/len(keys)), fee,
			&chain.MsgSend{To: addrs[(k+1)%len(keys)], Amount: 1}, "")
		if err != nil {
			mu.Lock()
			firstErr = err
			mu.Unlock()
			return
		}
		txs[i] = tx
	})
	return txs, firstErr
}

// KVStoreTxs returns one kvstore transaction ("key=value", unique key) per
// template, each exactly as long as its template, so both apps carry the same
// bytes per transaction.
func KVStoreTxs(templates [][]byte) [][]byte {
	out := make([][]byte, len(templates))
	for i, t := range templates {
		key := fmt.Sprintf("bench%08d", i)
		size := len(t)
		if size < len(key)+2 {
			size = len(key) + 2
		}
		b := make([]byte, size)
		copy(b, key)
		b[len(key)] = '='
		for j := len(key) + 1; j < size; j++ {
			b[j] = 'a' + byte(j%26)
		}
		out[i] = b
	}
	return out
}

// Streams splits txs into per-worker streams by sender account (transaction
// i belongs to account i%accounts), keeping each account's transactions in
// order within one stream, as sequence numbers require.
func Streams(txs [][]byte, accounts, workers int) [][][]byte {
	if workers < 1 {
		workers = 1
	}
	out := make([][][]byte, workers)
	for i, tx := range txs {
		w := (i % accounts) % workers
		out[w] = append(out[w], tx)
	}
	return out
}

// parallel runs fn(0..n-1) on every core.
func parallel(n int, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}(w)
	}
	wg.Wait()
}

func meanLen(txs [][]byte) float64 {
	if len(txs) == 0 {
		return 0
	}
	total := 0
	for _, t := range txs {
		total += len(t)
	}
	return float64(total) / float64(len(txs))
}
