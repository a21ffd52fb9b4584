package data

import (
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Dataset is a dataset's on-chain record.
type Dataset struct {
	ID          uint64        `json:"id" cbor:"1,keyasint"`
	Owner       chain.Address `json:"owner" cbor:"2,keyasint"`
	Name        string        `json:"name" cbor:"3,keyasint"`
	Description string        `json:"description" cbor:"4,keyasint"`
	Schema      []Column      `json:"schema" cbor:"5,keyasint"`
	License     string        `json:"license" cbor:"6,keyasint"`
	Terms       string        `json:"terms" cbor:"7,keyasint"`
	Price       uint64        `json:"price" cbor:"8,keyasint"`
	CuratorBps  uint32        `json:"curator_bps" cbor:"9,keyasint"`
	MaxBatch    uint32        `json:"max_batch" cbor:"10,keyasint"`
	RateLimit   uint32        `json:"rate_limit" cbor:"11,keyasint"`
	RateWindow  int64         `json:"rate_window" cbor:"12,keyasint"`
	Records     uint64        `json:"records" cbor:"13,keyasint"` // accepted so far
	Batches     uint64        `json:"batches" cbor:"14,keyasint"`
	Versions    uint64        `json:"versions" cbor:"15,keyasint"`
	Revenue     uint64        `json:"revenue" cbor:"16,keyasint"`
	Created     int64         `json:"created" cbor:"17,keyasint"`
}

// Rejection says why one record of a batch was not accepted.
type Rejection struct {
	Index  uint32 `json:"index" cbor:"1,keyasint"`
	Reason string `json:"reason" cbor:"2,keyasint"`
}

// Batch is one contribution.
type Batch struct {
	Seq         uint64        `json:"seq" cbor:"1,keyasint"`
	CID         string        `json:"cid" cbor:"2,keyasint"`
	Contributor chain.Address `json:"contributor" cbor:"3,keyasint"`
	Height      int64         `json:"height" cbor:"4,keyasint"`
	Accepted    []uint32      `json:"accepted" cbor:"5,keyasint"` // indexes into the batch
	Rejected    []Rejection   `json:"rejected" cbor:"6,keyasint"`
}

// Share is a contributor's accepted record count.
type Share struct {
	Contributor chain.Address `json:"contributor" cbor:"1,keyasint"`
	Records     uint64        `json:"records" cbor:"2,keyasint"`
}

// Version is a snapshot: the first Count accepted records, committed by a
// Merkle root over their hashes and the CID of its manifest.
type Version struct {
	Dataset      uint64     `json:"dataset" cbor:"1,keyasint"`
	Version      uint64     `json:"version" cbor:"2,keyasint"`
	Count        uint64     `json:"count" cbor:"3,keyasint"`
	Root         chain.Hash `json:"root" cbor:"4,keyasint"`
	CID          string     `json:"cid" cbor:"5,keyasint"`
	Height       int64      `json:"height" cbor:"6,keyasint"`
	Note         string     `json:"note,omitempty" cbor:"7,keyasint,omitempty"`
	Contributors []Share    `json:"contributors" cbor:"8,keyasint"`
	Batches      uint64     `json:"batches" cbor:"9,keyasint"` // batches that make up the version
	// Derivation is set on a version the chain derived from another (a
	// labelled version); its records are in state, not in batch blobs.
	Derivation *Derivation `json:"derivation,omitempty" cbor:"10,keyasint,omitempty"`
}

// Grant is an account's paid access to a dataset version.
type Grant struct {
	Dataset uint64        `json:"dataset" cbor:"1,keyasint"`
	Buyer   chain.Address `json:"buyer" cbor:"2,keyasint"`
	Version uint64        `json:"version" cbor:"3,keyasint"`
	Paid    uint64        `json:"paid" cbor:"4,keyasint"`
	Height  int64         `json:"height" cbor:"5,keyasint"`
}

type rateWindow struct {
	Start int64  `cbor:"1,keyasint"`
	Count uint64 `cbor:"2,keyasint"`
}

// Keys. Dataset ids are 8-byte big-endian so prefixes sort by id.
var keySeq = []byte("data/seq")

func dsKey(id uint64) []byte { return append([]byte("data/ds/"), chain.Uint64Bytes(id)...) }
func recKey(id uint64, h chain.Hash) []byte {
	return append(append([]byte("data/rec/"), chain.Uint64Bytes(id)...), h[:]...)
}
func rowPrefix(id uint64) []byte      { return append([]byte("data/row/"), chain.Uint64Bytes(id)...) }
func rowKey(id, n uint64) []byte      { return append(rowPrefix(id), chain.Uint64Bytes(n)...) }
func recOrderPrefix(id uint64) []byte { return append([]byte("data/rh/"), chain.Uint64Bytes(id)...) }
func recOrderKey(id, n uint64) []byte { return append(recOrderPrefix(id), chain.Uint64Bytes(n)...) }
func batchPrefix(id uint64) []byte    { return append([]byte("data/batch/"), chain.Uint64Bytes(id)...) }
func batchKey(id, n uint64) []byte    { return append(batchPrefix(id), chain.Uint64Bytes(n)...) }
func sharePrefix(id uint64) []byte    { return append([]byte("data/share/"), chain.Uint64Bytes(id)...) }
func shareKey(id uint64, a chain.Address) []byte {
	return append(sharePrefix(id), a[:]...)
}
func rateKey(id uint64, a chain.Address) []byte {
	return append(append([]byte("data/rate/"), chain.Uint64Bytes(id)...), a[:]...)
}
func versionPrefix(id uint64) []byte { return append([]byte("data/ver/"), chain.Uint64Bytes(id)...) }
func versionKey(id, v uint64) []byte { return append(versionPrefix(id), chain.Uint64Bytes(v)...) }
func grantPrefix(id uint64) []byte   { return append([]byte("data/grant/"), chain.Uint64Bytes(id)...) }
func grantKey(id uint64, a chain.Address) []byte {
	return append(grantPrefix(id), a[:]...)
}

// GetDataset loads a dataset.
func GetDataset(kv store.KV, id uint64) (Dataset, error) {
	var d Dataset
	if !chain.Get(kv, dsKey(id), &d) {
		return d, chain.Wrap(chain.ErrNotFound, "dataset %d", id)
	}
	return d, nil
}

// GetBatch loads a dataset's batch by sequence number.
func GetBatch(kv store.KV, id, seq uint64) (Batch, bool) {
	var b Batch
	ok := chain.Get(kv, batchKey(id, seq), &b)
	return b, ok
}

// GetVersion loads a dataset version.
func GetVersion(kv store.KV, id, ver uint64) (Version, error) {
	var v Version
	if !chain.Get(kv, versionKey(id, ver), &v) {
		return v, chain.Wrap(chain.ErrNotFound, "dataset %d has no version %d", id, ver)
	}
	return v, nil
}
