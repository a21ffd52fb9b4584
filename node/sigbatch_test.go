package node

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
)

// signedTxs returns n decoded transfers; those with i%bad == bad-1 carry a
// signature over another body (bad <= 0: none).
func signedTxs(t testing.TB, n, bad int) []*chain.Tx {
	t.Helper()
	txs := make([]*chain.Tx, n)
	for i := range txs {
		key := ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("sigbatch/%d", i%50)))
		raw, err := chain.SignTx(key, "sigbatch", uint64(i), 10, &chain.MsgSend{To: chain.AddressFromPubKey([]byte{byte(i)}), Amount: 1}, "")
		if err != nil {
			t.Fatal(err)
		}
		tx, err := chain.DecodeTx(raw, len(raw))
		if err != nil {
			t.Fatal(err)
		}
		if bad > 0 && i%bad == bad-1 {
			tx.Body.Fee++ // the signature no longer covers the body
		}
		txs[i] = tx
	}
	return txs
}

// Every caller gets the verdict VerifySignature gives for its own
// transaction, however the calls are grouped into batches, bad signatures
// among them included.
func TestSigBatcherVerdicts(t *testing.T) {
	txs := signedTxs(t, 400, 7)
	for _, runners := range []int{1, 2, 4} {
		b := newSigBatcher()
		b.maxRunners = runners
		got := make([]bool, len(txs))
		var wg sync.WaitGroup
		for i, tx := range txs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = b.verify(tx)
			}()
		}
		wg.Wait()
		for i, tx := range txs {
			if want := tx.VerifySignature() == nil; got[i] != want {
				t.Fatalf("%d runners: tx %d verdict %v, VerifySignature says %v", runners, i, got[i], want)
			}
		}
		if b.running != 0 || len(b.queue) != 0 {
			t.Fatalf("%d runners: left running=%d queue=%d", runners, b.running, len(b.queue))
		}
	}
}

// BenchmarkSigBatcher compares admission's signature checks through the
// batcher with plain one-by-one checks, under 64 concurrent submitters.
func BenchmarkSigBatcher(b *testing.B) {
	txs := signedTxs(b, 512, 0)
	run := func(b *testing.B, verify func(*chain.Tx) bool) {
		b.SetParallelism(32)
		var next sync.Mutex
		i := 0
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				next.Lock()
				tx := txs[i%len(txs)]
				i++
				next.Unlock()
				if !verify(tx) {
					b.Error("valid signature refused")
				}
			}
		})
	}
	b.Run("batched", func(b *testing.B) { run(b, newSigBatcher().verify) })
	b.Run("one-by-one", func(b *testing.B) { run(b, func(tx *chain.Tx) bool { return tx.VerifySignature() == nil }) })
}

// A malformed transaction (a public key of the wrong length, which DecodeTx
// never lets through) is refused, and the batcher keeps answering.
func TestSigBatcherRefusesMalformedKey(t *testing.T) {
	txs := signedTxs(t, 3, 0)
	broken := *txs[0]
	broken.PubKey = broken.PubKey[:5]
	b := newSigBatcher()
	if b.verify(&broken) {
		t.Fatal("a transaction with a 5-byte public key passed")
	}
	for i, tx := range txs {
		if !b.verify(tx) {
			t.Fatalf("valid tx %d refused after the failure", i)
		}
	}
}
