package chain

import (
	"fmt"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// Blobs (files, datasets, WASM modules, models) are stored off the state, on
// the node's disk, by content. The chain records which CIDs exist, who
// registered them and how large they are, so markets can refuse an unknown
// CID and everyone agrees on the bytes a CID names.

// BlobRecord is the on-chain entry of one blob.
type BlobRecord struct {
	CID    string  `json:"cid" cbor:"1,keyasint"`
	Owner  Address `json:"owner" cbor:"2,keyasint"`
	Size   uint64  `json:"size" cbor:"3,keyasint"`
	Height int64   `json:"height" cbor:"4,keyasint"`
}

func blobKey(c string) []byte { return []byte("blob/" + c) }

// BlobCID computes the CID of content: CIDv1, raw codec, sha2-256. It is what
// `ipfs add --cid-version 1 --raw-leaves` prints for content of one block
// (up to 256 KiB with default chunking), and what `ipfs block put
// --cid-codec raw --mhtype sha2-256` prints for any size it accepts.
func BlobCID(content []byte) string {
	sum, err := mh.Sum(content, mh.SHA2_256, -1)
	if err != nil {
		panic(err) // sha2-256 is always available
	}
	return cid.NewCidV1(cid.Raw, sum).String()
}

// ParseBlobCID checks that s is a CID Tenun stores: v1, raw, sha2-256.
func ParseBlobCID(s string) (cid.Cid, error) {
	if len(s) > 128 {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID is %d characters, too long", len(s))
	}
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: %v", s, err)
	}
	if c.Version() != 1 || c.Type() != cid.Raw {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: want CIDv1 with the raw codec", s)
	}
	dec, err := mh.Decode(c.Hash())
	if err != nil || dec.Code != mh.SHA2_256 {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: want a sha2-256 multihash", s)
	}
	if c.String() != s {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: not in canonical base32 form (%s)", s, c.String())
	}
	return c, nil
}

// VerifyBlob checks that content is what c names.
func VerifyBlob(c string, content []byte) error {
	if got := BlobCID(content); got != c {
		return fmt.Errorf("blob %s: content hashes to %s", c, got)
	}
	return nil
}

// GetBlob returns the record of a registered blob.
func GetBlob(ctx *Context, c string) (BlobRecord, bool) {
	var r BlobRecord
	ok := Get(ctx.KV, blobKey(c), &r)
	return r, ok
}

// RequireBlob fails with a clear error when c is not registered.
func RequireBlob(ctx *Context, c string) (BlobRecord, error) {
	if _, err := ParseBlobCID(c); err != nil {
		return BlobRecord{}, err
	}
	r, ok := GetBlob(ctx, c)
	if !ok {
		return r, Wrap(ErrNotFound, "blob %s is not registered on chain", c)
	}
	return r, nil
}
