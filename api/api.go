// Package api holds the request and response types of the node's HTTP API.
// The node serves them; the client, the agents and the CLI decode them. It
// is small on purpose: a client links this package and chain, not the node.
package api

import (
	"encoding/json"

	"github.com/tenun-chain/tenun/chain"
)

// The HTTP API speaks JSON. Errors are {"error": "...", "code": N} with an
// HTTP status that matches (400 bad input, 404 unknown, 422 rejected tx).

// TxResponse is the API's answer to a submitted transaction.
type TxResponse struct {
	Hash   string        `json:"hash"`
	Code   uint32        `json:"code"`
	Log    string        `json:"log"`
	Height int64         `json:"height,omitempty"`
	Events []chain.Event `json:"events,omitempty"`
}

// TxInfo is a committed transaction with its decoded body and result.
type TxInfo struct {
	Hash     string          `json:"hash"`
	Height   int64           `json:"height"`
	Index    uint32          `json:"index"`
	Code     uint32          `json:"code"`
	Log      string          `json:"log"`
	Sender   chain.Address   `json:"sender"`
	ChainID  string          `json:"chain_id"`
	Sequence uint64          `json:"sequence"`
	Fee      uint64          `json:"fee"`
	Type     string          `json:"type"`
	Msg      json.RawMessage `json:"msg"`
	Memo     string          `json:"memo,omitempty"`
	Events   []chain.Event   `json:"events"`
}

// BlockInfo summarises a block.
type BlockInfo struct {
	Height   int64    `json:"height"`
	Time     string   `json:"time"`
	Hash     string   `json:"hash"`
	AppHash  string   `json:"app_hash"` // state after the previous block
	Proposer string   `json:"proposer"`
	Txs      []string `json:"txs"`
}

// Status is the node's view of the chain.
type Status struct {
	ChainID      string `json:"chain_id"`
	Height       int64  `json:"height"`
	AppHash      string `json:"app_hash"`
	APIAddr      string `json:"api_addr"`
	RPCAddr      string `json:"rpc_addr"`
	CatchingUp   bool   `json:"catching_up"`
	NodeID       string `json:"node_id"`
	ValidatorCnt int    `json:"validators"`
}

// SubmitRequest is the JSON form of POST /tx (raw bytes with
// Content-Type application/octet-stream are accepted too).
type SubmitRequest struct {
	Tx string `json:"tx"` // base64 of the signed transaction
}

// Balance is the answer of GET /accounts/{addr}/balance.
type Balance struct {
	Address chain.Address `json:"address"`
	Balance uint64        `json:"balance"`
	Denom   string        `json:"denom"`
	Height  int64         `json:"height"`
}

// Headers of a signed POST /blobs (see chain.BlobUploadSignBytes): the
// account that pays the storage fee signs the chain id, CID, size and time.
const (
	HeaderBlobSigner    = "Tenun-Blob-Signer"    // hex ed25519 public key of the paying account
	HeaderBlobSignature = "Tenun-Blob-Signature" // hex signature
	HeaderBlobTime      = "Tenun-Blob-Time"      // unix seconds
	HeaderBlobCID       = "Tenun-Blob-CID"       // the content's CID
	// HeaderBlobSize is the whole blob's size when the body is only its
	// tail (a resumed upload); without it the body is the whole blob.
	HeaderBlobSize = "Tenun-Blob-Size"
	// HeaderBlobOffset is where a resumed upload's body starts: the
	// Offset that GET /blobs/{cid}/upload reports.
	HeaderBlobOffset = "Tenun-Blob-Offset"
)

// BlobUpload is the answer of GET /blobs/{cid}/upload?uploader=ADDR: how
// much of an interrupted upload the node holds, where it resumes.
type BlobUpload struct {
	CID      string `json:"cid"`
	Uploader string `json:"uploader"`
	Offset   int64  `json:"offset"`
	Stored   bool   `json:"stored"` // the node holds the whole blob
}

// BlobPut is the answer of POST /blobs.
type BlobPut struct {
	CID  string `json:"cid"`
	Size int64  `json:"size"`
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
	Code  uint32 `json:"code"`
}
