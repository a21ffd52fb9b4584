package data

import (
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Lineage is written by the chain: each edge is recorded by the transaction
// (or end-block step) that creates the relation it names, through
// RecordEdge, which markets call from their own handlers (a labelling job
// over a version, a labelled version out of a job, a compute job over a
// version, a model out of a job). An edge someone asserts with data/link is
// kept apart as an unverified claim: Trace never follows it, and queries
// show it beside the tree, marked as such.

// Relations the markets record.
const (
	RelLabels   = "labels"   // dataset version -> label job that shows its records
	RelLabelled = "labelled" // label job -> the labelled version it produced
	RelDerived  = "derived"  // raw version -> the labelled version built from it
	RelInput    = "input"    // dataset version -> compute job that reads it
	RelOutput   = "output"   // compute job -> its output blob
	RelModel    = "model"    // output blob -> the committed model
	RelClaim    = "claim"    // model -> a verified claim about it
	RelServes   = "serves"   // model -> subnet that serves it
)

// Edge is one lineage link: To was derived from From by Relation, recorded
// at Height by the transaction Actor signed (zero for an end-block step).
type Edge struct {
	From     string        `json:"from" cbor:"1,keyasint"`
	To       string        `json:"to" cbor:"2,keyasint"`
	Relation string        `json:"relation" cbor:"3,keyasint"`
	Actor    chain.Address `json:"actor" cbor:"4,keyasint"`
	Height   int64         `json:"height" cbor:"5,keyasint"`
	Verified bool          `json:"verified" cbor:"6,keyasint"`
}

var (
	prefixEdge   = []byte("data/edge/")  // verified, by target: <len><to><seq>
	prefixClaim  = []byte("data/claim/") // unverified, by target
	keyEdgeSeq   = []byte("data/edgeseq")
	maxEdgesRead = 4096 // bounds one Trace
)

func edgeKey(prefix []byte, to string, seq uint64) []byte {
	k := append(append([]byte{}, prefix...), byte(len(to)))
	k = append(k, to...)
	return append(k, chain.Uint64Bytes(seq)...)
}

func edgePrefix(prefix []byte, to string) []byte {
	return append(append(append([]byte{}, prefix...), byte(len(to))), to...)
}

// DatasetRef names a dataset version in lineage.
func DatasetRef(id, version uint64) string {
	return "dataset/" + chain.U64(id) + "@" + chain.U64(version)
}

// RecordEdge records a verified lineage edge. Markets call it from the
// handler that creates the relation; nothing a user sends reaches it.
func RecordEdge(ctx *chain.Context, from, to, relation string) error {
	ctx = ctx.Scoped("data") // called by other markets: write only our own keys
	for _, r := range []string{from, to} {
		if err := validateRef(r); err != nil {
			return err
		}
	}
	seq := chain.NextSeq(ctx.KV, keyEdgeSeq)
	chain.Put(ctx.KV, edgeKey(prefixEdge, to, seq), Edge{From: from, To: to, Relation: relation, Actor: ctx.Sender, Height: ctx.Block.Height, Verified: true})
	ctx.Emit("data_lineage", "from", from, "to", to, "relation", relation)
	return nil
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
	case "model", "blob", "label-job", "compute-job", "claim", "subnet", "pipeline":
	default:
		return chain.Wrap(chain.ErrInvalidRequest, "reference %q: kind must be dataset, model, blob, label-job, compute-job, claim, subnet or pipeline", r)
	}
	return nil
}

// ParseDatasetRef reads "dataset/<id>@<version>".
func ParseDatasetRef(r string) (uint64, uint64, error) { return parseDatasetRef(r) }

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

// link keeps a hand-made edge as an unverified claim, apart from the
// chain's lineage: anyone may say a model came from a dataset, but only the
// transactions that create a relation write it into the tree. A claim
// about a dataset version must at least name one that exists.
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
	chain.Put(ctx.KV, edgeKey(prefixClaim, m.To, seq), Edge{From: m.From, To: m.To, Relation: m.Relation, Actor: ctx.Sender, Height: ctx.Block.Height})
	ctx.Emit("data_link", "from", m.From, "to", m.To, "relation", m.Relation, "verified", "false")
	return nil
}

func edgesTo(kv store.KV, prefix []byte, to string, limit int) []Edge {
	var out []Edge
	chain.Each(kv, edgePrefix(prefix, to), func(_ []byte, e Edge) bool {
		out = append(out, e)
		return len(out) < limit
	})
	return out
}

// EdgesTo lists the verified edges into ref, in order of recording.
func EdgesTo(kv store.KV, ref string) []Edge { return edgesTo(kv, prefixEdge, ref, maxEdgesRead) }

// ClaimsTo lists the unverified claims into ref.
func ClaimsTo(kv store.KV, ref string) []Edge { return edgesTo(kv, prefixClaim, ref, maxEdgesRead) }

// Trace walks the verified lineage backwards from ref and returns every
// ancestor edge, the dataset versions it reaches (with their contributors)
// and, apart, the unverified claims made about any node of the tree.
func Trace(kv store.KV, ref string) (edges []Edge, versions []Version, claims []Edge) {
	seen := map[string]bool{ref: true} // lookups only
	frontier := []string{ref}
	for len(frontier) > 0 && len(edges) < maxEdgesRead {
		cur := frontier[0]
		frontier = frontier[1:]
		if strings.HasPrefix(cur, "dataset/") {
			if id, ver, err := parseDatasetRef(cur); err == nil {
				if v, err := GetVersion(kv, id, ver); err == nil {
					versions = append(versions, v)
				}
			}
		}
		claims = append(claims, ClaimsTo(kv, cur)...)
		for _, e := range EdgesTo(kv, cur) {
			edges = append(edges, e)
			if !seen[e.From] {
				seen[e.From] = true
				frontier = append(frontier, e.From)
			}
		}
	}
	return edges, versions, claims
}
