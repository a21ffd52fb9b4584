package data

import (
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Derived datasets and scoped access: what the other markets call to build
// on a dataset version. Every function here is called from another market's
// handler, inside its transaction or end-block step; none is a message.

// Label columns a labelled dataset adds after the raw columns.
const (
	LabelColumn      = "label"
	ConfidenceColumn = "confidence_ppm"
)

// Derivation says where a derived version came from: the raw version, the
// job that produced it, and what the job's workers were judged.
type Derivation struct {
	From         string          `json:"from" cbor:"1,keyasint"` // dataset/<id>@<version>
	Job          string          `json:"job" cbor:"2,keyasint"`  // label-job/<id>
	AnnotatorBps uint32          `json:"annotator_bps" cbor:"3,keyasint"`
	Qualities    []WorkerQuality `json:"qualities" cbor:"4,keyasint"`
}

// WorkerQuality is an annotator's standing in the job a version came from.
type WorkerQuality struct {
	Worker   chain.Address `json:"worker" cbor:"1,keyasint"`
	ScorePPM uint32        `json:"score_ppm" cbor:"2,keyasint"`
	Answers  uint32        `json:"answers" cbor:"3,keyasint"` // revealed answers, the weight of its share when paid
	Paid     uint64        `json:"paid" cbor:"4,keyasint"`
}

// Rows returns the first n accepted records of dataset id, in order of
// acceptance (the records a version of count n covers).
func Rows(kv store.KV, id, n uint64) ([][]string, error) {
	out := make([][]string, 0, n)
	err := EachRow(kv, id, n, func(rec []string) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// EachRow calls fn with the first n records of dataset id kept in state,
// in order, one at a time (a reader streams a large version this way).
func EachRow(kv store.KV, id, n uint64, fn func([]string) error) error {
	for i := uint64(0); i < n; i++ {
		var rec []string
		if !chain.Get(kv, rowKey(id, i), &rec) {
			return chain.Wrap(chain.ErrNotFound, "dataset %d: record %d is not in state", id, i)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// HasRows reports whether dataset id keeps its records in state (a
// derived dataset) rather than in its batches' blobs.
func HasRows(kv store.KV, id uint64) bool { return store.Has(kv, rowKey(id, 0)) }

// CanUse checks that a may build on version ver of dataset id: it curates
// the dataset or holds a grant that covers the version.
func CanUse(kv store.KV, id, ver uint64, a chain.Address) (Dataset, Version, error) {
	d, err := GetDataset(kv, id)
	if err != nil {
		return d, Version{}, err
	}
	v, err := GetVersion(kv, id, ver)
	if err != nil {
		return d, v, err
	}
	if d.Owner == a {
		return d, v, nil
	}
	g, ok := HasGrant(kv, id, a)
	switch {
	case !ok:
		return d, v, chain.Wrap(chain.ErrUnauthorized, "%s neither curates dataset %d nor holds a grant to it: buy version %d first", a, id, ver)
	case g.Version < ver:
		return d, v, chain.Wrap(chain.ErrUnauthorized, "%s's grant to dataset %d covers versions up to %d, not %d", a, id, g.Version, ver)
	}
	return d, v, nil
}

// ColumnIndexes maps column names to their positions in d's schema; no
// names means every column.
func ColumnIndexes(d Dataset, names []string) ([]int, error) {
	if len(names) == 0 {
		out := make([]int, len(d.Schema))
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	out := make([]int, 0, len(names))
	for _, n := range names {
		found := -1
		for i, c := range d.Schema {
			if c.Name == n {
				found = i
			}
		}
		if found < 0 {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "dataset %d has no column %q", d.ID, n)
		}
		out = append(out, found)
	}
	return out, nil
}

// Labelled is what a closed labelling job hands the data market.
type Labelled struct {
	Raw          Version // the version the job's items came from
	Job          uint64  // the label job
	Owner        chain.Address
	Name         string
	Labels       []string // the job's label set
	ItemLabels   []int32  // per raw record: index into Labels, -1 for none
	Confidence   []uint32 // per raw record, parts per million
	Price        uint64
	CuratorBps   uint32
	AnnotatorBps uint32 // share of the contributors' pool that goes to the annotators
	Qualities    []WorkerQuality
}

// PublishLabelled creates the labelled dataset of a closed labelling job:
// its one version holds the raw records that got a label, each followed by
// the label and its confidence, so it is training input as it stands. Its
// revenue shares are declared here, once: the raw contributors split
// 10000 - AnnotatorBps of the contributors' pool by their records, the paid
// annotators split AnnotatorBps by their revealed answers (Split pays both
// exactly). Lineage edges to the raw version and the job are recorded. It
// returns the new dataset's id.
func PublishLabelled(ctx *chain.Context, l Labelled) (uint64, error) {
	ctx = ctx.Scoped("data") // called by other markets: write only our own keys
	raw, err := GetDataset(ctx.KV, l.Raw.Dataset)
	if err != nil {
		return 0, err
	}
	if uint64(len(l.ItemLabels)) != l.Raw.Count || len(l.Confidence) != len(l.ItemLabels) {
		return 0, chain.Wrap(chain.ErrInvalidRequest, "labelled result of %d items for a version of %d records", len(l.ItemLabels), l.Raw.Count)
	}
	if l.AnnotatorBps > 10_000 || l.CuratorBps > 10_000 {
		return 0, chain.Wrap(chain.ErrInvalidRequest, "basis points over 10000")
	}
	rows, err := Rows(ctx.KV, raw.ID, l.Raw.Count)
	if err != nil {
		return 0, err
	}
	maxLen := uint32(1)
	for _, s := range l.Labels {
		maxLen = max(maxLen, uint32(len(s)))
	}
	schema := append(append([]Column{}, raw.Schema...),
		Column{Name: LabelColumn, Type: TypeString, Required: true, MaxLen: maxLen, Enum: l.Labels},
		Column{Name: ConfidenceColumn, Type: TypeInt, Required: true, Min: "0", Max: "1000000"})
	name := l.Name
	if len(name) > MaxNameLen {
		name = name[:MaxNameLen]
	}
	id := chain.NextSeq(ctx.KV, keySeq)
	d := Dataset{ID: id, Owner: l.Owner, Name: name, Description: "labelled by label job " + chain.U64(l.Job) + " from " + DatasetRef(raw.ID, l.Raw.Version),
		Schema: schema, License: raw.License, Terms: raw.Terms, Price: l.Price, CuratorBps: l.CuratorBps, Created: ctx.Block.Height}
	hashes := make([]chain.Hash, 0, len(rows))
	for i, rec := range rows {
		if l.ItemLabels[i] < 0 || int(l.ItemLabels[i]) >= len(l.Labels) {
			continue // no answers and no gold: not training input
		}
		out := append(append([]string{}, rec...), l.Labels[l.ItemLabels[i]], chain.U64(uint64(l.Confidence[i])))
		h := RecordHash(out)
		if store.Has(ctx.KV, recKey(id, h)) {
			continue // two raw records cannot be equal; kept for safety
		}
		ctx.KV.Set(recKey(id, h), []byte{1})
		ctx.KV.Set(recOrderKey(id, d.Records), append(append([]byte{}, h[:]...), l.Owner[:]...))
		chain.Put(ctx.KV, rowKey(id, d.Records), out)
		hashes = append(hashes, h)
		d.Records++
	}
	if d.Records == 0 {
		return 0, chain.Wrap(chain.ErrInvalidRequest, "label job %d labelled no item", l.Job)
	}
	v := Version{Dataset: id, Version: 1, Count: d.Records, Root: MerkleRoot(hashes), Height: ctx.Block.Height,
		Note:         "labelled",
		Contributors: labelledShares(l.Raw.Contributors, l.Qualities, l.AnnotatorBps),
		Derivation:   &Derivation{From: DatasetRef(raw.ID, l.Raw.Version), Job: "label-job/" + chain.U64(l.Job), AnnotatorBps: l.AnnotatorBps, Qualities: l.Qualities}}
	v.CID = chain.BlobCID(chain.Marshal(manifest{Dataset: id, Version: 1, Hashes: hashes}))
	d.Versions = 1
	chain.Put(ctx.KV, dsKey(id), d)
	chain.Put(ctx.KV, versionKey(id, 1), v)
	ref := DatasetRef(id, 1)
	if err := RecordEdge(ctx, v.Derivation.From, ref, RelDerived); err != nil {
		return 0, err
	}
	if err := RecordEdge(ctx, v.Derivation.Job, ref, RelLabelled); err != nil {
		return 0, err
	}
	ctx.Emit("data_labelled", "dataset", chain.U64(id), "from", v.Derivation.From, "job", v.Derivation.Job,
		"records", chain.U64(d.Records), "root", v.Root.String())
	return id, nil
}

// labelledShares weighs raw contributors by records and paid annotators by
// answers so that the two groups get exactly 10000 - bps and bps of the pool
// (before Split's rounding): contributor i weighs r_i (10000 - bps) A,
// annotator j weighs a_j bps R, with R and A the totals. At most 2^20
// records x 10^4 x 2^14 answers: no overflow.
func labelledShares(raw []Share, q []WorkerQuality, bps uint32) []Share {
	var r, a uint64
	for _, s := range raw {
		r += s.Records
	}
	for _, w := range q {
		if w.Paid > 0 {
			a += uint64(w.Answers)
		}
	}
	if a == 0 || bps == 0 {
		return append([]Share{}, raw...)
	}
	out := make([]Share, 0, len(raw)+len(q))
	for _, s := range raw {
		if wt := s.Records * uint64(10_000-bps) * a; wt > 0 {
			out = append(out, Share{Contributor: s.Contributor, Records: wt})
		}
	}
	for _, w := range q {
		if wt := uint64(w.Answers) * uint64(bps) * r; w.Paid > 0 && wt > 0 {
			out = append(out, Share{Contributor: w.Worker, Records: wt})
		}
	}
	return out
}

// ScopedGrant lets the holders of a scope (the providers assigned to a
// compute job) read one dataset version until Expires (a height), without a
// grant of their own: compute-to-data, the tenant gets only the result.
type ScopedGrant struct {
	Dataset uint64        `json:"dataset" cbor:"1,keyasint"`
	Version uint64        `json:"version" cbor:"2,keyasint"`
	Scope   string        `json:"scope" cbor:"3,keyasint"` // e.g. compute-job/7
	Tenant  chain.Address `json:"tenant" cbor:"4,keyasint"`
	Expires int64         `json:"expires" cbor:"5,keyasint"`
}

func scopedKey(id uint64, scope string) []byte {
	return append(append([]byte("data/scoped/"), chain.Uint64Bytes(id)...), scope...)
}

// GrantScoped records a scoped grant; tenant must be able to use the version.
func GrantScoped(ctx *chain.Context, id, ver uint64, scope string, tenant chain.Address, expires int64) error {
	ctx = ctx.Scoped("data") // called by other markets: write only our own keys
	if _, _, err := CanUse(ctx.KV, id, ver, tenant); err != nil {
		return err
	}
	if scope == "" || len(scope) > MaxRefLen || strings.ContainsRune(scope, 0) {
		return chain.Wrap(chain.ErrInvalidRequest, "scope %q", scope)
	}
	chain.Put(ctx.KV, scopedKey(id, scope), ScopedGrant{Dataset: id, Version: ver, Scope: scope, Tenant: tenant, Expires: expires})
	ctx.Emit("data_scoped_grant", "dataset", chain.U64(id), "version", chain.U64(ver), "scope", scope, "expires", chain.I64(expires))
	return nil
}

// GetScopedGrant loads the scoped grant of dataset id for scope.
func GetScopedGrant(kv store.KV, id uint64, scope string) (ScopedGrant, bool) {
	var g ScopedGrant
	ok := chain.Get(kv, scopedKey(id, scope), &g)
	return g, ok
}

// ScopeMember reports whether a account belongs to a scope ("compute-job/7")
// in the given state. Markets that hand out scoped grants register one per
// scope kind at init; only the gateway (outside consensus) asks.
type ScopeMember func(kv store.KV, scope string, a chain.Address) bool

var scopeMembers = map[string]ScopeMember{} // written at init only

// RegisterScope registers the membership test of a scope kind.
func RegisterScope(kind string, f ScopeMember) { scopeMembers[kind] = f }

// ScopedAccess reports whether a may read version ver of dataset id under
// scope at height h.
func ScopedAccess(kv store.KV, id, ver uint64, scope string, a chain.Address, h int64) error {
	g, ok := GetScopedGrant(kv, id, scope)
	if !ok || g.Version != ver {
		return chain.Wrap(chain.ErrUnauthorized, "no scoped grant to version %d of dataset %d for %s", ver, id, scope)
	}
	if h >= g.Expires {
		return chain.Wrap(chain.ErrUnauthorized, "the scoped grant of %s expired at height %d", scope, g.Expires)
	}
	kind, _, _ := strings.Cut(scope, "/")
	member := scopeMembers[kind]
	if member == nil || !member(kv, scope, a) {
		return chain.Wrap(chain.ErrUnauthorized, "%s is not part of %s", a, scope)
	}
	return nil
}

// DelegateGrant gives to (a pipeline's account, acting for from) access to
// version ver of dataset id, if from may use it; nothing is paid.
func DelegateGrant(ctx *chain.Context, id, ver uint64, from, to chain.Address) error {
	ctx = ctx.Scoped("data") // called by other markets: write only our own keys
	if _, _, err := CanUse(ctx.KV, id, ver, from); err != nil {
		return err
	}
	if g, ok := HasGrant(ctx.KV, id, to); ok && g.Version >= ver {
		return nil
	}
	chain.Put(ctx.KV, grantKey(id, to), Grant{Dataset: id, Buyer: to, Version: ver, Height: ctx.Block.Height})
	ctx.Emit("data_delegate", "dataset", chain.U64(id), "version", chain.U64(ver), "from", from.String(), "to", to.String())
	return nil
}

// TransferDataset hands a dataset's curation (and its curator revenue) from
// one account to another; the pipeline gives the team the labelled dataset
// its account created.
func TransferDataset(ctx *chain.Context, id uint64, from, to chain.Address) error {
	ctx = ctx.Scoped("data") // called by other markets: write only our own keys
	d, err := GetDataset(ctx.KV, id)
	if err != nil {
		return err
	}
	if d.Owner != from {
		return chain.Wrap(chain.ErrUnauthorized, "dataset %d is curated by %s, not %s", id, d.Owner, from)
	}
	d.Owner = to
	chain.Put(ctx.KV, dsKey(id), d)
	ctx.Emit("data_transfer", "dataset", chain.U64(id), "to", to.String())
	return nil
}
