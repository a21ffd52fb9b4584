package data

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

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
	Dataset      uint64  `json:"dataset" cbor:"1,keyasint"`
	Version      uint64  `json:"version" cbor:"2,keyasint"`
	Count        uint64  `json:"count" cbor:"3,keyasint"`
	Root         []byte  `json:"root" cbor:"4,keyasint"`
	CID          string  `json:"cid" cbor:"5,keyasint"`
	Height       int64   `json:"height" cbor:"6,keyasint"`
	Note         string  `json:"note,omitempty" cbor:"7,keyasint,omitempty"`
	Contributors []Share `json:"contributors" cbor:"8,keyasint"`
	Batches      uint64  `json:"batches" cbor:"9,keyasint"` // batches that make up the version
}

// Grant is an account's paid access to a dataset version.
type Grant struct {
	Dataset uint64        `json:"dataset" cbor:"1,keyasint"`
	Buyer   chain.Address `json:"buyer" cbor:"2,keyasint"`
	Version uint64        `json:"version" cbor:"3,keyasint"`
	Paid    uint64        `json:"paid" cbor:"4,keyasint"`
	Height  int64         `json:"height" cbor:"5,keyasint"`
}

// Edge is one lineage link.
type Edge struct {
	From     string        `json:"from" cbor:"1,keyasint"`
	To       string        `json:"to" cbor:"2,keyasint"`
	Relation string        `json:"relation" cbor:"3,keyasint"`
	Actor    chain.Address `json:"actor" cbor:"4,keyasint"`
	Height   int64         `json:"height" cbor:"5,keyasint"`
}

type rateWindow struct {
	Start int64  `cbor:"1,keyasint"`
	Count uint64 `cbor:"2,keyasint"`
}

// Keys. Dataset ids are 8-byte big-endian so prefixes sort by id.
var keySeq = []byte("data/seq")

func dsKey(id uint64) []byte { return append([]byte("data/ds/"), chain.Uint64Bytes(id)...) }
func recKey(id uint64, h []byte) []byte {
	return append(append([]byte("data/rec/"), chain.Uint64Bytes(id)...), h...)
}
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

var (
	prefixEdge = []byte("data/edge/")
	keyEdgeSeq = []byte("data/edgeseq")
)

// GetDataset loads a dataset.
func GetDataset(kv store.KV, id uint64) (Dataset, error) {
	var d Dataset
	if !chain.Get(kv, dsKey(id), &d) {
		return d, chain.Wrap(chain.ErrNotFound, "dataset %d", id)
	}
	return d, nil
}

// RecordHash identifies a record's content for de-duplication and Merkle
// roots: sha256 of its canonical encoding.
func RecordHash(rec []string) []byte {
	h := sha256.Sum256(chain.Marshal(rec))
	return h[:]
}

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
	inBatch := map[string]bool{} // lookups only: never ranged over
	for i, rec := range m.Records {
		reason := ValidateRecord(d.Schema, rec)
		h := RecordHash(rec)
		switch {
		case reason != "":
		case inBatch[string(h)] || store.Has(ctx.KV, recKey(d.ID, h)):
			reason = "duplicate of a record already in the dataset"
		case d.RateLimit > 0 && rw.Count >= uint64(d.RateLimit):
			reason = fmt.Sprintf("rate limit: %d records per %d blocks", d.RateLimit, d.RateWindow)
		}
		if reason != "" {
			b.Rejected = append(b.Rejected, Rejection{Index: uint32(i), Reason: reason})
			continue
		}
		inBatch[string(h)] = true
		rw.Count++
		ctx.KV.Set(recKey(d.ID, h), []byte{1})
		ctx.KV.Set(recOrderKey(d.ID, d.Records), append(append([]byte{}, h...), ctx.Sender[:]...))
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

// MerkleRoot is the root of a binary sha256 tree over leaves (hashes); an
// odd node at a level is promoted unchanged. Leaves and inner nodes are
// domain-separated so a leaf cannot pose as an inner node.
func MerkleRoot(leaves [][]byte) []byte {
	if len(leaves) == 0 {
		h := sha256.Sum256(nil)
		return h[:]
	}
	level := make([][]byte, len(leaves))
	for i, l := range leaves {
		h := sha256.Sum256(append([]byte{0}, l...))
		level[i] = h[:]
	}
	for len(level) > 1 {
		next := make([][]byte, 0, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			h := sha256.New()
			h.Write([]byte{1})
			h.Write(level[i])
			h.Write(level[i+1])
			next = append(next, h.Sum(nil))
		}
		level = next
	}
	return level[0]
}

// manifest is the content of a version's CID: which records, in order.
type manifest struct {
	Dataset uint64   `cbor:"1,keyasint"`
	Version uint64   `cbor:"2,keyasint"`
	Hashes  [][]byte `cbor:"3,keyasint"`
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
	hashes := make([][]byte, 0, d.Records)
	ctx.KV.Iterate(recOrderPrefix(d.ID), func(_, v []byte) bool {
		hashes = append(hashes, append([]byte{}, v[:32]...))
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
		"root", fmt.Sprintf("%x", v.Root), "cid", v.CID)
	return nil
}

// GetVersion loads a dataset version.
func GetVersion(kv store.KV, id, ver uint64) (Version, error) {
	var v Version
	if !chain.Get(kv, versionKey(id, ver), &v) {
		return v, chain.Wrap(chain.ErrNotFound, "dataset %d has no version %d", id, ver)
	}
	return v, nil
}

// GetBatch loads a dataset's batch by sequence number.
func GetBatch(kv store.KV, id, seq uint64) (Batch, bool) {
	var b Batch
	ok := chain.Get(kv, batchKey(id, seq), &b)
	return b, ok
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

func validateRef(r string) error {
	if len(r) == 0 || len(r) > MaxRefLen {
		return chain.Wrap(chain.ErrInvalidRequest, "reference must be 1 to %d characters", MaxRefLen)
	}
	kind, rest, ok := strings.Cut(r, "/")
	if !ok || rest == "" {
		return chain.Wrap(chain.ErrInvalidRequest, "reference %q: want kind/id", r)
	}
	switch kind {
	case "dataset":
		if _, _, err := parseDatasetRef(r); err != nil {
			return err
		}
	case "model", "blob", "label-job", "compute-job":
	default:
		return chain.Wrap(chain.ErrInvalidRequest, "reference %q: kind must be dataset, model, blob, label-job or compute-job", r)
	}
	return nil
}

func parseDatasetRef(r string) (uint64, uint64, error) {
	idv, ok := strings.CutPrefix(r, "dataset/")
	id, ver, ok2 := strings.Cut(idv, "@")
	if !ok || !ok2 {
		return 0, 0, chain.Wrap(chain.ErrInvalidRequest, "reference %q: want dataset/<id>@<version>", r)
	}
	i, err1 := strconv.ParseUint(id, 10, 64)
	v, err2 := strconv.ParseUint(ver, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, chain.Wrap(chain.ErrInvalidRequest, "reference %q: want dataset/<id>@<version>", r)
	}
	return i, v, nil
}

func link(ctx *chain.Context, m *MsgLink) error {
	for _, r := range []string{m.From, m.To} {
		if strings.HasPrefix(r, "dataset/") {
			id, ver, _ := parseDatasetRef(r)
			if _, err := GetVersion(ctx.KV, id, ver); err != nil {
				return err
			}
		}
	}
	seq := chain.NextSeq(ctx.KV, keyEdgeSeq)
	chain.Put(ctx.KV, append(append([]byte{}, prefixEdge...), chain.Uint64Bytes(seq)...), Edge{From: m.From, To: m.To, Relation: m.Relation, Actor: ctx.Sender, Height: ctx.Block.Height})
	ctx.Emit("data_link", "from", m.From, "to", m.To, "relation", m.Relation)
	return nil
}

// Edges lists every lineage edge in order of recording.
func Edges(kv store.KV) []Edge {
	var out []Edge
	chain.Each(kv, prefixEdge, func(_ []byte, e Edge) bool {
		out = append(out, e)
		return true
	})
	return out
}

// Trace walks lineage backwards from ref and returns every ancestor edge and
// the contributors of every dataset version it reaches: who stands behind a
// trained model.
func Trace(kv store.KV, ref string) (edges []Edge, versions []Version) {
	all := Edges(kv)
	seen := map[string]bool{ref: true}
	frontier := []string{ref}
	for len(frontier) > 0 {
		cur := frontier[0]
		frontier = frontier[1:]
		if strings.HasPrefix(cur, "dataset/") {
			if id, ver, err := parseDatasetRef(cur); err == nil {
				if v, err := GetVersion(kv, id, ver); err == nil {
					versions = append(versions, v)
				}
			}
		}
		for _, e := range all {
			if e.To == cur {
				edges = append(edges, e)
				if !seen[e.From] {
					seen[e.From] = true
					frontier = append(frontier, e.From)
				}
			}
		}
	}
	return edges, versions
}
