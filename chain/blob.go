package chain

import (
	"fmt"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/tenun-chain/tenun/chain/store"
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

// ParseBlobCID checks that s is a CID Tenun stores: CIDv1 with a sha2-256
// multihash, in canonical base32, naming either a raw block (chain.BlobCID
// of the content, or the whole of a file of one chunk) or the dag-pb root of
// a UnixFS file (what `ipfs add --cid-version 1 --raw-leaves` prints for a
// file over one chunk; package blob computes it). Consensus only records
// the CID and the declared size; nodes check content against it.
func ParseBlobCID(s string) (cid.Cid, error) {
	c, err := parseCIDv1SHA256(s)
	if err != nil {
		return cid.Undef, err
	}
	if t := c.Type(); t != cid.Raw && t != cid.DagProtobuf {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: want CIDv1 with the raw or dag-pb codec, not codec 0x%x", s, t)
	}
	return c, nil
}

// ParseRawBlobCID is ParseBlobCID for a single raw block only: its
// multihash is the sha2-256 of the content itself (a compute output's
// digest, say).
func ParseRawBlobCID(s string) (cid.Cid, error) {
	c, err := parseCIDv1SHA256(s)
	if err != nil {
		return cid.Undef, err
	}
	if c.Type() != cid.Raw {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: want CIDv1 with the raw codec (a single block, its hash the content's)", s)
	}
	return c, nil
}

// IsDagCID reports whether c (already parsed) names a UnixFS dag-pb root.
func IsDagCID(c cid.Cid) bool { return c.Type() == cid.DagProtobuf }

func parseCIDv1SHA256(s string) (cid.Cid, error) {
	if len(s) > 128 {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID is %d characters, too long", len(s))
	}
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: %v", s, err)
	}
	if c.Version() != 1 {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: want CIDv1", s)
	}
	dec, err := mh.Decode(c.Hash())
	if err != nil || dec.Code != mh.SHA2_256 || dec.Length != 32 {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: want a sha2-256 multihash", s)
	}
	if c.String() != s {
		return cid.Undef, Wrap(ErrInvalidRequest, "CID %q: not in canonical base32 form (%s)", s, c.String())
	}
	return c, nil
}

// VerifyBlob checks that content is what the raw CID c names (package
// blob's Verify also checks UnixFS dag-pb roots).
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

func blobUsedKey(a Address) []byte { return append([]byte("blob/used/"), a[:]...) }

// BlobBytesUsed is how many bytes of blobs a has registered (and paid for).
func BlobBytesUsed(kv store.KV, a Address) uint64 { return GetUint64(kv, blobUsedKey(a)) }

// StorageFee is what registering size bytes costs under p.
func StorageFee(p Params, size uint64) (uint64, error) {
	if p.StorageFeePerByte != 0 && size > ^uint64(0)/p.StorageFeePerByte {
		return 0, Wrap(ErrInvalidRequest, "storage fee of %d bytes overflows", size)
	}
	return size * p.StorageFeePerByte, nil
}

// registerPaidBlob records a blob for the sender, charging the storage fee
// and counting it against the sender's quota.
func registerPaidBlob(ctx *Context, c string, size uint64) error {
	used := BlobBytesUsed(ctx.KV, ctx.Sender)
	if q := ctx.Params.BlobQuotaBytes; q != 0 && (used > q || size > q-used) {
		return Wrap(ErrInvalidRequest, "blob of %d bytes is over the account's storage quota (%d of %d bytes used)", size, used, q)
	}
	fee, err := StorageFee(ctx.Params, size)
	if err != nil {
		return err
	}
	if fee > 0 {
		if err := Send(ctx, ctx.Sender, FeeCollector, fee); err != nil {
			return Wrap(ErrInsufficientFunds, "storage fee of %d%s for %d bytes: %v", fee, Denom, size, err)
		}
	}
	SetUint64(ctx.module("blob/"), blobUsedKey(ctx.Sender), used+size)
	Put(ctx.module("blob/"), blobKey(c), BlobRecord{CID: c, Owner: ctx.Sender, Size: size, Height: ctx.Block.Height})
	ctx.Emit("blob_register", "cid", c, "owner", ctx.Sender.String(), "size", U64(size), "storage_fee", U64(fee))
	return nil
}

// NoteBlob records content a market's transaction itself carried (a data
// batch's records, a labeling job's results), so nodes keep its blob
// instead of removing it as unregistered. The transaction already paid
// for its bytes, so there is no storage fee; a known CID is left as is.
func NoteBlob(ctx *Context, c string, owner Address, size uint64) {
	if _, ok := GetBlob(ctx, c); ok {
		return
	}
	Put(ctx.module("blob/"), blobKey(c), BlobRecord{CID: c, Owner: owner, Size: size, Height: ctx.Block.Height})
}

// IsBlobRegistered reports whether c has an on-chain record in kv.
func IsBlobRegistered(kv store.KV, c string) bool {
	return kv.Get(blobKey(c)) != nil
}

// BlobUploadSignBytes is what an account signs to upload a blob to a node:
// the chain, the content's CID and size, and the time of the request (nodes
// accept a few minutes of skew). Signing the CID binds the signature to the
// bytes; a replay can only store the same content again.
func BlobUploadSignBytes(chainID, c string, size uint64, unix int64) []byte {
	return []byte(fmt.Sprintf("tenun/blob-put/v1\x00%s\x00%s\x00%d\x00%d", chainID, c, size, unix))
}

// BlobCIDFromMultihash is the CID of content whose sha2-256 multihash is m
// (a store that hashed a stream computes it without the content at hand).
func BlobCIDFromMultihash(m mh.Multihash) string { return cid.NewCidV1(cid.Raw, m).String() }
