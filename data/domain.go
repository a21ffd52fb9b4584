package data

import (
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Domain is the data market's chain domain.
type Domain struct{}

func (Domain) Name() string { return "data" }

func (Domain) Register(r *chain.Router) {
	chain.Handle(r, create)
	chain.Handle(r, contribute)
	chain.Handle(r, snapshot)
	chain.Handle(r, buy)
	chain.Handle(r, link)
}

// Contributions is a dataset's batches and the contributors' shares.
type Contributions struct {
	Dataset uint64  `json:"dataset"`
	Batches []Batch `json:"batches"`
	Shares  []Share `json:"shares"`
}

// Query answers: datasets | dataset/<id> | contributions/<id> | grants/<id> |
// versions/<id> | lineage/<ref>.
func (Domain) Query(kv store.KV, path string, _ map[string]string) (any, error) {
	kind, arg, _ := strings.Cut(path, "/")
	if kind == "datasets" {
		var out []Dataset
		chain.Each(kv, []byte("data/ds/"), func(_ []byte, d Dataset) bool {
			out = append(out, d)
			return true
		})
		return out, nil
	}
	if kind == "lineage" {
		edges, versions, claims := Trace(kv, arg)
		if edges == nil {
			edges = []Edge{}
		}
		if claims == nil {
			claims = []Edge{}
		}
		return map[string]any{"ref": arg, "edges": edges, "versions": versions, "unverified": claims}, nil
	}
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		return nil, chain.Wrap(chain.ErrInvalidRequest, "dataset id %q", arg)
	}
	d, err := GetDataset(kv, id)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "dataset":
		return d, nil
	case "contributions":
		c := Contributions{Dataset: id, Batches: []Batch{}, Shares: []Share{}}
		chain.Each(kv, batchPrefix(id), func(_ []byte, b Batch) bool {
			c.Batches = append(c.Batches, b)
			return true
		})
		p := sharePrefix(id)
		kv.Iterate(p, func(k, v []byte) bool {
			var a chain.Address
			copy(a[:], k[len(p):])
			c.Shares = append(c.Shares, Share{Contributor: a, Records: chain.GetUint64(kv, k)})
			return true
		})
		return c, nil
	case "grants":
		out := []Grant{}
		chain.Each(kv, grantPrefix(id), func(_ []byte, g Grant) bool {
			out = append(out, g)
			return true
		})
		return out, nil
	case "versions":
		out := []Version{}
		chain.Each(kv, versionPrefix(id), func(_ []byte, ver Version) bool {
			out = append(out, ver)
			return true
		})
		return out, nil
	}
	return nil, chain.Wrap(chain.ErrNotFound, "no data query %q", path)
}
