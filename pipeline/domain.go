package pipeline

import (
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Domain is the pipeline chain domain.
type Domain struct{}

func (Domain) Name() string { return "pipeline" }

func (Domain) Register(r *chain.Router) { chain.Handle(r, create) }

// EndBlock advances running pipelines stage by stage.
func (Domain) EndBlock(ctx *chain.Context) error { return endBlock(ctx) }

// maxListed bounds the pipelines query.
const maxListed = 1000

// Query answers: pipelines | pipeline/<id> | lineage/<ref> (ref: pipeline/<id>,
// model/<id>, claim/<model>.<seq>, dataset/<id>@<v>, label-job/<id>,
// compute-job/<id>, blob/<cid>).
func (Domain) Query(kv store.KV, path string, _ map[string]string) (any, error) {
	kind, arg, _ := strings.Cut(path, "/")
	switch kind {
	case "pipeline":
		id, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "pipeline id %q: want a number", arg)
		}
		return Get(kv, id)
	case "lineage":
		return Lineage(kv, arg)
	case "pipelines":
		// Newest last, at most maxListed: a page for people, not an export.
		out := []Pipeline{}
		chain.Each(kv, prefixPipe, func(_ []byte, p Pipeline) bool {
			out = append(out, p)
			return len(out) < maxListed
		})
		return out, nil
	}
	return nil, chain.Wrap(chain.ErrNotFound, "no pipeline query %q", path)
}
