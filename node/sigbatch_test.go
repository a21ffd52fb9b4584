package node

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
)

// signedTxs returns n signed transfers; those with i%bad == bad-1 carry a
// signature over another body (bad <= 0: none).
func signedTxs(t testing.TB, n, bad int) [][]byte {
	t.Helper()
	txs := make([][]byte, n)
	for i := range txs {
		key := ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("sigbatch/%d", i%50)))
		raw, err := chain.SignTx(key, "sigbatch", uint64(i), 10, &chain.MsgSend{To: chain.AddressFromPubKey([]byte{byte(i)}), Amount: 1}, "")
		if err != nil {
			t.Fatal(err)
		}
		if bad > 0 && i%bad == bad-1 {
			tx, err := chain.DecodeTx(raw, len(raw))
			if err != nil {
				t.Fatal(err)
			}
			tx.Body.Fee++ // the signature no longer covers the body
			raw = chain.Marshal(tx)
		}
		txs[i] = raw
	}
	return txs
}

// Every caller gets the verdict chain.VerifyTx gives for its own
// transaction, however the calls are grouped into batches, bad signatures
// among them included, and the VerifiedTx is of its own bytes.
func TestSigBatcherVerdicts(t *testing.T) {
	txs := signedTxs(t, 400, 7)
	for _, runners := range []int{1, 2, 4} {
		b := newSigBatcher()
		b.maxRunners = runners
		got := make([]*chain.VerifiedTx, len(txs))
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
			_, err := chain.VerifyTx(tx)
			if want := err == nil; (got[i] != nil) != want {
				t.Fatalf("%d runners: tx %d verdict %v, VerifyTx says %v", runners, i, got[i] != nil, want)
			}
			if got[i] != nil && !bytes.Equal(got[i].Bytes(), tx) {
				t.Fatalf("%d runners: tx %d got another transaction's verdict", runners, i)
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
	run := func(b *testing.B, verify func([]byte) bool) {
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
	batcher := newSigBatcher()
	b.Run("batched", func(b *testing.B) { run(b, func(tx []byte) bool { return batcher.verify(tx) != nil }) })
	b.Run("one-by-one", func(b *testing.B) {
		run(b, func(tx []byte) bool { _, err := chain.VerifyTx(tx); return err == nil })
	})
}

// A malformed transaction (a public key of the wrong length) is refused,
// and the batcher keeps answering.
func TestSigBatcherRefusesMalformedKey(t *testing.T) {
	txs := signedTxs(t, 3, 0)
	tx, err := chain.DecodeTx(txs[0], len(txs[0]))
	if err != nil {
		t.Fatal(err)
	}
	tx.PubKey = tx.PubKey[:5]
	b := newSigBatcher()
	if b.verify(chain.Marshal(tx)) != nil {
		t.Fatal("a transaction with a 5-byte public key passed")
	}
	for i, tx := range txs {
		if b.verify(tx) == nil {
			t.Fatalf("valid tx %d refused after the failure", i)
		}
	}
}
