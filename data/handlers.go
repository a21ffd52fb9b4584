package data

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

func create(ctx *chain.Context, m *MsgCreate) error {
	id := chain.NextSeq(ctx.KV, keySeq)
	d := Dataset{
		ID: id, Owner: ctx.Sender, Name: m.Name, Description: m.Description, Schema: m.Schema,
		License: m.License, Terms: m.Terms, Price: m.Price, CuratorBps: m.CuratorBps,
		MaxBatch: m.MaxBatch, RateLimit: m.RateLimit, RateWindow: m.RateWindow, Created: ctx.Block.Height,
	}
	chain.Put(ctx.KV, dsKey(id), d)
	ctx.Emit("data_create", "dataset", chain.U64(id), "owner", ctx.Sender.String(), "name", m.Name)
	return nil
}

func contribute(ctx *chain.Context, m *MsgContribute) error {
	d, err := GetDataset(ctx.KV, m.Dataset)
	if err != nil {
		return err
	}
	if len(m.Records) > int(d.MaxBatch) {
		return chain.Wrap(chain.ErrInvalidRequest, "batch of %d records is over dataset %d's limit of %d", len(m.Records), d.ID, d.MaxBatch)
	}
	// The rate window restarts when a contributor's last window has passed.
	var rw rateWindow
	chain.Get(ctx.KV, rateKey(d.ID, ctx.Sender), &rw)
	if d.RateLimit > 0 && ctx.Block.Height >= rw.Start+d.RateWindow {
		rw = rateWindow{Start: ctx.Block.Height}
	}
	enc := EncodeBatch(m.Records)
	b := Batch{Seq: d.Batches + 1, CID: chain.BlobCID(enc), Contributor: ctx.Sender, Height: ctx.Block.Height}
	// The records came in this transaction: nodes keep the batch's blob.
	chain.NoteBlob(ctx, b.CID, ctx.Sender, uint64(len(enc)))
	inBatch := map[chain.Hash]bool{} // lookups only: never ranged over
	for i, rec := range m.Records {
		reason := ValidateRecord(d.Schema, rec)
		h := RecordHash(rec)
		switch {
		case reason != "":
		case inBatch[h] || store.Has(ctx.KV, recKey(d.ID, h)):
			reason = "duplicate of a record already in the dataset"
		case d.RateLimit > 0 && rw.Count >= uint64(d.RateLimit):
			reason = fmt.Sprintf("rate limit: %d records per %d blocks", d.RateLimit, d.RateWindow)
		}
		if reason != "" {
			b.Rejected = append(b.Rejected, Rejection{Index: uint32(i), Reason: reason})
			continue
		}
		inBatch[h] = true
		rw.Count++
		ctx.KV.Set(recKey(d.ID, h), []byte{1})
		ctx.KV.Set(recOrderKey(d.ID, d.Records), append(append([]byte{}, h[:]...), ctx.Sender[:]...))
		// The record itself stays in state so that derived datasets (a
		// labelling job's items, a labelled version) are built by the chain.
		chain.Put(ctx.KV, rowKey(d.ID, d.Records), rec)
		d.Records++
		b.Accepted = append(b.Accepted, uint32(i))
	}
	if len(b.Accepted) == 0 {
		reasons := make([]string, 0, 3)
		for i, r := range b.Rejected {
			if i == 3 {
				reasons = append(reasons, fmt.Sprintf("and %d more", len(b.Rejected)-3))
				break
			}
			reasons = append(reasons, fmt.Sprintf("record %d: %s", r.Index, r.Reason))
		}
		return chain.Wrap(chain.ErrInvalidRequest, "no record accepted: %s", strings.Join(reasons, "; "))
	}
	share := chain.GetUint64(ctx.KV, shareKey(d.ID, ctx.Sender)) + uint64(len(b.Accepted))
	chain.SetUint64(ctx.KV, shareKey(d.ID, ctx.Sender), share)
	if d.RateLimit > 0 {
		chain.Put(ctx.KV, rateKey(d.ID, ctx.Sender), rw)
	}
	d.Batches = b.Seq
	chain.Put(ctx.KV, batchKey(d.ID, b.Seq), b)
	chain.Put(ctx.KV, dsKey(d.ID), d)
	ctx.Emit("data_contribute", "dataset", chain.U64(d.ID), "contributor", ctx.Sender.String(), "batch", chain.U64(b.Seq),
		"cid", b.CID, "accepted", strconv.Itoa(len(b.Accepted)), "rejected", strconv.Itoa(len(b.Rejected)))
	for _, r := range b.Rejected {
		ctx.Emit("data_reject", "dataset", chain.U64(d.ID), "batch", chain.U64(b.Seq), "index", strconv.Itoa(int(r.Index)), "reason", r.Reason)
	}
	return nil
}

// manifest is the content of a version's CID: which records, in order.
type manifest struct {
	Dataset uint64       `cbor:"1,keyasint"`
	Version uint64       `cbor:"2,keyasint"`
	Hashes  []chain.Hash `cbor:"3,keyasint"`
}

func snapshot(ctx *chain.Context, m *MsgSnapshot) error {
	d, err := GetDataset(ctx.KV, m.Dataset)
	if err != nil {
		return err
	}
	if d.Owner != ctx.Sender {
		return chain.Wrap(chain.ErrUnauthorized, "only the curator %s may snapshot dataset %d", d.Owner, d.ID)
	}
	if d.Records == 0 {
		return chain.Wrap(chain.ErrInvalidRequest, "dataset %d has no accepted records to snapshot", d.ID)
	}
	hashes := make([]chain.Hash, 0, d.Records)
	ctx.KV.Iterate(recOrderPrefix(d.ID), func(_, v []byte) bool {
		hashes = append(hashes, chain.Hash(v[:32]))
		return true
	})
	v := Version{Dataset: d.ID, Version: d.Versions + 1, Count: uint64(len(hashes)), Root: MerkleRoot(hashes),
		Height: ctx.Block.Height, Note: m.Note, Batches: d.Batches}
	v.CID = chain.BlobCID(chain.Marshal(manifest{Dataset: d.ID, Version: v.Version, Hashes: hashes}))
	ctx.KV.Iterate(sharePrefix(d.ID), func(k, val []byte) bool {
		var a chain.Address
		copy(a[:], k[len(sharePrefix(d.ID)):])
		v.Contributors = append(v.Contributors, Share{Contributor: a, Records: binary.BigEndian.Uint64(val)})
		return true
	})
	d.Versions = v.Version
	chain.Put(ctx.KV, versionKey(d.ID, v.Version), v)
	chain.Put(ctx.KV, dsKey(d.ID), d)
	ctx.Emit("data_snapshot", "dataset", chain.U64(d.ID), "version", chain.U64(v.Version), "count", chain.U64(v.Count),
		"root", v.Root.String(), "cid", v.CID)
	return nil
}

// Split divides a sale's price: the curator takes CuratorBps of it; the rest
// goes to contributors in proportion to their accepted records, each share
// rounded down to the utnn; the rounding remainder goes to the curator. The
// parts always add up to the price exactly.
func Split(price uint64, curatorBps uint32, shares []Share) (curator uint64, paid []uint64) {
	var total uint64
	for _, s := range shares {
		total += s.Records
	}
	curator = chain.MulDiv(price, uint64(curatorBps), 10_000)
	pool := price - curator
	paid = make([]uint64, len(shares))
	if total == 0 {
		return price, paid
	}
	var sum uint64
	for i, s := range shares {
		paid[i] = chain.MulDiv(pool, s.Records, total)
		sum += paid[i]
	}
	return curator + (pool - sum), paid
}

func buy(ctx *chain.Context, m *MsgBuy) error {
	d, err := GetDataset(ctx.KV, m.Dataset)
	if err != nil {
		return err
	}
	v, err := GetVersion(ctx.KV, d.ID, m.Version)
	if err != nil {
		return err
	}
	var g Grant
	if chain.Get(ctx.KV, grantKey(d.ID, ctx.Sender), &g) {
		return chain.Wrap(chain.ErrConflict, "%s already holds a grant to dataset %d (version %d)", ctx.Sender, d.ID, g.Version)
	}
	if bal := chain.Balance(ctx.KV, ctx.Sender); bal < d.Price {
		return chain.Wrap(chain.ErrInsufficientFunds, "dataset %d costs %d utnn, %s has %d", d.ID, d.Price, ctx.Sender, bal)
	}
	curator, paid := Split(d.Price, d.CuratorBps, v.Contributors)
	for i, s := range v.Contributors {
		if err := chain.Send(ctx, ctx.Sender, s.Contributor, paid[i]); err != nil {
			return err
		}
	}
	if err := chain.Send(ctx, ctx.Sender, d.Owner, curator); err != nil {
		return err
	}
	g = Grant{Dataset: d.ID, Buyer: ctx.Sender, Version: v.Version, Paid: d.Price, Height: ctx.Block.Height}
	chain.Put(ctx.KV, grantKey(d.ID, ctx.Sender), g)
	d.Revenue += d.Price
	chain.Put(ctx.KV, dsKey(d.ID), d)
	ctx.Emit("data_buy", "dataset", chain.U64(d.ID), "version", chain.U64(v.Version), "buyer", ctx.Sender.String(), "price", chain.U64(d.Price))
	return nil
}

// HasGrant reports whether a holds paid access to dataset id, and to which version.
func HasGrant(kv store.KV, id uint64, a chain.Address) (Grant, bool) {
	var g Grant
	ok := chain.Get(kv, grantKey(id, a), &g)
	return g, ok
}
