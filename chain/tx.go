package chain

import (
	"crypto/sha256"
	"fmt"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/fxamacker/cbor/v2"
)

// signDomain separates Tenun transaction signatures from every other use of
// the same key.
const signDomain = "tenun/tx/v1\x00"

// Tx is a signed transaction: one message, signed by one account.
type Tx struct {
	Body      TxBody `cbor:"1,keyasint"`
	PubKey    []byte `cbor:"2,keyasint"` // ed25519, 32 bytes
	Signature []byte `cbor:"3,keyasint"` // ed25519, 64 bytes
}

// TxBody is what the sender signs.
type TxBody struct {
	ChainID  string `cbor:"1,keyasint"`
	Sequence uint64 `cbor:"2,keyasint"` // the sender's next sequence: no replay, no skip
	Fee      uint64 `cbor:"3,keyasint"` // in utnn, paid to the fee collector
	Msg      Any    `cbor:"4,keyasint"`
	Memo     string `cbor:"5,keyasint,omitempty"`
}

// Any carries one typed message: its type name and its canonical encoding.
type Any struct {
	Type  string          `cbor:"1,keyasint"`
	Value cbor.RawMessage `cbor:"2,keyasint"`
}

// Limits on transaction parts; the byte limit is a chain parameter.
const (
	maxChainIDLen = 64
	maxMemoLen    = 256
	maxTypeLen    = 64
)

// SignBytes are the bytes an account signs for body.
func SignBytes(body TxBody) []byte {
	return append([]byte(signDomain), Marshal(body)...)
}

// Sender is the address that signed tx.
func (tx *Tx) Sender() Address { return AddressFromPubKey(tx.PubKey) }

// Hash is the transaction hash CometBFT indexes: sha256 of its bytes.
func TxHash(txBytes []byte) [32]byte { return sha256.Sum256(txBytes) }

// DecodeTx parses and checks the shape of a transaction; it does not verify
// the signature or look at state.
func DecodeTx(b []byte, maxBytes int) (*Tx, error) {
	if len(b) == 0 {
		return nil, Wrap(ErrDecode, "empty transaction")
	}
	if len(b) > maxBytes {
		return nil, Wrap(ErrTxTooLarge, "%d bytes, limit %d", len(b), maxBytes)
	}
	var tx Tx
	if err := Unmarshal(b, &tx); err != nil {
		return nil, Wrap(ErrDecode, "%v", err)
	}
	switch {
	case len(tx.PubKey) != ed25519.PubKeySize:
		return nil, Wrap(ErrDecode, "public key is %d bytes, want %d", len(tx.PubKey), ed25519.PubKeySize)
	case len(tx.Signature) != ed25519.SignatureSize:
		return nil, Wrap(ErrDecode, "signature is %d bytes, want %d", len(tx.Signature), ed25519.SignatureSize)
	case len(tx.Body.ChainID) == 0 || len(tx.Body.ChainID) > maxChainIDLen:
		return nil, Wrap(ErrDecode, "chain id must be 1 to %d bytes", maxChainIDLen)
	case len(tx.Body.Memo) > maxMemoLen:
		return nil, Wrap(ErrDecode, "memo is %d bytes, limit %d", len(tx.Body.Memo), maxMemoLen)
	case len(tx.Body.Msg.Type) == 0 || len(tx.Body.Msg.Type) > maxTypeLen:
		return nil, Wrap(ErrDecode, "message type must be 1 to %d bytes", maxTypeLen)
	}
	return &tx, nil
}

// VerifySignature checks tx's signature over its body.
func (tx *Tx) VerifySignature() error {
	if !ed25519.PubKey(tx.PubKey).VerifySignature(SignBytes(tx.Body), tx.Signature) {
		return Wrap(ErrSignature, "signature does not match the body and public key")
	}
	return nil
}

// SignTx builds and signs a transaction carrying msg.
func SignTx(key ed25519.PrivKey, chainID string, sequence, fee uint64, msg Msg, memo string) ([]byte, error) {
	body := TxBody{
		ChainID:  chainID,
		Sequence: sequence,
		Fee:      fee,
		Msg:      Any{Type: msg.Type(), Value: Marshal(msg)},
		Memo:     memo,
	}
	sig, err := key.Sign(SignBytes(body))
	if err != nil {
		return nil, fmt.Errorf("sign transaction: %w", err)
	}
	return Marshal(Tx{Body: body, PubKey: key.PubKey().Bytes(), Signature: sig}), nil
}
