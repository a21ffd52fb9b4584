package chain

import "bytes"

// VerifiedTx is a transaction decoded from exact bytes whose signature was
// found valid. Only this package makes one (VerifyTx, VerifyTxs), so holding
// one is proof, whoever did the work: the node before its ABCI lock, its
// CheckTx, or the state machine itself. CheckTx and ApplyBlock take it in
// place of decoding and verifying again, and use it only for the very bytes
// it was made from; for any other bytes they decode and verify as usual.
type VerifiedTx struct {
	raw []byte
	tx  *Tx
}

// Tx is the decoded transaction.
func (v *VerifiedTx) Tx() *Tx { return v.tx }

// Bytes are the bytes it was decoded from.
func (v *VerifiedTx) Bytes() []byte { return v.raw }

// VerifyTx decodes b and checks its signature. The size limit is the
// chain's business at use (params can differ from where it was verified),
// so it is not applied here.
func VerifyTx(b []byte) (*VerifiedTx, error) {
	tx, err := DecodeTx(b, len(b))
	if err != nil {
		return nil, err
	}
	if err := tx.VerifySignature(); err != nil {
		return nil, err
	}
	return &VerifiedTx{raw: b, tx: tx}, nil
}

// VerifyTxs is VerifyTx for many transactions at once, with ed25519 batch
// verification where there are several; the verdicts are those VerifyTx
// gives. Entry i is nil with errs[i] set for a transaction that does not
// decode or whose signature is bad.
func VerifyTxs(bs [][]byte) (out []*VerifiedTx, errs []error) {
	out, errs = make([]*VerifiedTx, len(bs)), make([]error, len(bs))
	txs := make([]*Tx, len(bs))
	for i, b := range bs {
		txs[i], errs[i] = DecodeTx(b, len(b))
	}
	for i, ok := range VerifySignatures(txs) {
		switch {
		case errs[i] != nil:
		case !ok:
			errs[i] = Wrap(ErrSignature, "signature does not match the body and public key")
		default:
			out[i] = &VerifiedTx{raw: bs[i], tx: txs[i]}
		}
	}
	return out, errs
}

// usable reports whether v proves txBytes under the size limit.
func (v *VerifiedTx) usable(txBytes []byte, maxBytes int) bool {
	return v != nil && len(txBytes) <= maxBytes && bytes.Equal(v.raw, txBytes)
}
