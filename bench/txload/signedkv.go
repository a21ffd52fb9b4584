package txload

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"sync"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
)

// The signed kvstore is the second baseline: CometBFT's kvstore example with
// the one check every chain of signed transactions must make on admission,
// an ed25519 signature, and nothing else. Comparing Tenun with it separates
// what the signature costs from what Tenun's own rules and state cost.
//
// A transaction is "key=" + base64url(pubkey || signature over key), padded
// with letters to the size of the Tenun transaction it stands for (kvstore
// wants exactly one '=' and no ':'; base64url without padding has neither).
// The signature is checked the way Tenun's node checks it (both connect
// through node.PreverifyingClients): before the ABCI lock, one transaction
// at a time, remembered so CheckTx under the lock does not check it again;
// the block does not re-verify (Tenun's block reuses the admission verdict
// too).

// signedKVPayload is the encoded length of pubkey || signature.
var signedKVPayload = base64.RawURLEncoding.EncodedLen(ed25519.PubKeySize + ed25519.SignatureSize)

// SignedKVStoreTxs returns one signed kvstore transaction per template,
// signed round-robin by keys (transaction i by keys[i%len(keys)], as Tenun's
// transfers are), each as long as its template where that leaves room.
func SignedKVStoreTxs(templates [][]byte, keys []ed25519.PrivKey) ([][]byte, error) {
	out := make([][]byte, len(templates))
	var mu sync.Mutex
	var firstErr error
	parallel(len(templates), func(i int) {
		key := fmt.Appendf(nil, "bench%08d", i)
		k := keys[i%len(keys)]
		sig, err := k.Sign(key)
		if err != nil {
			mu.Lock()
			firstErr = err
			mu.Unlock()
			return
		}
		raw := append(append([]byte{}, k.PubKey().Bytes()...), sig...)
		b := append(key, '=')
		b = base64.RawURLEncoding.AppendEncode(b, raw)
		for j := len(b); j < len(templates[i]); j++ {
			b = append(b, 'a'+byte(j%26))
		}
		out[i] = b
	})
	return out, firstErr
}

// verifySignedKV checks a signed kvstore transaction's signature.
func verifySignedKV(tx []byte) bool {
	eq := bytes.IndexByte(tx, '=')
	if eq < 1 || len(tx) < eq+1+signedKVPayload {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(string(tx[eq+1 : eq+1+signedKVPayload]))
	if err != nil {
		return false
	}
	pub := ed25519.PubKey(raw[:ed25519.PubKeySize])
	return pub.VerifySignature(tx[:eq], raw[ed25519.PubKeySize:])
}

// signedKV is kvstore whose CheckTx refuses a bad signature.
type signedKV struct {
	*kvstore.Application
	mu       sync.Mutex
	verified map[string]bool // verdicts reached before the lock
}

func (a *signedKV) preverify(tx []byte) {
	ok := verifySignedKV(tx)
	a.mu.Lock()
	a.verified[string(tx)] = ok
	a.mu.Unlock()
}

func (a *signedKV) CheckTx(ctx context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	if req.Type == abci.CheckTxType_New {
		a.mu.Lock()
		ok, seen := a.verified[string(req.Tx)]
		delete(a.verified, string(req.Tx))
		a.mu.Unlock()
		if !seen {
			ok = verifySignedKV(req.Tx)
		}
		if !ok {
			return &abci.ResponseCheckTx{Code: kvstore.CodeTypeUnauthorized, Log: "bad signature"}, nil
		}
	}
	return a.Application.CheckTx(ctx, req)
}
